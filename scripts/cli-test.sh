#!/usr/bin/env bash
# End-to-end tests of the `cairn` binary's format tools, as a user runs them.
# Usage: scripts/cli-test.sh PATH/TO/cairn
set -uo pipefail
cairn=$(realpath "${1:?usage: cli-test.sh PATH/TO/cairn}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect NAME EXPECTED_STDOUT -- CMD...: exit 0 and exactly that output.
expect() {
  local name=$1 want=$2; shift 3
  local got
  if ! got=$("$@" 2>"$work/err"); then fail "$name: exit $? ($(cat "$work/err"))"; return; fi
  [[ $got == "$want" ]] && ok || fail "$name: got '$got', want '$want'"
}

# expect_error NAME STDERR_SUBSTRING -- CMD...: non-zero exit and a message on stderr.
expect_error() {
  local name=$1 want=$2; shift 3
  if "$@" >"$work/out" 2>"$work/err"; then fail "$name: succeeded, expected an error"; return; fi
  grep -qF -- "$want" "$work/err" && ok || fail "$name: stderr '$(cat "$work/err")' lacks '$want'"
}

foo=$'. acbd18db4cc2f85cedef654fccc4a4d8+3 0:3:foo\n'
printf '%s' "$foo" >"$work/foo.txt"
expect "pdh file" "1f4b0bc7583c2a7f9102c395f4ffc5e3+45" -- "$cairn" manifest pdh "$work/foo.txt"
expect "pdh stdin" "1f4b0bc7583c2a7f9102c395f4ffc5e3+45" -- \
  bash -c "printf '%s' '$foo' | '$cairn' manifest pdh -"
expect "pdh empty" "d41d8cd98f00b204e9800998ecf8427e+0" -- "$cairn" manifest pdh /dev/null
expect "pdh is over the text as given" "23ca013983d6239e98931cc779e68426+114" -- \
  bash -c "printf '. 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n' | '$cairn' manifest pdh"
expect "normalize" $'. 3858f62230ac3c915f300c664312c63f+6 3:3:bar.txt 0:3:foo.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt' -- \
  bash -c "printf '. 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n' | '$cairn' manifest normalize -"
expect "normalize pdh" "d6c3b8e571f1b81ebb150a45ed06c884+114" -- \
  bash -c "printf '. 3858f62230ac3c915f300c664312c63f+6 0:3:foo.txt 3:3:bar.txt\n./baz 73feffa4b7f6bb68e44cf984c85f6e88+3 0:3:baz.txt\n' | '$cairn' manifest normalize | '$cairn' manifest pdh"
expect "validate" "valid: 1 file, 0 directories, 1 block, 3 B" -- "$cairn" manifest validate "$work/foo.txt"
expect "validate quiet" "" -- "$cairn" manifest validate -q "$work/foo.txt"
printf '. acbd18db4cc2f85cedef654fccc4a4d8+3 0:4:foo\n' >"$work/bad.txt"
expect_error "validate names file, line and column" "bad.txt: line 1, column 38: file segment" -- \
  "$cairn" manifest validate "$work/bad.txt"
expect_error "normalize rejects invalid" "beyond the 3-byte stream" -- \
  "$cairn" manifest normalize "$work/bad.txt"
expect_error "missing file" "open $work/nope: No such file or directory" -- \
  "$cairn" manifest pdh "$work/nope"
expect_error "directory given" "is a directory" -- "$cairn" manifest validate "$work"
expect "ls" $'           3  foo' -- "$cairn" manifest ls "$work/foo.txt"

# Signatures: the vector of arvados-keep.md §4.2.
key="13u9fkuccnboeewr0ne3mvapk28epf68a3bhj9q8sb4l6e4e5mkkp6nhj2mmpscgu1zze5h5enydxfe3j215024u16ij4hjaiqs5u4pzsl3nczmaoxncljkm4875xqn4xv058koz3vkptmzhyheiy6wzevzjmdvxhvcqsvr5abhl15c2d4o4jhl0s91lojy1mtrzqqvprqcverls0xvy9vai9t1l1lvvazpuadafm71jl4mrwq2ygokee3eamvjy8qq1fvy238838enjmy5wzy2md7yvsitp5vztft6j4q866efym7e6vu5wm9fpnwjyxfldw3vbo01mgjs75rgo7qioh8z8ij7jpyp8508okhgbbex3ceei786u5rw2a9gx743dj3fgq2irk"
token="hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk"
signed="acbd18db4cc2f85cedef654fccc4a4d8+3+A89118b78732c33104a4d6231e8b5a5fa1e4301e3@7fffffff"
expect "sign" "$signed" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator sign acbd18db4cc2f85cedef654fccc4a4d8+3 --token "$token" --expiry 2147483647 --ttl 1209600
printf '%s\n' "$token" >"$work/token"
expect "sign with token file" "$signed" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator sign acbd18db4cc2f85cedef654fccc4a4d8+3 --token-file "$work/token" --expiry 2147483647 --ttl 1209600
expect "verify" "valid: signature expires 2038-01-19T03:14:07Z" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator verify "$signed" --token "$token" --ttl 1209600
expect_error "verify wrong token" "invalid permission signature" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator verify "$signed" --token other --ttl 1209600
expect_error "verify wrong ttl" "invalid permission signature" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator verify "$signed" --token "$token" --ttl 3600
expect_error "verify expired" "expired" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator verify "$signed" --token "$token" --ttl 1209600 --now 2147483648
expect_error "verify unsigned" "missing permission signature" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator verify acbd18db4cc2f85cedef654fccc4a4d8+3 --token "$token" --ttl 1209600
expect_error "sign without key" "CAIRN_BLOB_SIGNING_KEY is not set" -- env -u CAIRN_BLOB_SIGNING_KEY \
  "$cairn" locator sign acbd18db4cc2f85cedef654fccc4a4d8+3 --token "$token" --expiry 2147483647 --ttl 1209600
expect_error "sign bad locator" "acbd18db4cc2f85cedef654fccc4a4d8+3+z" -- env CAIRN_BLOB_SIGNING_KEY="$key" \
  "$cairn" locator sign acbd18db4cc2f85cedef654fccc4a4d8+3+z --token "$token" --expiry 2147483647 --ttl 1209600

# External locators: built, inspected, and carried through a manifest.
ext=$("$cairn" locator external 's3://bucket/data/big.bin?versionId=v1' --size 157286400) || fail "external"
expect "external shows url" "external object: s3://bucket/data/big.bin?versionId=v1" -- \
  bash -c "'$cairn' locator show '$ext' | grep '^external object'"
printf '. %s 0:157286400:big.bin\n' "$ext" >"$work/ext.txt"
expect "external manifest normalizes to itself" "$(cat "$work/ext.txt")" -- "$cairn" manifest normalize "$work/ext.txt"
expect "external manifest: 3 chunks" "valid: 1 file, 0 directories, 3 blocks, 150.0 MiB" -- \
  "$cairn" manifest validate "$work/ext.txt"

# cairn obj without a server: clear errors before any request.
expect_error "obj: not an s3 URL" "is not an s3://bucket/key URL" -- \
  env AWS_ACCESS_KEY_ID=k AWS_SECRET_ACCESS_KEY=s "$cairn" obj stat /tmp/x
expect_error "obj: no credentials" "no S3 credentials" -- \
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE HOME=$work "$cairn" obj ls s3://b
expect_error "obj: secret without key" "no access key id" -- \
  env -u AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=hidden HOME=$work "$cairn" obj ls s3://b
env -u AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=hidden HOME=$work "$cairn" obj ls s3://b 2>&1 |
  grep -q hidden && fail "obj: the secret leaked into a message" || ok

# Help and usage.
expect "help lists commands" "yes" -- bash -c "'$cairn' --help | grep -q 'manifest' && '$cairn' --help | grep -q 'locator' && echo yes"
expect "help subcommand" "yes" -- bash -c "'$cairn' help manifest pdh | grep -q 'portable data hash' && echo yes"
expect "help alone is the top help" "yes" -- bash -c "'$cairn' help | grep -q '^Usage: cairn \[OPTIONS\]' && echo yes"
expect "a group alone prints its help" "yes" -- bash -c "'$cairn' manifest | grep -q '^Usage: cairn manifest ' && echo yes"
expect "help of a subcommand names it once" "yes" -- bash -c "'$cairn' help locator sign | grep -q '^Usage: cairn locator sign \[OPTIONS\] LOCATOR' && echo yes"
expect_error "help unknown" "has no command" -- "$cairn" help nosuch
expect_error "unknown command" "nosuch" -- "$cairn" nosuch
"$cairn" manifest pdh --bogus >/dev/null 2>&1
[[ $? == 2 ]] && ok || fail "usage error exits 2"

echo "cli-test: $passed passed, $failed failed"
((failed == 0))
