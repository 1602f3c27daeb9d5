#!/usr/bin/env python3
"""Uploads and downloads with `cairn obj cp` beside aws cli, s3cmd and rclone, in one run.

  s3_transfer.py --cairn BUILD/cairn --work DIR [--big-mib 2048] [--small 1000] [--runs 3]

Needs the environment of a running store (`eval "$(scripts/object-store start DIR)"`). For each
workload (one big file; many small files) and direction, every tool runs `--runs` times,
interleaved (cairn, aws, s3cmd, rclone, cairn, …) so machine noise hits all alike. Reported per
tool: median wall time, MB/s, the client's own CPU seconds per GiB (user + system of the tool's
process tree, from wait4) and its peak RSS. Also reported: what the server alone can take, as a
ceiling: a single-stream `curl` PUT/GET of the same bytes (a presigned URL, no client-side
hashing), whose wall time is mostly the server's and loopback's.

Secrets go to the tools through config files and environment, never argv.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GIB = 1 << 30


def run(cmd, env=None):
    """Runs cmd; returns (wall s, cpu s of its process tree, peak RSS MiB).

    GNU time measures: its own fork is tiny, where a fork of this Python process would count
    Python's ~50 MiB into the tool's peak RSS."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name] + cmd, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"s3_transfer: {' '.join(cmd)} failed ({proc.returncode}): "
                     f"{proc.stderr.decode()[-800:]}")
        user, system, rss_kib = stats.read().split()[-3:]
    return wall, float(user) + float(system), int(rss_kib) / 1024


