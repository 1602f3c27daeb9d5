#!/usr/bin/env bash
# Keepstore volumes on S3 and Swift (issue 7, item 5) on real processes:
#
#   tests/integration/object_volume_e2e.sh BUILD/cairn
#
# Needs an RGW in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and
# ST_AUTH, ST_USER, ST_KEY for its Swift API: what `scripts/object-store start` prints;
# scripts/integration-test.sh runs this with its RGW). Starts `cairn server` on free ports, then two
# `cairn keepstore`s: one on `--volume s3://BUCKET/keep`, one on `--volume swift://CONTAINER/keep`
# (credentials from the environment only), registers them as the cluster's only disk services,
# and checks: `cairn put --replication 2` of a directory (a file over 64 MiB included) stores
# every block as an object named <prefix>/<abc>/<md5> in both; `cairn get` reads it back
# byte-identically; a second put of the same data uploads no block again (time markers instead);
# a block object flipped to other bytes (aws s3 cp) is refused by its keepstore and the client
# reads the other replica; with both replicas flipped the read fails clearly and writes nothing;
# no secret in the keepstores' logs or argv. Then `cairn server --volume s3://… --volume DIR` runs
# its two keepstores on those volumes. Exit status 0 when every check passes.
set -uo pipefail

cairn=${1:?usage: object_volume_e2e.sh BUILD/cairn}
cairn=$(cd "$(dirname "$cairn")" && pwd)/$(basename "$cairn")
: "${AWS_ENDPOINT_URL:?an S3 store: eval \"\$(scripts/object-store start DIR)\"}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
: "${ST_AUTH:?the Swift API of the RGW: ST_AUTH, ST_USER, ST_KEY from scripts/object-store start}"
: "${ST_USER:?}" "${ST_KEY:?}"

work=$(mktemp -d /tmp/cairn-objvol-e2e.XXXXXX)
bucket=cairn-objvol-e2e-$$
container=cairn-objvol-e2e-swift-$$
server_pid=
server2_pid=
s3ks_pid=
swks_pid=
stop_pid() { [[ -n $1 ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; }
cleanup() {
  stop_pid "$s3ks_pid"
  stop_pid "$swks_pid"
  stop_pid "$server_pid"
  stop_pid "$server2_pid"
  aws s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true
  swift delete -q "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}
free_port() {  # three in a row: cairn server also takes P+1 and P+2
  python3 "$(dirname "$0")/free_ports.py" 3
}
wait_ping() {
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$1/_health/ping" >/dev/null && return 0; sleep 0.1; done
  return 1
}
# The catalog and the client: no cloud credentials.
noaws() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  -u AWS_ENDPOINT_URL -u AWS_PROFILE -u ST_AUTH -u ST_USER -u ST_KEY "$@"; }

port=$(free_port)
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u ST_KEY \
  "$cairn" server --data "$work/srv" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/srv/admin.token ]] && wait_ping "$port" && break; sleep 0.1; done
export CAIRN_API_HOST=127.0.0.1:$port
export CAIRN_API_TOKEN=$(cat "$work/srv/admin.token")

# The keepstores: credentials from the environment (aws and swift CLI conventions).
s3_port=$(free_port)
"$cairn" keepstore --listen "127.0.0.1:$s3_port" --volume "s3://$bucket/keep" \
  --api-host "127.0.0.1:$port" --blob-signing-key-file "$work/srv/blob-signing.key" \
  >"$work/s3ks.log" 2>&1 &
s3ks_pid=$!
sw_port=$(free_port)
"$cairn" keepstore --listen "127.0.0.1:$sw_port" --volume "swift://$container/keep" \
  --api-host "127.0.0.1:$port" --blob-signing-key-file "$work/srv/blob-signing.key" \
  >"$work/swks.log" 2>&1 &
swks_pid=$!
check "S3-volume keepstore starts (bucket made)" wait_ping "$s3_port"
check "Swift-volume keepstore starts (container made)" wait_ping "$sw_port"
check "keepstore log names the object volumes" bash -c \
  "grep -q 'volumes: s3://$bucket/keep (cairn-nyw5e-' '$work/s3ks.log' && grep -q 'volumes: swift://$container/keep (cairn-nyw5e-' '$work/swks.log'"
check "GET /mounts reports the S3 volume" bash -c \
  "curl -sf -H 'Authorization: Bearer $CAIRN_API_TOKEN' http://127.0.0.1:$s3_port/mounts | grep -q '\"device_id\":\"s3://$bucket/keep\"'"

