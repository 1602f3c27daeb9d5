#!/usr/bin/env python3
"""Runs the Google Benchmark kernels and prints each in MB/s beside `openssl md5` on a file of
the same bytes, timed in the same run.

  kernels.py BUILD_DIR MANIFEST_FILE BLOCK_FILE [--runs R]
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def bench(binary: str, flt: str) -> dict:
    out = subprocess.run([binary, f"--benchmark_filter={flt}", "--benchmark_format=json",
                          "--benchmark_repetitions=3"], check=True, capture_output=True).stdout
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows[b["run_name"]] = b["bytes_per_second"] / 1e6
    return rows


def openssl_mbps(path: str, runs: int) -> float:
    size = os.path.getsize(path)
    times = []
    subprocess.run(["openssl", "md5", path], check=True, capture_output=True)  # page cache
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(["openssl", "md5", path], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return size / statistics.median(times) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("manifest")
    ap.add_argument("block")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    hashes = bench(f"{a.build}/src/cairn/common/common_hash_benchmark", "BM_Md5Block")
    kernels = bench(f"{a.build}/src/cairn/manifest/manifest_manifest_benchmark", ".")
    block_base = openssl_mbps(a.block, a.runs)
    manifest_base = openssl_mbps(a.manifest, a.runs)
    print("| kernel | Cairn MB/s | `openssl md5` MB/s, same bytes | Cairn time ÷ openssl time |")
    print("|---|---:|---:|---:|")
    rows = [("MD5 of a 64 MiB block", hashes.get("BM_Md5Block"), block_base)]
    names = {"BM_Md5OfManifestText": "MD5 of the manifest text (in process)",
             "BM_PortableDataHash": "PDH of a 1,000,000-file manifest",
             "BM_Parse": "parse (validate) it", "BM_Normalize": "normalize it (parse + write)"}
    for key, label in names.items():
        rows.append((label, kernels.get(key + "/real_time"), manifest_base))
    for label, mbps, base in rows:
        if mbps is None:
            print(f"| {label} | (missing) | {base:.0f} | |")
        else:
            print(f"| {label} | {mbps:.0f} | {base:.0f} | {base / mbps:.2f} |")


if __name__ == "__main__":
    main()
