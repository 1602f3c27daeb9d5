#!/usr/bin/env bash
# Runs the integration tests (ctest label `integration`) against real servers on 127.0.0.1:
# starts Ceph RGW with scripts/object-store in a fresh data directory, cross-checks Cairn's S3
# client with the aws CLI both ways, and stops and removes the store whatever happens.
# Usage: scripts/integration-test.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: integration-test.sh BUILD_DIR}")
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-it.XXXXXX")
store=$work/store
cleanup() {
  scripts/object-store stop "$store" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...: counts a step
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}

start=$(date +%s)
# Captured first: under `set -e`, a failed command substitution inside eval would go unnoticed.
env_lines=$(scripts/object-store start "$store")
eval "$env_lines"
echo "integration: object store up in $(( $(date +%s) - start )) s at $AWS_ENDPOINT_URL" >&2

# The aws CLI's side of the exchange: an object it writes for Cairn to read.
export CAIRN_IT_AWS_DIR=$work/aws CAIRN_IT_AWS_BUCKET=cairn-it-aws-$$
mkdir -p "$CAIRN_IT_AWS_DIR"
aws s3 mb "s3://$CAIRN_IT_AWS_BUCKET" >/dev/null
head -c 3000001 /dev/urandom >"$CAIRN_IT_AWS_DIR/from-aws.bin"
aws s3 cp --only-show-errors "$CAIRN_IT_AWS_DIR/from-aws.bin" "s3://$CAIRN_IT_AWS_BUCKET/from-aws.bin"

check "ctest -L integration" ctest --test-dir "$build" -L integration --output-on-failure

# Cairn's side: the multipart object the test wrote must read back byte for byte with the aws CLI.
aws_reads_cairn() {
  aws s3 cp --only-show-errors "s3://$CAIRN_IT_AWS_BUCKET/from-cairn.bin" "$CAIRN_IT_AWS_DIR/from-cairn.got" &&
    cmp "$CAIRN_IT_AWS_DIR/from-cairn.expected" "$CAIRN_IT_AWS_DIR/from-cairn.got"
}
check "aws s3 cp reads what Cairn wrote" aws_reads_cairn
no_uploads_left() {
  local left
  left=$(aws s3api list-multipart-uploads --bucket "$CAIRN_IT_AWS_BUCKET" --query 'Uploads' --output text)
  [[ -z $left || $left == None ]]
}
check "no multipart upload left behind" no_uploads_left
aws s3 rb --force "s3://$CAIRN_IT_AWS_BUCKET" >/dev/null

echo "integration: $passed passed, $failed failed"
((failed == 0))