# Only these two keepstores take blocks: the server's own disk keepstore leaves the registry.
for id in $("$cairn" keep-service ls | awk '$3 == "disk" {print $1}'); do
  "$cairn" keep-service rm "$id"
done
check "register the S3-volume keepstore" "$cairn" keep-service add "127.0.0.1:$s3_port"
check "register the Swift-volume keepstore" "$cairn" keep-service add "127.0.0.1:$sw_port"
check "two disk services" test "$("$cairn" keep-service ls | awk '$3 == "disk"' | wc -l)" -eq 2

d=$work/src
mkdir -p "$d/sub"
head -c $((64 * 1024 * 1024 + 4099)) /dev/urandom >"$d/huge.bin"
head -c 3000001 /dev/urandom >"$d/sub/mid.bin"
echo "hello, object volumes" >"$d/sub/small.txt"
: >"$d/empty"

uuid=$(noaws env CAIRN_API_HOST="$CAIRN_API_HOST" CAIRN_API_TOKEN="$CAIRN_API_TOKEN" \
  "$cairn" put -q "$d" --name objvol --replication 2 2>"$work/put.err" | sed -n 1p)
check "cairn put --replication 2 onto the object volumes" test -n "$uuid"
[[ -n $uuid ]] || cat "$work/put.err" >&2
manifest=$(curl -s -H "Authorization: Bearer $CAIRN_API_TOKEN" \
  "http://127.0.0.1:$port/v1/collections/$uuid" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest_text"])')
hashes=$(grep -oE '\b[0-9a-f]{32}\+[0-9]+' <<<"$manifest" | cut -c1-32 | sort -u |
  grep -v d41d8cd98f00b204e9800998ecf8427e)
check "the collection has at least 2 blocks (a file over 64 MiB)" test "$(wc -l <<<"$hashes")" -ge 2
aws s3 ls --recursive "s3://$bucket/keep/" >"$work/s3.ls"
swift list "$container" >"$work/swift.ls"
check "every block is an object <prefix>/<abc>/<md5> in the S3 bucket" bash -c \
  "for h in $(echo $hashes); do grep -q \" keep/\${h:0:3}/\$h\$\" '$work/s3.ls' || exit 1; done"
check "every block is an object in the Swift container" bash -c \
  "for h in $(echo $hashes); do grep -qx \"keep/\${h:0:3}/\$h\" '$work/swift.ls' || exit 1; done"
big=$(awk '$3 == 67108864 {print $4}' "$work/s3.ls" | head -1)
check "a full 64 MiB block is one object" test -n "$big"

check "cairn get: byte-identical" bash -c \
  "$(declare -f noaws); noaws env CAIRN_API_HOST=$CAIRN_API_HOST CAIRN_API_TOKEN=$CAIRN_API_TOKEN '$cairn' get -q '$uuid' '$work/got' && diff -r '$d' '$work/got'"

# The same data again: no block object is rewritten, their time is recorded in markers.
before=$(aws s3api head-object --bucket "$bucket" --key "$big" --query ETag --output text)
uuid2=$(noaws env CAIRN_API_HOST="$CAIRN_API_HOST" CAIRN_API_TOKEN="$CAIRN_API_TOKEN" \
  "$cairn" put -q "$d" --name objvol-again --replication 2 2>/dev/null | sed -n 1p)
check "a second put of the same data" test -n "$uuid2"
check "the second put wrote time markers, not blocks" bash -c \
  "aws s3 ls --recursive 's3://$bucket/keep/recent/' | grep -q ' keep/recent/${big:5}\$'"
check "the block object is unchanged" test \
  "$(aws s3api head-object --bucket "$bucket" --key "$big" --query ETag --output text)" == "$before"

# A flipped block object (other bytes under the block's name) is never served.
# The block that holds sub/small.txt (small files are packed with the tail of huge.bin).
signed=$(grep -oE '\b[0-9a-f]{32}\+[0-9]+\+A[0-9a-f]+@[0-9a-f]+' <<<"$manifest" |
  grep -v '+67108864+' | head -1)
small_hash=${signed:0:32}
small_key=keep/${small_hash:0:3}/$small_hash
echo "not the block, other bytes" | aws s3 cp --only-show-errors - "s3://$bucket/$small_key"
code=$(curl -s -o "$work/flip.body" -w '%{http_code}' -H "Authorization: Bearer $CAIRN_API_TOKEN" \
  "http://127.0.0.1:$s3_port/$signed")
check "the S3 keepstore refuses the flipped block (502)" test "$code" == 502
check "naming the changed object" grep -q "was changed" "$work/flip.body"
check "the client reads the other replica: byte-identical" bash -c \
  "$(declare -f noaws); cmp <(noaws env CAIRN_API_HOST=$CAIRN_API_HOST CAIRN_API_TOKEN=$CAIRN_API_TOKEN '$cairn' cat '$uuid/sub/small.txt') '$d/sub/small.txt'"
# Both replicas flipped (RGW's Swift containers are its S3 buckets too).
echo "not the block either" | aws s3 cp --only-show-errors - "s3://$container/$small_key"
noaws env CAIRN_API_HOST="$CAIRN_API_HOST" CAIRN_API_TOKEN="$CAIRN_API_TOKEN" \
  "$cairn" get -q "$uuid/sub/small.txt" "$work/got2" >"$work/got2.out" 2>"$work/got2.err"
rc=$?
check "with every replica flipped the read fails" test "$rc" -ne 0
check "and writes no wrong bytes" bash -c \
  "! grep -rq 'not the block' '$work/got2' '$work/got2.out' 2>/dev/null"
check "with a clear message" grep -qiE "corrupt|502|hash|changed" "$work/got2.err"
sed 's/^/  cairn get says: /' "$work/got2.err" | head -3

check "no secret in the keepstores' logs" bash -c \
  "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$work/s3ks.log' '$work/swks.log' && ! grep -q -- '$ST_KEY' '$work/s3ks.log' '$work/swks.log'"
check "no secret on the keepstores' command lines" bash -c \
  "! tr '\0' ' ' </proc/$s3ks_pid/cmdline | grep -q -- '$AWS_SECRET_ACCESS_KEY' && ! tr '\0' ' ' </proc/$swks_pid/cmdline | grep -q -- '$ST_KEY'"

# `cairn server --volume`: the one-machine server with its keepstores on an S3 bucket and a
# directory (one keepstore each), credentials from the environment only.
srv_port=$(python3 "$(dirname "$0")/free_ports.py" 4)  # catalog, two keepstores, gateway
env -u ST_KEY "$cairn" server --data "$work/srv2" --listen "127.0.0.1:$srv_port" \
  --volume "s3://$bucket/srv" --volume "$work/srv2-disk" >"$work/server2.log" 2>&1 &
server2_pid=$!
for _ in $(seq 100); do [[ -s $work/srv2/admin.token ]] && wait_ping "$srv_port" && break; sleep 0.1; done
check "cairn server --volume s3://… --volume DIR starts" wait_ping "$((srv_port + 2))"
srv2() { noaws env CAIRN_API_HOST="127.0.0.1:$srv_port" \
  CAIRN_API_TOKEN="$(cat "$work/srv2/admin.token")" "$cairn" "$@"; }
uuid3=$(srv2 put -q "$d/sub" --name srv-objvol --replication 2 2>"$work/put3.err" | sed -n 1p)
check "put --replication 2 onto the server's S3 and disk volumes" test -n "$uuid3"
mid_hash=$(md5sum "$d/sub/mid.bin" | cut -c1-32)
check "a block is an object in the server's S3 volume" bash -c \
  "aws s3 ls --recursive 's3://$bucket/srv/' | grep -q ' srv/[0-9a-f]\{3\}/[0-9a-f]\{32\}\$'"
check "and a file in its disk volume" bash -c "find '$work/srv2-disk' -type f -name '[0-9a-f]*' | grep -q ."
check "cairn get from the server: byte-identical" bash -c \
  "$(declare -f noaws srv2); work='$work' srv_port=$srv_port cairn='$cairn'; srv2 get -q '$uuid3' '$work/got3' && diff -r '$d/sub' '$work/got3'"
stop_pid "$server2_pid"
server2_pid=
check "--keepstores that disagrees with --volume is refused" bash -c \
  "'$cairn' server --data '$work/srv3' --keepstores 2 --volume '$work/x' 2>&1 | grep -q 'one keepstore runs on each volume'"

echo "object_volume_e2e: $passed passed, $failed failed"
if ((failed > 0)); then
  for f in server s3ks swks server2; do
    echo "--- $f.log (tail)" >&2
    tail -n 20 "$work/$f.log" >&2
  done
fi
((failed == 0))
