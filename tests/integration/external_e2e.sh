#!/usr/bin/env bash
# Import by reference and gateway reads on real processes (issue 7, first slice):
#
#   tests/integration/external_e2e.sh BUILD/cairn
#
# Needs an S3 store in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY:
# what `scripts/object-store start` prints; scripts/integration-test.sh runs this with its RGW).
# Starts `cairn server` on free ports in a temp dir, uploads objects with the aws CLI, then:
# `cairn remote add` (credentials from the environment) and `ls`, `cairn import`, `cairn get`/`cat`
# byte-identical with no AWS_* variables on the reading side (through the gateway), a re-import
# giving the same PDH, an object of more than one block (split into signed chunks), a shared
# collection read by a second user, a user without permission getting nothing, a changed object
# and a deleted one giving clear errors naming the object (412/404), and credentials never in any
# reply. Then a mixed collection (local blocks, objects of two S3 remotes, Swift objects incl. a
# static large object) made with `cairn cp`, shared, read by a second user, copied and renamed,
# and a changed Swift object. Exit status 0 when every check passes.
set -uo pipefail

cairn=${1:?usage: external_e2e.sh BUILD/cairn}
cairn=$(cd "$(dirname "$cairn")" && pwd)/$(basename "$cairn")
: "${AWS_ENDPOINT_URL:?an S3 store: eval \"\$(scripts/object-store start DIR)\"}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"

work=$(mktemp -d /tmp/cairn-external-e2e.XXXXXX)
bucket=cairn-ext-e2e-$$
bucket2=cairn-ext-e2e-two-$$
container=cairn-ext-e2e-swift-$$
# Swift: OpenStack Swift all-in-one when scripts/integration-test.sh runs it, else the ST_*
# variables (RGW's Swift API, as `scripts/object-store start` prints them).
swift_auth=${CAIRN_IT_SWIFT_AUTH:-${ST_AUTH:-}}
swift_user=${CAIRN_IT_SWIFT_USER:-${ST_USER:-}}
swift_key=${CAIRN_IT_SWIFT_KEY:-${ST_KEY:-}}
: "${swift_auth:?a Swift store: ST_AUTH (or CAIRN_IT_SWIFT_AUTH)}"
swift_as() { ST_AUTH=$swift_auth ST_USER=$swift_user ST_KEY=$swift_key swift "$@"; }
server_pid=
gw2_pid=
cleanup() {
  [[ -n $gw2_pid ]] && kill "$gw2_pid" 2>/dev/null && wait "$gw2_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  aws s3 rb --force "s3://$bucket" >/dev/null 2>&1 || true
  python3 -c 'import boto3, os, sys; b = boto3.resource("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).Bucket(sys.argv[1]); b.object_versions.delete(); b.delete()' \
    "$bucket2" >/dev/null 2>&1 || true
  swift_as delete -q "$container" >/dev/null 2>&1 || true
  swift_as delete -q "${container}_segments" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}
# The reading side: no cloud credentials at all.
noaws() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  -u AWS_ENDPOINT_URL -u AWS_PROFILE -u ST_AUTH -u ST_USER -u ST_KEY "$@"; }

port=$(python3 "$(dirname "$0")/free_ports.py" 3)  # cairn server: catalog, keepstore, gateway
# Started without the noaws function, so that $! is cairn itself (killed by cleanup).
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
  "$cairn" server --data "$work/srv" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/srv/admin.token ]] && curl -sf "http://127.0.0.1:$port/_health/ping" >/dev/null && break; sleep 0.1; done
export CAIRN_API_HOST=127.0.0.1:$port
export CAIRN_API_TOKEN=$(cat "$work/srv/admin.token")

# Objects: one of 3 MB, one small in a subdirectory, one empty, one over a block (64 MiB).
d=$work/src
mkdir -p "$d/sub"
head -c 3000001 /dev/urandom >"$d/big.bin"
echo "hello, external" >"$d/sub/small.txt"
: >"$d/empty"
head -c $((64 * 1024 * 1024 + 4097)) /dev/urandom >"$d/huge.bin"
aws s3 mb "s3://$bucket" >/dev/null
aws s3 cp --only-show-errors --recursive "$d" "s3://$bucket/data/"

alice=$("$cairn" user add alice) && bob=$("$cairn" user add bob)
as_alice() { CAIRN_API_TOKEN=$alice "$@"; }
as_bob() { CAIRN_API_TOKEN=$bob "$@"; }

