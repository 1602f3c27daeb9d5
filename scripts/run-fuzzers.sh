#!/usr/bin/env bash
# Runs every libFuzzer target of a CAIRN_FUZZ build briefly, from its seed corpus in
# tests/data/fuzz/<name>/, under the sanitizers it was built with. Fails on any crash.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR SECONDS}
seconds=${2:-20}
cd "$(dirname "$0")/.."
mapfile -t targets < <(find "$build" -type f -name '*_fuzzer' -perm -u+x | sort)
if ((${#targets[@]} == 0)); then
  echo "run-fuzzers: no fuzz targets in $build (configure with -DCAIRN_FUZZ=ON and clang)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  name=$(basename "$t")             # e.g. manifest_locator_fuzzer
  short=${name#*_}; short=${short%_fuzzer}  # locator
  seeds=tests/data/fuzz/$short
  corpus=$work/$name
  mkdir -p "$corpus"
  [[ -d $seeds ]] && cp "$seeds"/* "$corpus"/ 2>/dev/null || true
  dict=()
  [[ -f tests/data/fuzz/$short.dict ]] && dict=(-dict="tests/data/fuzz/$short.dict")
  echo "run-fuzzers: $name for ${seconds}s"
  if ! "$t" "$corpus" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$work/" >"$work/$name.log" 2>&1; then
    tail -n 60 "$work/$name.log" >&2
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
      [[ -f $a ]] && { echo "reproducer ($a):"; od -c "$a" | head -20; } >&2
    done
    echo "run-fuzzers: $name FAILED" >&2
    exit 1
  fi
  grep -E 'stat::number_of_executed_units' "$work/$name.log" || true
done
echo "run-fuzzers: ${#targets[@]} targets ok"
