#!/usr/bin/env python3
"""Parquet-style reads of one large object (issue 5, item 6a): requests and bytes fetched.

  parquet_read.py --cairn BUILD/cairn [--mib 1024] [--ranges 20] [--runs 3] [--seed 7]

Needs the environment of a running store (`eval "$(scripts/object-store start DIR)"`). Writes a
--mib MiB object of random bytes, then reads what a Parquet reader reads — the last 64 KiB (the
footer), then --ranges random 1 MiB ranges (column chunks; fixed seed) — with
`cairn obj read-ranges` in each mode:

  naive       one plain GET per range (a reader without a buffer)
  reader      objstore::SeekableReader, adaptive policy, one ReadAt per range
  vectored    SeekableReader::ReadVectored: all ranges at once, nearby ones coalesced, 4 in flight
  sequential  SeekableReader with the sequential policy (always reads ahead), for contrast

Modes run interleaved --runs times; the table shows requests (the HEAD included), bytes fetched
over bytes asked and the median wall time. Every mode must return the same bytes (MD5 compared).
Target: the reader fetches under 2x the bytes asked.
"""
import argparse
import json
import random
import statistics
import subprocess
import sys

MIB = 1 << 20

MODES = [
    ("naive", ["--naive"]),
    ("reader", []),
    ("vectored", ["--vectored"]),
    ("sequential", ["--policy", "sequential"]),
]


def cairn(args, binary, stdin=None):
    proc = subprocess.run([binary] + args, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        sys.exit(f"parquet_read: cairn {' '.join(args)} failed ({proc.returncode}): "
                 f"{proc.stderr.decode()[-800:]}")
    return proc.stdout.decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairn", required=True)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--ranges", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bucket", default="cairn-bench-parquet")
    args = parser.parse_args()

    size = args.mib * MIB
    url = f"s3://{args.bucket}/table.parquet"
    subprocess.run([args.cairn, "obj", "mb", f"s3://{args.bucket}"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fine if it exists
    head = subprocess.Popen(["head", "-c", str(size), "/dev/urandom"], stdout=subprocess.PIPE)
    cairn(["obj", "cp", "-q", "-", url], args.cairn, stdin=head.stdout)
    head.wait()

    rng = random.Random(args.seed)
    ranges = [f"-{64 << 10}:{64 << 10}"]
    ranges += [f"{rng.randrange(0, size - MIB)}:{MIB}" for _ in range(args.ranges)]
    spec = ",".join(ranges)

    results = {name: [] for name, _ in MODES}
    for _ in range(args.runs):
        for name, flags in MODES:
            out = cairn(["obj", "read-ranges", url, "--ranges", spec, "--json"] + flags,
                        args.cairn)
            results[name].append(json.loads(out))
    digests = {r["md5"] for runs in results.values() for r in runs}
    if len(digests) != 1:
        sys.exit(f"parquet_read: the modes returned different bytes: {sorted(digests)}")

    print(f"Parquet-style read of a {args.mib} MiB object: the last 64 KiB, then {args.ranges} "
          f"random 1 MiB ranges (seed {args.seed}); median of {args.runs} runs, every mode "
          f"returned the same bytes.\n")
    print("| reader | requests | bytes fetched | fetched / asked | wall |")
    print("|---|---:|---:|---:|---:|")
    asked = results["naive"][0]["bytes_asked"]
    for name, _ in MODES:
        runs = results[name]
        wall = statistics.median(r["wall_seconds"] for r in runs)
        fetched = runs[0]["bytes_fetched"]
        print(f"| {name} | {runs[0]['requests']} | {fetched / MIB:.2f} MiB | "
              f"{fetched / asked:.3f} | {wall * 1000:.0f} ms |")
    ratio = results["reader"][0]["bytes_fetched"] / asked
    print(f"\nbytes asked: {asked / MIB:.2f} MiB; reader fetched {ratio:.3f}x what was asked "
          f"(target < 2x): {'met' if ratio < 2 else 'NOT MET'}")

    cairn(["obj", "rm", url], args.cairn)
    subprocess.run([args.cairn, "obj", "rb", f"s3://{args.bucket}"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