check "remote add (credentials from the environment)" \
  as_alice "$cairn" remote add store --endpoint "$AWS_ENDPOINT_URL" --buckets "$bucket,other-$$"
check "remote ls shows it, without credentials" bash -c \
  "CAIRN_API_TOKEN=$alice '$cairn' remote ls | grep -q '^store	s3	' && ! CAIRN_API_TOKEN=$alice '$cairn' remote ls | grep -q '$AWS_SECRET_ACCESS_KEY'"
check "credentials never in the API's replies" bash -c \
  "! curl -s -H 'Authorization: Bearer $alice' http://127.0.0.1:$port/v1/remotes/store | grep -q -- '$AWS_SECRET_ACCESS_KEY'"
check "bob does not see alice's remote" bash -c "[[ -z \$(CAIRN_API_TOKEN=$bob '$cairn' remote ls) ]]"

as_alice "$cairn" import "s3://$bucket/data/" --name imported >"$work/imp1" 2>/dev/null
uuid=$(sed -n 1p "$work/imp1")
pdh=$(sed -n 2p "$work/imp1")
check "import saves a collection" test -n "$pdh"
as_alice "$cairn" import "s3://$bucket/data/" --name again >"$work/imp2" 2>/dev/null
check "re-import of an unchanged prefix: same PDH" test "$pdh" == "$(sed -n 2p "$work/imp2")"
check "bob cannot import alice's bucket" bash -c \
  "! CAIRN_API_TOKEN=$bob '$cairn' import 's3://$bucket/data/' >/dev/null 2>&1"

check "get through the gateway, no cloud credentials, byte-identical" bash -c \
  "$(declare -f noaws as_alice); noaws env CAIRN_API_TOKEN=$alice '$cairn' get -q '$uuid' '$work/got' && diff -r '$d' '$work/got'"
check "cat of a file over a block" bash -c \
  "$(declare -f noaws); cmp <(noaws env CAIRN_API_TOKEN=$alice '$cairn' cat '$uuid/huge.bin') '$d/huge.bin'"

check "bob gets nothing before sharing" bash -c \
  "$(declare -f noaws); ! noaws env CAIRN_API_TOKEN=$bob '$cairn' cat '$uuid/sub/small.txt' >'$work/bob0' 2>/dev/null && [[ ! -s '$work/bob0' ]]"
check "share with bob" as_alice "$cairn" share "$uuid" --with bob --level read
check "bob reads the shared collection through the gateway" bash -c \
  "$(declare -f noaws); cmp <(noaws env CAIRN_API_TOKEN=$bob '$cairn' cat '$uuid/big.bin') '$d/big.bin'"

# A locator edited to name another key fails the hash check at the gateway.
gw_port=$((port + 2))  # cairn server: catalog, one keepstore, then the gateway
loc=$(curl -s -H "Authorization: Bearer $alice" "http://127.0.0.1:$port/v1/collections/$uuid" |
  python3 -c 'import json,sys; m=json.load(sys.stdin)["manifest_text"]; print([t for t in m.split() if "+B" in t][0])')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $alice" "http://127.0.0.1:$gw_port/$loc")
check "the gateway serves a signed external locator" test "$code" == 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $bob" \
  "http://127.0.0.1:$gw_port/$(echo "$loc" | sed 's/+A[^+]*//')")
check "the gateway refuses an unsigned locator" test "$code" == 400

# A gateway in its own process (`cairn keepstore --gateway`): credentials through the admin-only
# route; it serves the same signed locator byte-identically.
gw2_port=$(python3 "$(dirname "$0")/free_ports.py")
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
  "$cairn" keepstore --gateway --listen "127.0.0.1:$gw2_port" --api-host "127.0.0.1:$port" \
  --blob-signing-key-file "$work/srv/blob-signing.key" --token-file "$work/srv/admin.token" \
  >"$work/gateway2.log" 2>&1 &
gw2_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$gw2_port/_health/ping" >/dev/null && break; sleep 0.1; done
check "keepstore --gateway serves a signed locator byte-identically" bash -c \
  "cmp <(curl -sf -H 'Authorization: Bearer $alice' 'http://127.0.0.1:$gw2_port/$loc') '$d/big.bin'"
kill "$gw2_pid" 2>/dev/null && wait "$gw2_pid" 2>/dev/null
gw2_pid=
check "no secret in the gateway's log" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$work/gateway2.log'"

