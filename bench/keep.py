#!/usr/bin/env python3
"""`cairn put` and `cairn get` against a local `cairn server`, beside the ceilings, in one run.

  keep.py --cairn BUILD/cairn --work DIR [--big-mib 4096] [--small 10000] [--runs 3]

Starts `cairn server` on a private port with its data in DIR, then, interleaved run by run:
  one big file:  openssl md5 of it (the hashing ceiling), cp to the same disk, cairn put, cairn get
  many small files (100 KiB each): cp -r, cairn put, cairn get
Reports median wall time, MB/s, files/s, the client's CPU seconds and peak RSS (GNU time), and
cairn's throughput as a share of openssl md5's. Client and server share this machine's cores.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def run(cmd, env=None):
    """(wall s, client CPU s, peak RSS MiB) of cmd, measured by GNU time."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", stats.name] + cmd, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            sys.exit(f"keep bench: {' '.join(cmd)} failed: {p.stderr.decode()[-800:]}")
        user, system, rss = stats.read().split()[-3:]
    return wall, float(user) + float(system), int(rss) / 1024


def table(title, nbytes, nfiles, results, baseline):
    runs = len(next(iter(results.values())))
    print(f"\n{title} ({nbytes / 1e6:.0f} MB in {nfiles} file{'s' if nfiles > 1 else ''}, "
          f"median of {runs} runs)\n")
    print("| command | wall s | MB/s | files/s | client CPU s | peak RSS MiB | share of "
          f"{baseline} MB/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = statistics.median(r[0] for r in results[baseline])
    for name, rs in results.items():
        wall = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        rss = max(r[2] for r in rs)
        print(f"| {name} | {wall:.2f} | {nbytes / wall / 1e6:.0f} | {nfiles / wall:.0f} | "
              f"{cpu:.2f} | {rss:.0f} | {base / wall:.2f} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--big-mib", type=int, default=4096)
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cairn = os.path.abspath(args.cairn)
    os.makedirs(args.work, exist_ok=True)
    work = tempfile.mkdtemp(dir=args.work)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(work, "server")
    log = open(os.path.join(work, "server.log"), "wb")
    server = subprocess.Popen([cairn, "server", "--data", data, "--listen", f"127.0.0.1:{port}"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_health/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        env = dict(os.environ, CAIRN_API_HOST=f"127.0.0.1:{port}",
                   HOME=os.path.join(work, "home"))
        with open(os.path.join(data, "admin.token")) as f:
            env["CAIRN_API_TOKEN"] = f.read().strip()

        big_dir = os.path.join(args.work, f"big-{args.big_mib}")
        big = os.path.join(big_dir, "big.bin")
        if not os.path.exists(big) or os.path.getsize(big) != args.big_mib << 20:
            os.makedirs(big_dir, exist_ok=True)
            subprocess.run(f"head -c {args.big_mib << 20} /dev/urandom > {big}", shell=True,
                           check=True)
        small = os.path.join(args.work, f"small-{args.small}")
        if not os.path.isdir(small) or len(os.listdir(small)) != args.small:
            shutil.rmtree(small, ignore_errors=True)
            os.makedirs(small)
            for i in range(args.small):
                with open(os.path.join(small, f"f{i:05d}"), "wb") as f:
                    f.write(os.urandom(100 << 10))
        print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")

        def bench(src, nbytes, nfiles, title, with_md5):
            res = {}
            if with_md5:
                res["openssl md5"] = []
            res.update({"cp": [], "cairn put": [], "cairn get": []})
            subprocess.run(["cat", src] if os.path.isfile(src) else ["true"],
                           stdout=subprocess.DEVNULL)
            for _ in range(args.runs):
                if with_md5:
                    res["openssl md5"].append(run(["openssl", "md5", src]))
                dst = os.path.join(work, "cp")
                res["cp"].append(run(["cp", "-r", src, dst]))
                shutil.rmtree(dst) if os.path.isdir(dst) else os.unlink(dst)
                # --no-resume: every run sends every block (no resume cache short-cut).
                res["cairn put"].append(run([cairn, "put", "-q", "--no-resume", src], env=env))
                out = subprocess.run([cairn, "ls"], env=env, capture_output=True, check=True)
                uuid = out.stdout.decode().split()[0]
                got = os.path.join(work, "got")
                res["cairn get"].append(run([cairn, "get", "-q", uuid, got], env=env))
                shutil.rmtree(got)
            table(title, nbytes, nfiles, res, "openssl md5" if with_md5 else "cp")

        bench(big, args.big_mib << 20, 1, "one big file", True)
        bench(small, args.small * (100 << 10), args.small, "many small files", False)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
