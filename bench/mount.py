#!/usr/bin/env python3
"""`cairn mount` reads of an external S3 object beside `cairn get` and direct ranged GETs.

  mount.py --cairn BUILD/cairn --work DIR [--mib 1024] [--reads 1000] [--runs 3]

Needs an S3 store in the environment (AWS_ENDPOINT_URL etc., as `scripts/object-store start`
prints; bench/run.sh runs this in its RGW section). Starts `cairn server` on a private port,
uploads a random object of --mib MiB with boto3, imports it by reference (`cairn remote add`,
`cairn import`), then, each on a fresh mount (cold block cache and page cache):
  sequential: `cat` of the file through the mount against `cairn get` of the same file (median
              of --runs, MB/s, and the mount's share of cairn get's);
  random:     --reads random 4 KiB preads through the mount (latency p50/p99, bytes the mount
              fetched per read, from its user.cairn.stats xattr) against the same number of
              direct ranged GETs of 4 KiB from the object store (boto3 get_object Range).
The mount and `cairn get` read through the gateway of `cairn server` (no AWS_* variables).
Then the same bytes as Cairn's own blocks (`cairn put`), --runs times with a fresh disk cache:
  `cairn get`, `cat` through a fresh mount (cold: blocks fetched from the keepstore and written
  to the disk block cache) and `cat` through a second fresh mount on the same --disk-cache-dir
  (warm disk cache, cold memory cache).
"""
import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
            "AWS_PROFILE")


def mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def fetched(mnt):
    s = json.loads(os.getxattr(mnt, "user.cairn.stats"))
    return s["block_bytes"] + s["range_bytes"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--reads", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL"):
        sys.exit("mount bench: needs an S3 store (AWS_ENDPOINT_URL)")
    import boto3
    cairn = os.path.abspath(args.cairn)
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.work)
    os.chmod(work, 0o755)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = os.path.join(work, "server")
    log = open(os.path.join(work, "server.log"), "wb")
    server_env = {k: v for k, v in os.environ.items() if k not in AWS_VARS}
    server = subprocess.Popen([cairn, "server", "--data", data_dir, "--listen",
                               f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                              env=server_env)
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = f"cairn-bench-mount-{os.getpid()}"
    key = "bench/data.bin"
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    try:
        for _ in range(200):
            try:
                if os.path.exists(os.path.join(data_dir, "admin.token")):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_health/ping", timeout=1)
                    break
            except OSError:
                pass
            time.sleep(0.1)
        with open(os.path.join(data_dir, "admin.token")) as f:
            admin = f.read().strip()
        env = dict(os.environ, CAIRN_API_HOST=f"127.0.0.1:{port}", CAIRN_API_TOKEN=admin,
                   HOME=os.path.join(work, "home"))
        env.pop("XDG_CACHE_HOME", None)  # the mounts' disk cache stays under work/home
        noaws = {k: v for k, v in env.items() if k not in AWS_VARS}

        src = os.path.join(work, "src.bin")
        subprocess.run(f"head -c {args.mib << 20} /dev/urandom > {src}", shell=True, check=True)
        s3.create_bucket(Bucket=bucket)
        s3.upload_file(src, bucket, key)
        subprocess.run([cairn, "remote", "add", "store", "--endpoint",
                        os.environ["AWS_ENDPOINT_URL"], "--buckets", bucket], env=env, check=True,
                       capture_output=True)
        out = subprocess.run([cairn, "import", f"s3://{bucket}/bench/", "--name", "bench"],
                             env=env, check=True, capture_output=True).stdout.decode().split()
        uuid = out[0]
        path = os.path.join(mnt, "by_id", uuid, "data.bin")
        nbytes = args.mib << 20

        def mount(*extra):
            subprocess.run([cairn, "mount", mnt, *extra], env=noaws, check=True,
                           capture_output=True)

        def unmount():
            subprocess.run(["fusermount3", "-u", mnt], check=True, capture_output=True)
            for _ in range(100):
                if not mounted(mnt):
                    return
                time.sleep(0.1)

        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        seq = {"cairn get": [], "cat through cairn mount": []}
        for _ in range(args.runs):
            got = os.path.join(work, "got.bin")
            start = time.perf_counter()
            subprocess.run([cairn, "get", "-q", f"{uuid}/data.bin", got], env=noaws, check=True)
            seq["cairn get"].append(time.perf_counter() - start)
            os.unlink(got)
            mount()
            try:
                start = time.perf_counter()
                subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
                seq["cat through cairn mount"].append(time.perf_counter() - start)
            finally:
                unmount()
        print(f"\nsequential read of one {nbytes / 1e6:.0f} MB external S3 object through the "
              f"gateway (median of {args.runs}, cold mount each run)\n")
        print("| command | wall s | MB/s | share of cairn get |")
        print("|---|---:|---:|---:|")
        base = statistics.median(seq["cairn get"])
        for name, ts in seq.items():
            t = statistics.median(ts)
            print(f"| {name} | {t:.2f} | {nbytes / t / 1e6:.0f} | {base / t:.2f} |")

        rng = random.Random(1)
        offsets = [rng.randrange(1, nbytes - 4096) for _ in range(args.reads)]
        with open(src, "rb") as f:
            want = []
            for o in offsets:
                f.seek(o)
                want.append(f.read(4096))
        mount()
        try:
            before = fetched(mnt)
            fd = os.open(path, os.O_RDONLY)
            lat, bad = [], 0
            for o, w in zip(offsets, want):
                start = time.perf_counter()
                b = os.pread(fd, 4096, o)
                lat.append(time.perf_counter() - start)
                bad += b != w
            os.close(fd)
            per_read = (fetched(mnt) - before) / args.reads
        finally:
            unmount()
        direct, dbad = [], 0
        for o, w in zip(offsets, want):
            start = time.perf_counter()
            b = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={o}-{o + 4095}")["Body"].read()
            direct.append(time.perf_counter() - start)
            dbad += b != w
        print(f"\n{args.reads} random 4 KiB reads of the same object (fresh mount)\n")
        print("| reader | p50 ms | p99 ms | reads/s | bytes fetched per read | wrong |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| pread through cairn mount (gateway) | {pct(lat, 50) * 1e3:.2f} | "
              f"{pct(lat, 99) * 1e3:.2f} | {len(lat) / sum(lat):.0f} | "
              f"{per_read / 1024:.0f} KiB | {bad} |")
        print(f"| boto3 get_object Range (direct) | {pct(direct, 50) * 1e3:.2f} | "
              f"{pct(direct, 99) * 1e3:.2f} | {len(direct) / sum(direct):.0f} | 4 KiB | {dbad} |")
        sys.stdout.flush()

        # Cairn's own blocks: a first read fills the disk cache, a second mount reads from it.
        local = subprocess.run([cairn, "put", "-q", src, "--name", "bench-local"], env=env,
                               check=True, capture_output=True).stdout.decode().split()[0]
        lpath = os.path.join(mnt, "by_id", local, "src.bin")
        times = {"cairn get": [], "cat through cairn mount, cold": [],
                 "cat through cairn mount, warm disk cache": []}
        for run in range(args.runs):
            got = os.path.join(work, "got.bin")
            start = time.perf_counter()
            subprocess.run([cairn, "get", "-q", f"{local}/src.bin", got], env=noaws, check=True)
            times["cairn get"].append(time.perf_counter() - start)
            os.unlink(got)
            cache_dir = os.path.join(work, f"disk-cache-{run}")
            for name in list(times)[1:]:
                mount("--disk-cache-dir", cache_dir)
                try:
                    start = time.perf_counter()
                    subprocess.run(["cat", lpath], stdout=subprocess.DEVNULL, check=True)
                    times[name].append(time.perf_counter() - start)
                finally:
                    unmount()
            shutil.rmtree(cache_dir, ignore_errors=True)
        print(f"\nsequential read of the same {nbytes / 1e6:.0f} MB as Cairn blocks (cairn put; "
              f"median of {args.runs}, fresh mount each read)\n")
        print("| command | wall s | MB/s | share of cairn get |")
        print("|---|---:|---:|---:|")
        base = statistics.median(times["cairn get"])
        for name, ts in times.items():
            t = statistics.median(ts)
            print(f"| {name} | {t:.2f} | {nbytes / t / 1e6:.0f} | {base / t:.2f} |")
        sys.stdout.flush()
    finally:
        if mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", mnt], capture_output=True)
        server.terminate()
        server.wait(timeout=30)
        try:
            s3.delete_object(Bucket=bucket, Key=key)
            s3.delete_bucket(Bucket=bucket)
        except Exception:  # noqa: BLE001 -- best effort
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