# --- A mixed collection: local blocks, S3 objects of two remotes, Swift objects (a plain one and
# a static large object), put together with `cairn cp` (manifests only), shared, and read by bob
# through the gateway with no cloud credentials.
m=$work/mixed-src
mkdir -p "$m/local" "$m/two" "$m/swift"
head -c 5000011 /dev/urandom >"$m/local/local.bin"
echo "a local file" >"$m/local/note.txt"
head -c 2000003 /dev/urandom >"$m/two/x2.bin"
head -c 5000017 /dev/urandom >"$m/swift/plain.bin"
head -c $((70 * 1024 * 1024 + 11)) /dev/urandom >"$m/swift/slo.bin"
aws s3 mb "s3://$bucket2" >/dev/null
# The second bucket versions its objects: its import is pinned to versions, not ETags.
aws s3api put-bucket-versioning --bucket "$bucket2" --versioning-configuration Status=Enabled
aws s3 cp --only-show-errors "$m/two/x2.bin" "s3://$bucket2/x2.bin"
swift_as post "$container"
(cd "$m/swift" && swift_as upload -q "$container" plain.bin &&
  swift_as upload -q --use-slo -S 16777216 "$container" slo.bin)
check "a second S3 remote" as_alice "$cairn" remote add store2 --buckets "$bucket2"
check "a Swift remote (tempauth from ST_*)" \
  as_alice env ST_AUTH="$swift_auth" ST_USER="$swift_user" ST_KEY="$swift_key" \
  "$cairn" remote add sw --kind swift --buckets "$container"
check "swift remote without its key in replies" bash -c \
  "! CAIRN_API_TOKEN=$alice '$cairn' remote ls | grep -q -- '$swift_key' && CAIRN_API_TOKEN=$alice '$cairn' remote ls | grep -q '^sw	swift	'"
two=$(as_alice "$cairn" import "s3://$bucket2/" 2>/dev/null | sed -n 1p)
sw=$(ST_AUTH="$swift_auth" ST_USER="$swift_user" ST_KEY="$swift_key" \
  as_alice "$cairn" import "swift://$container/" 2>/dev/null | sed -n 1p)
check "import swift://container/" test -n "$sw"
check "a versioned bucket's import is pinned to the version id" bash -c \
  "curl -s -H 'Authorization: Bearer $alice' http://127.0.0.1:$port/v1/collections/$two | python3 -c '