class Tools:
    def __init__(self, args, work):
        self.cairn = os.path.abspath(args.cairn)
        self.endpoint = os.environ["AWS_ENDPOINT_URL"]
        self.key = os.environ["AWS_ACCESS_KEY_ID"]
        self.secret = os.environ["AWS_SECRET_ACCESS_KEY"]
        self.region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        hostport = self.endpoint.split("://", 1)[1].rstrip("/")
        self.s3cfg = os.path.join(work, "s3cfg")
        with open(self.s3cfg, "w") as f:
            f.write(f"[default]\naccess_key = {self.key}\nsecret_key = {self.secret}\n"
                    f"host_base = {hostport}\nhost_bucket = {hostport}\nuse_https = False\n"
                    f"bucket_location = {self.region}\nsignature_v2 = False\n")
        os.chmod(self.s3cfg, 0o600)
        self.curlcfg = os.path.join(work, "curlcfg")
        import boto3  # presigned URLs for the curl ceiling (RGW's access key holds a ':')
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region)
        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)  # rclone 1.60 fails with it (object-store --help)
        env.update({
            "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Ceph",
            "RCLONE_CONFIG_BENCH_ENDPOINT": self.endpoint,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": self.key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": self.secret,
            "RCLONE_CONFIG_BENCH_REGION": self.region,
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        })
        self.rclone_env = env

    def presign(self, method, bucket, key):
        """Puts a presigned URL into curl's config file (not on its command line)."""
        url = self.s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key},
                                             ExpiresIn=3600)
        with open(os.open(self.curlcfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f'url = "{url}"\n')

    def upload(self, tool, src, bucket, key, recursive):
        url = f"s3://{bucket}/{key}"
        if tool == "cairn":
            return run([self.cairn, "obj", "cp"] + (["-r"] if recursive else []) + [src, url])
        if tool == "aws":
            return run(["aws", "s3", "cp", "--quiet"] + (["--recursive"] if recursive else [])
                       + [src, url])
        if tool == "s3cmd":
            return run(["s3cmd", "-c", self.s3cfg, "--no-progress", "put"]
                       + (["--recursive"] if recursive else []) + [src + ("/" if recursive else ""),
                                                                   url + ("/" if recursive else "")])
        if tool == "rclone":
            verb = "copy" if recursive else "copyto"
            # --ignore-times: upload even when an identical object is there already.
            return run(["rclone", verb, "--ignore-times", src, f"bench:{bucket}/{key}"],
                       env=self.rclone_env)
        if tool == "curl":
            self.presign("put_object", bucket, key)
            return run(["curl", "-sSf", "-K", self.curlcfg, "-T", src])
        raise ValueError(tool)

    def download(self, tool, bucket, key, dst, recursive):
        url = f"s3://{bucket}/{key}"
        if tool == "cairn":
            return run([self.cairn, "obj", "cp"] + (["-r"] if recursive else []) + [url, dst])
        if tool == "aws":
            return run(["aws", "s3", "cp", "--quiet"] + (["--recursive"] if recursive else [])
                       + [url, dst])
        if tool == "s3cmd":
            if recursive:
                os.makedirs(dst, exist_ok=True)  # s3cmd wants the directory to exist
            return run(["s3cmd", "-c", self.s3cfg, "--no-progress", "--force", "get"]
                       + (["--recursive"] if recursive else []) + [url + ("/" if recursive else ""),
                                                                   dst + ("/" if recursive else "")])
        if tool == "rclone":
            verb = "copy" if recursive else "copyto"
            return run(["rclone", verb, f"bench:{bucket}/{key}", dst], env=self.rclone_env)
        if tool == "curl":
            self.presign("get_object", bucket, key)
            return run(["curl", "-sSf", "-K", self.curlcfg, "-o", dst])
        raise ValueError(tool)


def table(title, nbytes, results, tools):
    print(f"\n{title} ({nbytes / 1e6:.0f} MB, median of {len(results[tools[0]])} runs; "
          f"load now {os.getloadavg()[0]:.2f})\n")
    print("| tool | wall s | MB/s | client CPU s/GiB | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    med = {}
    for t in tools:
        wall = statistics.median(r[0] for r in results[t])
        cpu = statistics.median(r[1] for r in results[t]) / (nbytes / GIB)
        rss = max(r[2] for r in results[t])
        med[t] = (wall, cpu, rss)
        print(f"| {t} | {wall:.2f} | {nbytes / wall / 1e6:.0f} | {cpu:.2f} | {rss:.0f} |")
    peers = [t for t in tools if t not in ("cairn", "curl")]
    if "cairn" in med and peers:
        fastest = min(peers, key=lambda t: med[t][0])
        frugal = min(peers, key=lambda t: med[t][1])
        print(f"\ncairn wall / fastest peer ({fastest}): {med['cairn'][0] / med[fastest][0]:.2f}; "
              f"cairn CPU / most frugal peer ({frugal}): {med['cairn'][1] / med[frugal][1]:.2f}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", required=True, help="scratch directory for files")
    ap.add_argument("--big-mib", type=int, default=2048)
    ap.add_argument("--small", type=int, default=1000, help="number of 256 KiB files")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="cairn,aws,s3cmd,rclone")
    args = ap.parse_args()
    tools = args.tools.split(",")
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.work)
    t = Tools(args, work)
    bucket = "cairn-bench"
    subprocess.run(["aws", "s3", "mb", f"s3://{bucket}"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    big = os.path.join(args.work, f"big-{args.big_mib}m.bin")
    if not os.path.exists(big) or os.path.getsize(big) != args.big_mib << 20:
        subprocess.run(f"head -c {args.big_mib << 20} /dev/urandom > {big}", shell=True, check=True)
    nbig = os.path.getsize(big)
    small = os.path.join(args.work, f"small-{args.small}")
    if not os.path.isdir(small) or len(os.listdir(small)) != args.small:
        shutil.rmtree(small, ignore_errors=True)
        os.makedirs(small)
        for i in range(args.small):
            with open(os.path.join(small, f"f{i:05d}"), "wb") as f:
                f.write(os.urandom(256 << 10))
    nsmall = args.small * (256 << 10)
    subprocess.run(["cat", big], stdout=subprocess.DEVNULL, check=True)  # warm the page cache

    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; client and server "
          f"share them")
    up = {x: [] for x in tools + ["curl"]}
    down = {x: [] for x in tools + ["curl"]}
    out = os.path.join(work, "out.bin")
    for _ in range(args.runs):
        for tool in tools + ["curl"]:
            up[tool].append(t.upload(tool, big, bucket, f"big-{tool}", recursive=False))
    # Everyone downloads the object aws cli wrote (8 MiB parts: the common multipart layout).
    src_key = "big-aws" if "aws" in tools else f"big-{tools[0]}"
    for _ in range(args.runs):
        for tool in tools + ["curl"]:
            down[tool].append(t.download(tool, bucket, src_key, out, recursive=False))
            os.unlink(out)
    table("upload, one big file", nbig, up, tools + ["curl"])
    table(f"download, one big file (the object written by {src_key[4:]})", nbig, down,
          tools + ["curl"])

    up = {x: [] for x in tools}
    down = {x: [] for x in tools}
    for r in range(args.runs):
        for tool in tools:
            up[tool].append(t.upload(tool, small, bucket, f"small-{tool}-{r}", recursive=True))
    for r in range(args.runs):
        for tool in tools:
            dst = os.path.join(work, f"dl-{tool}")
            down[tool].append(t.download(tool, bucket, f"small-aws-{r}" if "aws" in tools
                                         else f"small-{tools[0]}-{r}", dst, recursive=True))
            shutil.rmtree(dst)
    table(f"upload, {args.small} files of 256 KiB", nsmall, up, tools)
    table(f"download, {args.small} files of 256 KiB", nsmall, down, tools)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
