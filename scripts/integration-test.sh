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
# PostgreSQL for the catalog suite: its own directory, which the postgres user must reach.
pg=$(mktemp -d "${TMPDIR:-/tmp}/cairn-it-pg.XXXXXX")
chmod 755 "$pg"
swift_store=$work/swift  # OpenStack Swift all-in-one, for the Swift conformance runs
cleanup() {
  scripts/object-store stop "$store" >/dev/null 2>&1 || true
  scripts/object-store stop "$swift_store" >/dev/null 2>&1 || true
  scripts/postgres stop "$pg" >/dev/null 2>&1 || true
  scripts/keystone stop "$work/keystone" >/dev/null 2>&1 || true
  rm -rf "$work" "$pg"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...: counts a step
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}

start=$(date +%s)
# Keystone first (port 18500, 16 s tokens for the re-auth test): it writes the options with which
# RGW accepts its v3 tokens on the Swift API (CAIRN_OBJECT_STORE_RGW_CONF, CAIRN_KEYSTONE_*).
ks_env=$(CAIRN_KEYSTONE_TOKEN_SECONDS=16 scripts/keystone start "$work/keystone")
eval "$ks_env"
# Captured first: under `set -e`, a failed command substitution inside eval would go unnoticed.
env_lines=$(scripts/object-store start "$store")
eval "$env_lines"
echo "integration: object store up in $(( $(date +%s) - start )) s at $AWS_ENDPOINT_URL" >&2
pg_env=$(CAIRN_POSTGRES_PORT=${CAIRN_POSTGRES_PORT:-18433} scripts/postgres start "$pg")
eval "$pg_env"  # CAIRN_TEST_POSTGRES_DSN, for catalog_postgres_integration_test

# The aws CLI's side of the exchange: an object it writes for Cairn to read.
export CAIRN_IT_AWS_DIR=$work/aws CAIRN_IT_AWS_BUCKET=cairn-it-aws-$$
mkdir -p "$CAIRN_IT_AWS_DIR"
aws s3 mb "s3://$CAIRN_IT_AWS_BUCKET" >/dev/null
head -c 3000001 /dev/urandom >"$CAIRN_IT_AWS_DIR/from-aws.bin"
aws s3 cp --only-show-errors "$CAIRN_IT_AWS_DIR/from-aws.bin" "s3://$CAIRN_IT_AWS_BUCKET/from-aws.bin"

# OpenStack Swift all-in-one on its default port (RGW keeps ST_* for its own Swift API); the swift
# CLI uploads an SLO of 100 KiB segments for Cairn to read (object_store_integration_test).
swift_env=$(scripts/object-store start --swift "$swift_store")
CAIRN_IT_SWIFT_AUTH=$(eval "$swift_env" && echo "$ST_AUTH")
export CAIRN_IT_SWIFT_AUTH CAIRN_IT_SWIFT_USER=$ST_USER CAIRN_IT_SWIFT_KEY=$ST_KEY
export CAIRN_IT_SWIFT_DIR=$work/swift-cli CAIRN_IT_SWIFT_CONTAINER=cairn-it-swift-$$
# Credentials through the environment, not argv (process listings).
swift_cli() {
  ST_AUTH=$CAIRN_IT_SWIFT_AUTH ST_USER=$CAIRN_IT_SWIFT_USER ST_KEY=$CAIRN_IT_SWIFT_KEY swift "$@"
}
mkdir -p "$CAIRN_IT_SWIFT_DIR"
head -c 1000003 /dev/urandom >"$CAIRN_IT_SWIFT_DIR/from-swift.bin"
(cd "$CAIRN_IT_SWIFT_DIR" && swift_cli upload -q --use-slo -S 102400 "$CAIRN_IT_SWIFT_CONTAINER" from-swift.bin)

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

# The SLO Cairn wrote on Swift AIO reads back byte for byte with `swift download`.
swift_reads_cairn() {
  swift_cli download -q "$CAIRN_IT_SWIFT_CONTAINER" from-cairn.bin -o "$CAIRN_IT_SWIFT_DIR/from-cairn.got" &&
    cmp "$CAIRN_IT_SWIFT_DIR/from-cairn.expected" "$CAIRN_IT_SWIFT_DIR/from-cairn.got"
}
check "swift download reads the SLO Cairn wrote" swift_reads_cairn

# `cairn obj` as a user runs it, against what the aws CLI sees.
cairn=$build/cairn
b=cairn-it-cli-$$
x=$CAIRN_IT_AWS_DIR/from-aws.bin
check "cairn obj mb" "$cairn" obj mb "s3://$b"
aws s3 cp --only-show-errors "$x" "s3://$b/dir/x.bin"
aws s3 cp --only-show-errors "$x" "s3://$b/dir/sub/y z.bin"
check "cairn obj cat reads what aws wrote" cmp <("$cairn" obj cat "s3://$b/dir/x.bin") "$x"
ls_matches() {
  [[ $("$cairn" obj ls "s3://$b/dir/") == *"PRE sub/"*"x.bin" ]] &&
    [[ $("$cairn" obj ls -r --json "s3://$b" | grep -c '"key"') == 2 ]]
}
check "cairn obj ls (one level, recursive)" ls_matches
check "cairn obj stat" bash -c "'$cairn' obj stat --json 's3://$b/dir/x.bin' | grep -q '\"size\":3000001'"
check "cairn obj cat of a missing key fails" bash -c "! '$cairn' obj cat 's3://$b/nope' >/dev/null 2>&1"
check "cairn obj rm -r" "$cairn" obj rm -r "s3://$b/dir/"
check "aws sees the objects gone" bash -c "[[ -z \$(aws s3 ls --recursive 's3://$b') ]]"
check "cairn obj rb" "$cairn" obj rb "s3://$b"
aws s3 mb "s3://$b-f" >/dev/null
aws s3 cp --only-show-errors "$x" "s3://$b-f/a/b.bin"
check "cairn obj rb --force empties the bucket first" "$cairn" obj rb --force "s3://$b-f"