import base64, json, re, sys
m = json.load(sys.stdin)[\"manifest_text\"]
b = re.search(r\"\\+B([A-Za-z0-9_-]+)\", m).group(1)
url = base64.urlsafe_b64decode(b + \"=\" * (-len(b) % 4)).decode()
sys.exit(0 if \"?versionId=\" in url else 1)'"
loc=$(as_alice "$cairn" put -q "$m/local" 2>/dev/null | sed -n 1p)
mixed=$(as_alice "$cairn" cp "$loc" new/local --name mixed | sed -n 1p)
check "cp of a collection into a new one" test -n "$mixed"
check "cp of a second remote's import" as_alice "$cairn" cp "$two" "$mixed/two"
check "cp of a Swift import" as_alice "$cairn" cp "$sw" "$mixed/swift"
check "cp of one S3 file of the first remote" as_alice "$cairn" cp "$uuid/huge.bin" "$mixed/"
cp "$d/huge.bin" "$m/huge.bin"
check "alice reads the mixed collection byte-identically, no cloud credentials" bash -c \
  "$(declare -f noaws); noaws env CAIRN_API_TOKEN=$alice '$cairn' get -q '$mixed' '$work/mixed-alice' && diff -r '$m' '$work/mixed-alice'"
check "bob gets nothing of it before sharing" bash -c \
  "$(declare -f noaws); ! noaws env CAIRN_API_TOKEN=$bob '$cairn' cat '$mixed/swift/plain.bin' >'$work/bob1' 2>/dev/null && [[ ! -s '$work/bob1' ]]"
check "share the mixed collection with bob" as_alice "$cairn" share "$mixed" --with bob --level read
check "bob reads it byte-identically through the gateway" bash -c \
  "$(declare -f noaws); noaws env CAIRN_API_TOKEN=$bob '$cairn' get -q '$mixed' '$work/mixed-bob' && diff -r '$m' '$work/mixed-bob'"
bobs=$(as_bob "$cairn" cp "$mixed/swift" new/from-alice --name bobs 2>"$work/bobcp.err" | sed -n 1p); cat "$work/bobcp.err" >&2
check "bob copies shared external files into his own collection (no remote of his)" bash -c \
  "$(declare -f noaws); [[ -n '$bobs' ]] && cmp <(noaws env CAIRN_API_TOKEN=$bob '$cairn' cat '$bobs/from-alice/slo.bin') '$m/swift/slo.bin'"
check "bob cannot write alice's collection" bash -c \
  "! CAIRN_API_TOKEN=$bob '$cairn' rm '$mixed/local/note.txt' >/dev/null 2>&1"
# materialize: the same files, now in Keep blocks; the source objects no longer matter.
mat=$(as_alice "$cairn" cp "$mixed" new/ --name to-materialize | sed -n 1p)
check "materialize copies external data into Keep as a new version" bash -c \
  "$(declare -f noaws); noaws env CAIRN_API_TOKEN=$alice '$cairn' materialize -q '$mat' >/dev/null"
check "the materialized collection names no external object" bash -c \
  "! curl -s -H 'Authorization: Bearer $alice' http://127.0.0.1:$port/v1/collections/$mat | grep -q '+B'"
check "the materialized collection reads byte-identically" bash -c \
  "$(declare -f noaws); noaws env CAIRN_API_TOKEN=$alice '$cairn' get -q '$mat' '$work/mat-got' && diff -r '$m' '$work/mat-got'"
check "mv inside the collection renames (manifest only)" \
  as_alice "$cairn" mv "$mixed/swift/plain.bin" "$mixed/renamed.bin"
check "the renamed Swift object reads byte-identically" bash -c \
  "$(declare -f noaws); cmp <(noaws env CAIRN_API_TOKEN=$alice '$cairn' cat '$mixed/renamed.bin') '$m/swift/plain.bin' && ! CAIRN_API_TOKEN=$alice '$cairn' cat '$mixed/swift/plain.bin' >/dev/null 2>&1"
check "mv of a directory into itself is refused" bash -c \
  "! CAIRN_API_TOKEN=$alice '$cairn' mv '$mixed/swift' '$mixed/swift/deeper' 2>/dev/null"
head -c 1000 /dev/urandom >"$work/swift-changed"
swift_as upload -q --object-name plain.bin "$container" "$work/swift-changed"
noaws env CAIRN_API_TOKEN=$alice "$cairn" cat "$mixed/renamed.bin" >"$work/swchanged.out" 2>"$work/swchanged.err"
check "a changed Swift object: an error naming it, no bytes" bash -c \
  "grep -q 'swift://$container/plain.bin: changed' '$work/swchanged.err' && [[ ! -s '$work/swchanged.out' ]]"
head -c 1000 /dev/urandom | aws s3 cp --only-show-errors - "s3://$bucket2/x2.bin"
check "an overwritten object of a versioned bucket still reads its imported version" bash -c \
  "$(declare -f noaws); cmp <(noaws env CAIRN_API_TOKEN=$bob '$cairn' cat '$mixed/two/x2.bin') '$m/two/x2.bin'"
check "the materialized copy still reads the old bytes" bash -c \
  "cmp <(CAIRN_API_TOKEN=$alice '$cairn' cat '$mat/swift/plain.bin') '$m/swift/plain.bin'"

# The source changes: a clear error naming the object, never other bytes.
echo "changed!" | aws s3 cp --only-show-errors - "s3://$bucket/data/sub/small.txt"
noaws env CAIRN_API_TOKEN=$alice "$cairn" cat "$uuid/sub/small.txt" >"$work/changed.out" 2>"$work/changed.err"
check "changed object: an error, no bytes" bash -c "[[ ! -s '$work/changed.out' ]]"
check "changed object: the error names it (412)" bash -c \
  "grep -q 's3://$bucket/data/sub/small.txt: changed' '$work/changed.err' && grep -q 'HTTP 412' '$work/changed.err'"
aws s3 rm --only-show-errors "s3://$bucket/data/big.bin"
noaws env CAIRN_API_TOKEN=$alice "$cairn" cat "$uuid/big.bin" >"$work/gone.out" 2>"$work/gone.err"
check "deleted object: the error names it (404)" bash -c \
  "grep -q 's3://$bucket/data/big.bin: no longer exists' '$work/gone.err' && [[ ! -s '$work/gone.out' ]]"
check "no secret in the server log" bash -c "! grep -q -- '$AWS_SECRET_ACCESS_KEY' '$work/server.log'"

check "remote rm" as_alice "$cairn" remote rm store
check "no Swift key in the server log" bash -c "! grep -q -- '$swift_key' '$work/server.log'"
echo "external e2e: $passed passed, $failed failed"
((failed == 0))
