#!/usr/bin/env bash
# Swift remotes and `cairn obj` / `cairn import` with Keystone v3 credentials, on a real Keystone
# (scripts/keystone) in front of RGW's Swift API:
#
#   tests/integration/keystone_e2e.sh BUILD/cairn
#
# Needs CAIRN_KEYSTONE_URL, CAIRN_KEYSTONE_USER, CAIRN_KEYSTONE_PASSWORD, CAIRN_KEYSTONE_PROJECT
# (`scripts/keystone env DIR`; scripts/integration-test.sh runs this with its Keystone and RGW).
# Starts `cairn server` on free ports in a temp dir with no cloud credentials, uploads objects with
# the swift CLI (OS_* variables, as a user of an OpenStack cloud has them), then: `cairn obj ls/cat`
# with OS_*, a clear error naming a missing OS_* variable, `cairn remote add --kind swift` from
# OS_* (the password never in argv, replies or logs), `cairn import swift://…`, and alice and bob
# (shared) reading byte-identically through the gateway, which signs in to Keystone with the
# sealed credentials. Exit status 0 when every check passes.
set -uo pipefail

cairn=${1:?usage: keystone_e2e.sh BUILD/cairn}
cairn=$(cd "$(dirname "$cairn")" && pwd)/$(basename "$cairn")
: "${CAIRN_KEYSTONE_URL:?a Keystone: eval \"\$(scripts/keystone env DIR)\"}"
: "${CAIRN_KEYSTONE_USER:?}" "${CAIRN_KEYSTONE_PASSWORD:?}" "${CAIRN_KEYSTONE_PROJECT:?}"

work=$(mktemp -d /tmp/cairn-keystone-e2e.XXXXXX)
container=cairn-ks-e2e-$$
password=$CAIRN_KEYSTONE_PASSWORD
# Only OS_* (Keystone v3): ST_* and AWS_* are dropped so nothing else can sign in.
os() {
  env -u ST_AUTH -u ST_USER -u ST_KEY -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    -u AWS_ENDPOINT_URL OS_AUTH_URL="$CAIRN_KEYSTONE_URL" OS_USERNAME="$CAIRN_KEYSTONE_USER" \
    OS_PASSWORD="$password" OS_PROJECT_NAME="$CAIRN_KEYSTONE_PROJECT" \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=RegionOne \
    OS_IDENTITY_API_VERSION=3 "$@"
}
# No cloud credentials at all (the reading side, and the server).
nocreds() {
  env -u ST_AUTH -u ST_USER -u ST_KEY -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD \
    -u OS_PROJECT_NAME -u CAIRN_KEYSTONE_PASSWORD -u CAIRN_KEYSTONE_ADMIN_PASSWORD "$@"
}
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  os swift delete -q "$container" >/dev/null 2>&1 || true
  os swift delete -q "${container}_segments" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}

port=$(python3 "$(dirname "$0")/free_ports.py" 3) # cairn server: catalog, keepstore, gateway
# Not through the nocreds function, so that $! is cairn itself (killed by cleanup).
env -u ST_AUTH -u ST_USER -u ST_KEY -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD \
  -u OS_PROJECT_NAME -u CAIRN_KEYSTONE_PASSWORD -u CAIRN_KEYSTONE_ADMIN_PASSWORD \
  "$cairn" server --data "$work/srv" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  [[ -s $work/srv/admin.token ]] && curl -sf "http://127.0.0.1:$port/_health/ping" >/dev/null && break
  sleep 0.1
done
export CAIRN_API_HOST=127.0.0.1:$port
CAIRN_API_TOKEN=$(cat "$work/srv/admin.token")
export CAIRN_API_TOKEN

# Objects, put with the swift CLI through Keystone: a plain one, a small one in a subdirectory and
# a static large object (1 MiB segments).
d=$work/src
mkdir -p "$d/sub"
head -c 3000001 /dev/urandom >"$d/big.bin"
echo "hello, keystone" >"$d/sub/small.txt"
head -c $((5 * 1024 * 1024 + 7)) /dev/urandom >"$d/slo.bin"
os swift post "$container" || exit 1
(cd "$d" && os swift upload -q "$container" big.bin sub/small.txt &&
  os swift upload -q --use-slo -S 1048576 "$container" slo.bin) || exit 1

check "cairn obj ls swift:// with OS_* (Keystone v3)" bash -c \
  "$(declare -f os; declare -p password); [[ \$(os '$cairn' obj ls -r 'swift://$container' | grep -c -e big.bin -e small.txt -e slo.bin) == 3 ]]"
check "cairn obj cat of a static large object with OS_*" bash -c \
  "$(declare -f os; declare -p password); cmp <(os '$cairn' obj cat 'swift://$container/slo.bin') '$d/slo.bin'"
check "a missing OS_PROJECT_NAME is named" bash -c \
  "$(declare -f os; declare -p password); os env -u OS_PROJECT_NAME '$cairn' obj ls 'swift://$container' 2>&1 >/dev/null | grep -q 'OS_PROJECT_NAME (or OS_PROJECT_ID) is not set'"
password=wrong-$$
check "a wrong password fails (exit 1) without echoing it" bash -c \
  "$(declare -f os; declare -p password); out=\$(os '$cairn' obj ls 'swift://$container' 2>&1); [[ \$? == 1 && \$out != *wrong-$$* && -n \$out ]]"
password=$CAIRN_KEYSTONE_PASSWORD

alice=$("$cairn" user add alice) && bob=$("$cairn" user add bob)
check "remote add --kind swift from OS_* (Keystone v3)" \
  os env CAIRN_API_TOKEN="$alice" "$cairn" remote add ks --kind swift --buckets "$container"
check "remote ls: endpoint is the Keystone URL, region from OS_REGION_NAME, no password" bash -c \
  "out=\$(CAIRN_API_TOKEN=$alice '$cairn' remote ls); [[ \$out == 'ks	swift	$CAIRN_KEYSTONE_URL	RegionOne	$container' ]] && [[ \$out != *'$password'* ]]"
check "the password never in the API's replies" bash -c \
  "! curl -s -H 'Authorization: Bearer $alice' http://127.0.0.1:$port/v1/remotes/ks | grep -q -- '$password'"
check "remote add names a missing variable" bash -c \
  "$(declare -f os; declare -p password); os env -u OS_USERNAME CAIRN_API_TOKEN=$alice '$cairn' remote add ks2 --kind swift --buckets x 2>&1 | grep -q 'OS_USERNAME (or OS_USER_ID) is not set'"

uuid=$(os env CAIRN_API_TOKEN="$alice" "$cairn" import "swift://$container/" --name ks-import 2>"$work/import.err" | sed -n 1p)
cat "$work/import.err" >&2
check "import swift://container/ with OS_*" test -n "$uuid"
check "alice gets the import through the gateway (Keystone sign-in), no cloud credentials" bash -c \
  "$(declare -f nocreds); nocreds env CAIRN_API_TOKEN=$alice '$cairn' get -q '$uuid' '$work/got' && diff -r '$d' '$work/got'"
check "share with bob" env CAIRN_API_TOKEN="$alice" "$cairn" share "$uuid" --with bob --level read
check "bob reads the shared import byte-identically through the gateway" bash -c \
  "$(declare -f nocreds); nocreds env CAIRN_API_TOKEN=$bob '$cairn' get -q '$uuid' '$work/bob' && diff -r '$d' '$work/bob'"
check "no Keystone password in the server log" bash -c "! grep -q -- '$password' '$work/server.log'"

echo "keystone e2e: $passed passed, $failed failed"
((failed == 0))