# `cairn obj cp` and `aws s3 cp` read each other's objects byte for byte, multipart both ways.
t=cairn-it-cp-$$
d=$CAIRN_IT_AWS_DIR/cp
mkdir -p "$d/tree/sub"
head -c 23000001 /dev/urandom >"$d/big.bin"
head -c 1000 /dev/urandom >"$d/tree/a.bin"
head -c 6000000 /dev/urandom >"$d/tree/sub/b.bin"
aws s3 mb "s3://$t" >/dev/null
check "cairn obj cp up (multipart)" "$cairn" obj cp -q "$d/big.bin" "s3://$t/cairn.bin"
check "aws s3 cp reads cairn's upload" bash -c "aws s3 cp --only-show-errors 's3://$t/cairn.bin' '$d/aws.got' && cmp '$d/big.bin' '$d/aws.got'"
aws s3 cp --only-show-errors "$d/big.bin" "s3://$t/aws.bin"
check "cairn obj cp down verifies aws's multipart ETag" bash -c "'$cairn' obj cp --json 's3://$t/aws.bin' '$d/cairn.got' | grep -q '\"verified\":\"part-md5s\"' && cmp '$d/big.bin' '$d/cairn.got'"
check "cairn obj cp from stdin (spool) to stdout" bash -c "'$cairn' obj cp -q --policy spool - 's3://$t/pipe.bin' <'$d/big.bin' && cmp <('$cairn' obj cp 's3://$t/pipe.bin' -) '$d/big.bin'"
check "cairn obj cp -r up, aws reads" bash -c "'$cairn' obj cp -q -r '$d/tree' 's3://$t/tree' && aws s3 cp --only-show-errors --recursive 's3://$t/tree' '$d/tree.aws' && diff -r '$d/tree' '$d/tree.aws'"
check "cairn obj cp -r down" bash -c "'$cairn' obj cp -q -r 's3://$t/tree/' '$d/tree.cairn' && diff -r '$d/tree' '$d/tree.cairn'"
check "cairn obj mv s3 to s3" bash -c "'$cairn' obj mv -q 's3://$t/cairn.bin' 's3://$t/moved.bin' && ! aws s3api head-object --bucket '$t' --key cairn.bin >/dev/null 2>&1 && cmp <('$cairn' obj cp 's3://$t/moved.bin' -) '$d/big.bin'"
check "cairn obj cp of a missing object exits 1" bash -c "'$cairn' obj cp -q 's3://$t/nope' '$d/nope' 2>/dev/null; [[ \$? == 1 && ! -e '$d/nope' ]]"
check "cairn obj cp usage error exits 2" bash -c "'$cairn' obj cp -q '$d/big.bin' '$d/x' 2>/dev/null; [[ \$? == 2 ]]"
check "no multipart upload left by cairn obj cp" bash -c "[[ \$(aws s3api list-multipart-uploads --bucket '$t' --query 'Uploads' --output text) == None ]]"
aws s3 rb --force "s3://$t" >/dev/null

# `cairn mpu`: N worker processes through xargs -P (presigned, no credentials), a failed and a
# killed worker (aborted, nothing left).
check "cairn mpu through xargs -P" scripts/mpu-xargs-test.sh "$build"

# Keep end to end on real processes (catalog + two keepstores): SQLite, then PostgreSQL.
check "keep end to end (SQLite)" python3 tests/integration/keep_e2e.py "$build/cairn"
psql -q "$CAIRN_TEST_POSTGRES_DSN" -c "CREATE DATABASE cairn_e2e" >/dev/null
check "keep end to end (PostgreSQL)" python3 tests/integration/keep_e2e.py "$build/cairn" --quick \
  --big-mib 65 --database "${CAIRN_TEST_POSTGRES_DSN%/*}/cairn_e2e"
# `cairn mount` on a real FUSE mount (issue 8): tools read the same bytes as `cairn get`.
check "mount end to end (FUSE)" python3 tests/integration/mount_e2e.py "$build/cairn"
# Random 4 KiB reads of an S3 object by reference through the mount: ranges, < 1 MiB per read;
# a collection mixing local blocks, S3 and Swift (RGW's ST_*) objects; the disk block cache.
check "mount ranged reads of external objects (FUSE, RGW)" \
  python3 tests/integration/mount_ranges_e2e.py "$build/cairn"

# Import by reference and reads through the gateway (issue 7) on this RGW.
check "external objects end to end" tests/integration/external_e2e.sh "$build/cairn"
# Keepstore volumes on S3 and Swift buckets (issue 7, item 5) on this RGW (S3 and its ST_* Swift).
check "object-store volumes end to end" tests/integration/object_volume_e2e.sh "$build/cairn"
# Swift remotes, cairn obj and import with Keystone v3 (OS_*) on Keystone + this RGW.
check "keystone end to end" tests/integration/keystone_e2e.sh "$build/cairn"

echo "integration: $passed passed, $failed failed"
((failed == 0))
