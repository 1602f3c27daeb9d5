#!/usr/bin/env python3
"""Directory rename and recursive delete: `cairn obj mv -r` / `rm -r` beside rclone and aws cli.

  fs_ops.py --cairn BUILD/cairn --work DIR [--rename 2000] [--delete 10000] [--runs 3]

Needs the environment of a running store (`eval "$(scripts/object-store start DIR)"`). Each run
uploads a fresh prefix of small objects (untimed, with `cairn obj cp -r`), then times one tool:
  rename  cairn obj mv -r s3://b/src s3://b/dst | rclone moveto | aws s3 mv --recursive
  delete  cairn obj rm -r s3://b/src             | rclone purge  | aws s3 rm --recursive
Tools are interleaved run by run (cairn, rclone, aws, cairn, ...). cairn and rclone get 16
requests in flight (--jobs 16; --transfers 16 --checkers 16); aws its default (10). Prints a
markdown table: median wall time, objects/s, and each tool's time over cairn's.
Secrets reach the tools through the environment, never argv.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def run(cmd, env=None):
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"fs_ops: {' '.join(cmd)} failed ({proc.returncode}): "
                 f"{proc.stderr.decode()[-800:]}")
    return wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rename", type=int, default=2000)
    ap.add_argument("--delete", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="cairn,rclone,aws")
    args = ap.parse_args()
    cairn = os.path.abspath(args.cairn)
    tools = args.tools.split(",")
    os.makedirs(args.work, exist_ok=True)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)  # rclone 1.60 fails with it
    env.update({
        "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Ceph",
        "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "RCLONE_CONFIG_BENCH_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
    })
    bucket = f"fs-bench-{os.getpid()}"
    run([cairn, "obj", "mb", f"s3://{bucket}"], env)

    # Local trees of small objects (1 KiB each, in 10 subdirectories), uploaded before each run.
    def tree(count):
        path = os.path.join(args.work, f"tree-{count}")
        if not os.path.isdir(path):
            for i in range(count):
                d = os.path.join(path, f"d{i % 10}")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
                    f.write(os.urandom(1024))
        return path

    def populate(local, prefix):
        run([cairn, "obj", "cp", "-r", "-q", "--files", "32", local, f"s3://{bucket}/{prefix}"],
            env)

    rclone_flags = ["--transfers", "16", "--checkers", "16"]
    commands = {
        ("rename", "cairn"): lambda s, d: [cairn, "obj", "mv", "-r", "-q", "--jobs", "16",
                                           f"s3://{bucket}/{s}", f"s3://{bucket}/{d}"],
        ("rename", "rclone"): lambda s, d: ["rclone", "moveto", *rclone_flags,
                                            f"bench:{bucket}/{s}", f"bench:{bucket}/{d}"],
        ("rename", "aws"): lambda s, d: ["aws", "s3", "mv", "--recursive", "--only-show-errors",
                                         f"s3://{bucket}/{s}/", f"s3://{bucket}/{d}/"],
        ("delete", "cairn"): lambda s, d: [cairn, "obj", "rm", "-r", "--jobs", "16",
                                           f"s3://{bucket}/{s}"],
        ("delete", "rclone"): lambda s, d: ["rclone", "purge", *rclone_flags,
                                            f"bench:{bucket}/{s}"],
        ("delete", "aws"): lambda s, d: ["aws", "s3", "rm", "--recursive", "--only-show-errors",
                                         f"s3://{bucket}/{s}/"],
    }

    def count(prefix):
        out = subprocess.run([cairn, "obj", "ls", "-r", f"s3://{bucket}/{prefix}/"], env=env,
                             capture_output=True, check=True).stdout
        return len(out.splitlines())

    results = {}
    for workload, n in (("rename", args.rename), ("delete", args.delete)):
        local = tree(n)
        for r in range(args.runs):
            for tool in tools:
                src, dst = f"{workload}-{tool}-{r}-src", f"{workload}-{tool}-{r}-dst"
                populate(local, src)
                wall = run(commands[(workload, tool)](src, dst), env)
                # Check what the tool did before counting its time.
                left = count(src)
                moved = count(dst) if workload == "rename" else n
                if left != 0 or moved != n:
                    sys.exit(f"fs_ops: {tool} {workload}: {left} left at the source, {moved} of "
                             f"{n} at the destination")
                results.setdefault((workload, n), {}).setdefault(tool, []).append(wall)
                if workload == "rename":
                    run([cairn, "obj", "rm", "-r", f"s3://{bucket}/{dst}"], env)
    run([cairn, "obj", "rb", "--force", f"s3://{bucket}"], env)

    print(f"median of {args.runs} runs, interleaved; objects of 1 KiB on Ceph RGW at {endpoint}\n")
    print("| workload | tool | wall s | objects/s | time / cairn |")
    print("|---|---|---:|---:|---:|")
    for (workload, n), by_tool in results.items():
        base = statistics.median(by_tool["cairn"]) if "cairn" in by_tool else None
        for tool, walls in by_tool.items():
            m = statistics.median(walls)
            ratio = f"{m / base:.2f}x" if base else "-"
            label = (f"rename dir of {n:,}" if workload == "rename" else f"delete {n:,}")
            print(f"| {label} | {tool} | {m:.2f} | {n / m:,.0f} | {ratio} |")
    for (workload, n), by_tool in results.items():
        if "cairn" in by_tool and len(by_tool) > 1:
            best_peer = min(statistics.median(w) for t, w in by_tool.items() if t != "cairn")
            speedup = best_peer / statistics.median(by_tool["cairn"])
            print(f"\n{workload}: cairn is {speedup:.2f}x faster than the faster peer")


if __name__ == "__main__":
    main()
