#!/usr/bin/env python3
"""Data that lives elsewhere (issue 7): import by reference and reads through the gateway.

  external.py --cairn BUILD/cairn --work DIR [--objects 10000] [--big-mib 1024] [--runs 3]

Needs the environment of a running S3 store (`eval "$(scripts/object-store start DIR)"`). Starts
`cairn server` on a private port, uploads --objects small objects (boto3, 16 threads) and one
--big-mib object, then, interleaved run by run:
  import:  `cairn import s3://bucket/many/` beside `aws s3 ls --recursive` of the same prefix (the
           listing floor: both need the same ListObjectsV2 pages, reported as requests)
  gateway: `cairn get` of the imported big object (through the gateway keep service, no cloud
           credentials) beside `cairn obj cp` of the same object straight from the store
Reports medians of wall time, client CPU and peak RSS (GNU time), and the ratios.
"""
import argparse
import concurrent.futures
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

MIB = 1 << 20


def run(cmd, env=None):
    """(wall s, CPU s, peak RSS MiB, stdout) of cmd, measured by GNU time."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name] + cmd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            sys.exit(f"external bench: {' '.join(cmd)} failed: {p.stderr.decode()[-800:]}")
        user, system, rss = stats.read().split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024, p.stdout.decode()


def table(title, rows, baseline, unit_count=None, unit=""):
    print(f"\n{title}\n")
    print("| command | wall s | CPU s | peak RSS MiB | "
          + (f"{unit}/s | " if unit_count else "") + f"time / {baseline} |")
    print("|---|---:|---:|---:|" + ("---:|" if unit_count else "") + "---:|")
    base = statistics.median(r[0] for r in rows[baseline])
    for name, rs in rows.items():
        wall = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        rss = max(r[2] for r in rs)
        rate = f" {unit_count / wall:,.0f} |" if unit_count else ""
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} |{rate} {wall / base:.2f} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cairn = os.path.abspath(args.cairn)
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.work)
    bucket = f"cairn-bench-ext-{os.getpid()}"
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    s3.create_bucket(Bucket=bucket)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(work, "server.log"), "wb")
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen([cairn, "server", "--data", os.path.join(work, "srv"), "--listen",
                               f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                              env=server_env)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_health/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = open(os.path.join(work, "srv", "admin.token")).read().strip()
        env = dict(os.environ, CAIRN_API_HOST=f"127.0.0.1:{port}", CAIRN_API_TOKEN=token,
                   HOME=os.path.join(work, "home"))
        # The reading side has no cloud credentials at all.
        reader_env = {k: v for k, v in env.items() if not k.startswith("AWS_")}

        print(f"== import: uploading {args.objects} objects and one of {args.big_mib} MiB",
              file=sys.stderr)
        body = b"x" * 1024
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"many/d{i % 100:02d}/"
                                                  f"obj-{i:06d}", Body=body),
                          range(args.objects)))
        big = os.path.join(work, "big.bin")
        with open(big, "wb") as f:
            for _ in range(args.big_mib):
                f.write(os.urandom(MIB))
        subprocess.run([cairn, "obj", "cp", "-q", big, f"s3://{bucket}/big/big.bin"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([cairn, "remote", "add", "bench", "--buckets", bucket], env=env,
                       check=True, stdout=subprocess.DEVNULL)

        imports = {"aws s3 ls --recursive": [], "cairn import": []}
        pdhs = set()
        for _ in range(args.runs):
            imports["aws s3 ls --recursive"].append(
                run(["aws", "s3", "ls", "--recursive", f"s3://{bucket}/many/"], env=env))
            r = run([cairn, "import", f"s3://{bucket}/many/"], env=env)
            pdhs.add(r[3].split()[1])
            imports["cairn import"].append(r)
        if len(pdhs) != 1:
            sys.exit(f"external bench: re-imports gave different PDHs: {pdhs}")
        pages = (args.objects + 999) // 1000
        table(f"import of {args.objects:,} objects by reference (median of {args.runs}; both "
              f"send {pages} ListObjectsV2 pages; cairn also saves the collection)",
              imports, "aws s3 ls --recursive", args.objects, "objects")

        uuid = run([cairn, "import", f"s3://{bucket}/big/"], env=env)[3].split()[0]
        reads = {"cairn obj cp (direct)": [], "cairn get (gateway)": []}
        for i in range(args.runs):
            for name in reads:
                dest = os.path.join(work, f"got-{i}")
                shutil.rmtree(dest, ignore_errors=True)
                if name.startswith("cairn obj"):
                    os.makedirs(dest)
                    cmd = [cairn, "obj", "cp", "-q", f"s3://{bucket}/big/big.bin", dest + "/"]
                    reads[name].append(run(cmd, env=env))
                else:
                    cmd = [cairn, "get", "-q", uuid, dest]
                    reads[name].append(run(cmd, env=reader_env))
                got = os.path.join(dest, "big.bin")
                if os.path.getsize(got) != args.big_mib * MIB:
                    sys.exit(f"external bench: {name} wrote {os.path.getsize(got)} bytes")
                shutil.rmtree(dest)
        table(f"reading {args.big_mib} MiB imported by reference (median of {args.runs}; "
              "client and gateway share the cores)", reads, "cairn obj cp (direct)")
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["aws", "s3", "rb", "--force", f"s3://{bucket}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
