#!/usr/bin/env bash
# Smoke test of a running object store with third-party clients: aws cli for S3, and the swift
# CLI (Debian python3-swiftclient, which scripts/object-store installs) for Swift. Starts
# nothing; it takes the store from the environment:
#   eval "$(scripts/object-store env)" && scripts/object-store-smoke.sh
# S3: ListBuckets, a wrong secret rejected, make a bucket, put a 10 MiB random file (multipart,
# 2 parts of 8 MiB and 2 MiB with aws cli's defaults), check the multipart ETag, list it, get it
# back and compare, delete it and the bucket. Swift: stat, a wrong key rejected, upload the same
# file as an SLO of 4 MiB segments, list, download and compare, delete.
# Deletes use single-object DELETE: Swift's s3api rejects aws cli's DeleteObjects (no Content-MD5).
# Ends with "object-store-smoke: N passed, M failed"; exit 0 only if nothing failed.
set -uo pipefail

for v in AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
  if [[ -z ${!v:-} ]]; then
    echo "object-store-smoke: $v is not set; first run: eval \"\$(scripts/object-store env)\"" >&2
    exit 2
  fi
done
command -v aws >/dev/null || { echo "object-store-smoke: aws cli not found" >&2; exit 2; }

work=$(mktemp -d)
bucket=cairn-smoke-$(date +%s)-$$
container=$bucket
passed=0
failed=0
trap 'rm -rf "$work"' EXIT

ok() { passed=$((passed + 1)); echo "ok   $1" >&2; }
bad() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}" >&2; }
# check NAME CMD...: the command must succeed (its output is kept in $work/out)
check() {
  local name=$1
  shift
  if "$@" >"$work/out" 2>"$work/err"; then ok "$name"; else bad "$name" "exit $?: $(tail -n 3 "$work/err")"; fi
}
# refused NAME CMD...: the command must fail
refused() {
  local name=$1
  shift
  if "$@" >"$work/out" 2>"$work/err"; then bad "$name" "succeeded"; else ok "$name"; fi
}
same() { # NAME FILE1 FILE2
  if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$2 and $3 differ"; fi
}

head -c $((10 * 1024 * 1024)) /dev/urandom >"$work/up"

echo "object-store-smoke: S3 at $AWS_ENDPOINT_URL (${CAIRN_OBJECT_STORE_BACKEND:-unknown backend})" >&2
s3=(aws --endpoint-url "$AWS_ENDPOINT_URL" --region "${AWS_DEFAULT_REGION:-us-east-1}")
check "s3 list buckets" "${s3[@]}" s3api list-buckets
refused "s3 wrong secret rejected" env AWS_SECRET_ACCESS_KEY=wrong-secret "${s3[@]}" s3api list-buckets
check "s3 make bucket" "${s3[@]}" s3 mb "s3://$bucket"
check "s3 put 10 MiB (multipart)" "${s3[@]}" s3 cp --only-show-errors "$work/up" "s3://$bucket/dir/file.bin"
if "${s3[@]}" s3api head-object --bucket "$bucket" --key dir/file.bin --query '[ContentLength, ETag]' --output text >"$work/head" 2>"$work/err"; then
  read -r len etag <"$work/head"
  if [[ $len == 10485760 && $etag == *-2\" ]]; then ok "s3 head: size and 2-part ETag"; else bad "s3 head" "size $len, ETag $etag"; fi
else
  bad "s3 head" "$(tail -n 3 "$work/err")"
fi
if "${s3[@]}" s3 ls "s3://$bucket/dir/" >"$work/ls" 2>"$work/err" && grep -q ' 10485760 file.bin$' "$work/ls"; then
  ok "s3 list objects"
else
  bad "s3 list objects" "$(cat "$work/ls" "$work/err" | tail -n 3)"
fi
check "s3 get" "${s3[@]}" s3 cp --only-show-errors "s3://$bucket/dir/file.bin" "$work/down"
same "s3 get matches put" "$work/up" "$work/down"
check "s3 delete object" "${s3[@]}" s3api delete-object --bucket "$bucket" --key dir/file.bin
check "s3 delete bucket" "${s3[@]}" s3 rb "s3://$bucket"
refused "s3 bucket is gone" "${s3[@]}" s3api head-bucket --bucket "$bucket"

if [[ -n ${ST_AUTH:-} ]] && command -v swift >/dev/null; then
  echo "object-store-smoke: Swift at $ST_AUTH" >&2
  check "swift stat" swift stat
  refused "swift wrong key rejected" swift --key wrong-key stat
  rm -f "$work/down"
  check "swift upload (SLO, 4 MiB segments)" swift upload --use-slo -S 4194304 --object-name file.bin "$container" "$work/up"
  if swift list "$container" >"$work/ls" 2>"$work/err" && [[ $(cat "$work/ls") == file.bin ]]; then
    ok "swift list"
  else
    bad "swift list" "$(cat "$work/ls" "$work/err" | tail -n 3)"
  fi
  check "swift download" swift download "$container" file.bin -o "$work/down"
  same "swift download matches upload" "$work/up" "$work/down"
  check "swift delete (manifest and segments)" swift delete "$container" file.bin
  check "swift delete container" swift delete "$container"
  check "swift delete segments container" swift delete "${container}_segments"
  refused "swift container is gone" swift stat "$container"
else
  echo "object-store-smoke: swift checks skipped (ST_AUTH unset or no swift CLI)" >&2
fi

echo "object-store-smoke: $passed passed, $failed failed"
((failed == 0))
