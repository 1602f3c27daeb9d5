#!/usr/bin/env python3
"""Times commands side by side in one run and prints MB/s and ratios to a baseline.

  compare.py --bytes N --runs R --baseline 'openssl md5 FILE' NAME='cmd …' NAME='cmd …'

Each command runs R times, interleaved (baseline, a, b, baseline, a, b, …) so that machine noise
hits all of them alike; the median wall time of each is reported. Output is a Markdown table.
"""
import argparse
import statistics
import subprocess
import sys
import time


def run(cmd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"compare: `{cmd}` failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bytes", type=int, required=True, help="bytes each command processes")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--title", default="")
    ap.add_argument("commands", nargs="+", help="NAME=command")
    args = ap.parse_args()
    named = [("baseline: " + args.baseline, args.baseline)]
    for c in args.commands:
        name, _, cmd = c.partition("=")
        named.append((name, cmd))
    run(args.baseline)  # warm the page cache
    times = {name: [] for name, _ in named}
    for _ in range(args.runs):
        for name, cmd in named:
            times[name].append(run(cmd))
    base = statistics.median(times[named[0][0]])
    if args.title:
        print(f"\n{args.title} ({args.bytes / 1e6:.1f} MB, median of {args.runs} runs)\n")
    print("| command | median s | MB/s | × baseline time |")
    print("|---|---:|---:|---:|")
    for name, _ in named:
        med = statistics.median(times[name])
        print(f"| {name} | {med:.3f} | {args.bytes / med / 1e6:.0f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
