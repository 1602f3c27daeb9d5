#!/usr/bin/env bash
# `make bench`: Cairn's format kernels against the strongest peer, side by side in one run.
#   1. Google Benchmark: MD5 of a 64 MiB block, and parse / normalize / PDH of a manifest of
#      1,000,000 files, each in MB/s next to MD5 of the same bytes in the same binary.
#   2. Whole commands on a ~100 MB manifest file: `cairn manifest pdh|normalize|validate` against
#      `openssl md5` of the same file (median of interleaved runs), and MD5 of a 64 MiB block.
#   3. S3 transfers (bench/s3_transfer.py) on a Ceph RGW started here: `cairn obj cp` up and down
#      beside aws cli, s3cmd and rclone (BENCH_S3=0 skips; BENCH_S3_MIB, BENCH_S3_RUNS).
#      In the same RGW: bench/parquet_read.py (ranged reads), bench/fs_ops.py (directory rename and
#      recursive delete beside rclone and aws), bench/external.py (import by reference beside aws s3
#      ls, gateway reads beside obj cp), bench/mpu.py (8 workers, one object, beside cp),
#      bench/mount.py (cairn mount: 1 GiB sequential beside cairn get, 1,000 random 4 KiB reads
#      beside direct ranged GETs).
#   4. Keep (bench/keep.py): cairn put / get of a 4 GiB file and 10,000 x 100 KiB files against a
#      local cairn server, beside openssl md5 and cp (BENCH_KEEP=0 skips; BENCH_KEEP_MIB).
# Usage: bench/run.sh BUILD_DIR   (the Release build; results also go to BUILD_DIR/bench/)
set -euo pipefail
build=$(realpath "${1:?usage: bench/run.sh BUILD_DIR}")
cd "$(dirname "$0")/.."
out=$build/bench
mkdir -p "$out"
cairn=$build/cairn
runs=${BENCH_RUNS:-5}

echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(openssl version)"
manifest=$out/manifest-1m.txt
[[ -s $manifest ]] || python3 bench/make_manifest.py 1000000 >"$manifest"
block=$out/block-64m.bin
[[ -s $block ]] || head -c 67108864 /dev/urandom >"$block"

echo "== kernels (Google Benchmark, median of 3) beside openssl md5 on the same number of bytes"
python3 bench/kernels.py "$build" "$manifest" "$block" --runs "$runs" | tee "$out/kernels.md"
echo
echo "== whole commands against openssl md5 on the same bytes"
bytes=$(stat -c %s "$manifest")
python3 bench/compare.py --runs "$runs" --bytes "$bytes" \
  --title "manifest of 1,000,000 files" --baseline "openssl md5 $manifest" \
  "cairn manifest pdh=$cairn manifest pdh $manifest" \
  "cairn manifest validate=$cairn manifest validate -q $manifest" \
  "cairn manifest normalize=$cairn manifest normalize $manifest" | tee "$out/manifest.md"
shuffled=$out/manifest-1m-shuffled-signed.txt
[[ -s $shuffled ]] || python3 bench/make_manifest.py 1000000 --signed --shuffle >"$shuffled"
bytes=$(stat -c %s "$shuffled")
python3 bench/compare.py --runs "$runs" --bytes "$bytes" \
  --title "same files, signed locators, files in random order" \
  --baseline "openssl md5 $shuffled" \
  "cairn manifest pdh=$cairn manifest pdh $shuffled" \
  "cairn manifest normalize=$cairn manifest normalize $shuffled" | tee "$out/manifest-shuffled.md"

if [[ ${BENCH_S3:-1} != 0 ]]; then
  echo
  echo "== S3 transfers against a local Ceph RGW: cairn obj cp beside aws cli, s3cmd and rclone"
  store=$out/rgw
  trap 'scripts/object-store stop "$store" >/dev/null 2>&1 || true' EXIT
  env_lines=$(CAIRN_OBJECT_STORE_PORT=${BENCH_S3_PORT:-48480} CAIRN_OBJECT_STORE_OSD_GIB=48 \
    scripts/object-store start "$store")
  eval "$env_lines"
  python3 bench/s3_transfer.py --cairn "$cairn" --work "$out/s3" --runs "${BENCH_S3_RUNS:-3}" \
    --big-mib "${BENCH_S3_MIB:-2048}" | tee "$out/s3.md"
  # Parquet-style ranged reads of a 1 GiB object: SeekableReader against one GET per range.
  python3 bench/parquet_read.py --cairn "$cairn" --runs "${BENCH_S3_RUNS:-3}" | tee "$out/parquet.md"
  # Directory rename (2,000 objects) and recursive delete (10,000): cairn vs rclone and aws cli.
  python3 bench/fs_ops.py --cairn "$cairn" --work "$out/fs" --runs "${BENCH_S3_RUNS:-3}" |
    tee "$out/fs_ops.md"
  # Import of 10,000 objects by reference beside aws s3 ls; 1 GiB through the gateway beside obj cp.
  python3 bench/external.py --cairn "$cairn" --work "$out/external" --runs "${BENCH_S3_RUNS:-3}" |
    tee "$out/external.md"
  # One object from 8 workers x 256 MiB (cairn mpu) against one cairn obj cp of the same 2 GiB.
  python3 bench/mpu.py --cairn "$cairn" --work "$out/mpu" --runs "${BENCH_S3_RUNS:-3}" |
    tee "$out/mpu.md"
  rm -rf "$out/mpu"
  # cairn mount (issue 8): 1 GiB external object, cat through the mount beside cairn get; 1,000
  # random 4 KiB preads through the mount beside direct ranged GETs (boto3). Needs /dev/fuse.
  if [[ -w /dev/fuse ]]; then
    python3 bench/mount.py --cairn "$cairn" --work "$out/mount" --runs "${BENCH_S3_RUNS:-3}" |
      tee "$out/mount.md"
    rm -rf "$out/mount"
  fi
  scripts/object-store stop "$store" >/dev/null
  rm -rf "$store" "$out/s3"  # RGW does not punch freed space out of its BlueStore file
fi

if [[ ${BENCH_KEEP:-1} != 0 ]]; then
  echo
  echo "== Keep: cairn put / get against a local cairn server, beside openssl md5 and cp"
  python3 bench/keep.py --cairn "$cairn" --work "$out/keep" --runs "${BENCH_KEEP_RUNS:-3}" \
    --big-mib "${BENCH_KEEP_MIB:-4096}" | tee "$out/keep.md"
  rm -rf "$out/keep"
fi
echo
echo "Record these in docs/benchmarks.md with the command: make bench"
