#!/usr/bin/env bash
# `cairn mpu` end to end with real processes: N workers run through `xargs -P` (as any scheduler
# would run them), presigned so that the workers have no credentials at all; then a worker that
# fails and a worker that is killed, which must leave nothing behind. Needs a running S3 store in
# the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...), e.g. from scripts/integration-test.sh.
# Usage: scripts/mpu-xargs-test.sh BUILD_DIR
set -euo pipefail
cairn=$(realpath "${1:?usage: mpu-xargs-test.sh BUILD_DIR}")/cairn
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-mpu.XXXXXX")
bucket=cairn-mpu-xargs-$$
cleanup() {
  "$cairn" obj rb --force "s3://$bucket" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
failed=0
fail() { echo "FAIL: mpu-xargs: $*" >&2; failed=1; }
no_uploads_left() {
  [[ $(aws s3api list-multipart-uploads --bucket "$bucket" --query 'Uploads' --output text) == None ]] &&
    [[ -z $(aws s3 ls --recursive "s3://$bucket/$1.cairn-mpu/") ]]
}

"$cairn" obj mb "s3://$bucket" >/dev/null
# Six partitions: large with a tail, empty, small, medium, large, small (sizes in bytes).
sizes=(12000000 0 1000 7000000 11534336 4242)
for i in "${!sizes[@]}"; do head -c "${sizes[$i]}" /dev/urandom >"p$i"; done

# 1. Presigned workers through xargs -P, with every AWS variable removed from their environment.
"$cairn" mpu begin "s3://$bucket/all.bin" --workers ${#sizes[@]} --presign --deadline 10m \
  --session-out session.json
[[ $(stat -c %a session.json) == 600 ]] || fail "a presigned session must be mode 0600"
mkdir receipts
seq 0 $((${#sizes[@]} - 1)) | xargs -P "${#sizes[@]}" -I{} \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
  HOME="$work/nohome" sh -c "'$cairn' mpu put --session session.json --worker {} p{} >receipts/{}.json" ||
  fail "a presigned worker failed"
if "$cairn" mpu complete --session session.json --receipts receipts >done.json; then
  cat p0 p1 p2 p3 p4 p5 >expected
  cmp expected <("$cairn" obj cat "s3://$bucket/all.bin") || fail "the object is not p0..p5 concatenated"
  grep -q "\"size\":$(stat -c %s expected)" done.json || fail "complete reported another size"
else
  fail "complete of the presigned run"
fi
no_uploads_left all.bin || fail "uploads or head pieces left after complete"

# 2. A worker that fails (its input does not exist): complete aborts at once and names it.
"$cairn" mpu begin "s3://$bucket/failed.bin" --workers 3 --session-out s2.json
mkdir r2
printf '%s\n' 0 1 2 | xargs -P3 -I{} sh -c "'$cairn' mpu put --session s2.json --worker {} \
  \$( [ {} = 1 ] && echo missing-file || echo p{} ) >r2/{}.json 2>/dev/null" && fail "xargs hid the failure"
if "$cairn" mpu complete --session s2.json --receipts r2 2>err2.txt; then
  fail "complete succeeded with a failed worker"
else
  grep -q "worker 1 failed" err2.txt || fail "the message does not name worker 1: $(cat err2.txt)"
fi
no_uploads_left failed.bin || fail "uploads or head pieces left after a failed worker"

# 3. A worker killed in the middle (no receipt at all): complete waits for the deadline, aborts.
"$cairn" mpu begin "s3://$bucket/killed.bin" --workers 2 --deadline 6s --session-out s3.json
mkdir r3
"$cairn" mpu put --session s3.json --worker 0 p0 >r3/0.json
mkfifo fifo
{ head -c 6000000 /dev/urandom; sleep 30; } >fifo &  # a partition that never ends
writer=$!
"$cairn" mpu put --session s3.json --worker 1 fifo >r3/1.json 2>/dev/null &
worker=$!
sleep 2  # the worker has uploaded its head piece and waits for more input
{ kill -9 "$worker" "$writer" && wait "$worker" "$writer"; } 2>/dev/null || true
if "$cairn" mpu complete --session s3.json --receipts r3 2>err3.txt; then
  fail "complete succeeded without worker 1"
else
  grep -q "no receipt from worker 1 by the deadline" err3.txt || fail "unexpected: $(cat err3.txt)"
fi
no_uploads_left killed.bin || fail "uploads or head pieces left after a killed worker"
"$cairn" mpu status --session s3.json | grep -q '"state": "gone"' || fail "status after abort"

[[ $failed == 0 ]] && echo "mpu-xargs: ok (presigned workers via xargs -P, failed and killed workers)"
exit $failed
