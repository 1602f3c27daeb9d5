#!/usr/bin/env bash
# Fails if any tracked C++ file differs from clang-format (Google style, 100 columns; .clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=()
while IFS= read -r f; do
  [[ -f $f ]] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.h' '*.cc')
if ((${#bad[@]})); then
  echo "clang-format would change: ${bad[*]}" >&2
  echo "run: make format" >&2
  exit 1
fi
echo "format-check: ok"
