#!/usr/bin/env bash
# `make run`: until `cairn server` exists (the Keep issue), a short tour of the format tools on a
# small collection made on the spot. Usage: scripts/demo.sh PATH/TO/cairn
set -euo pipefail
cairn=$(realpath "${1:?usage: demo.sh PATH/TO/cairn}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "Cairn $("$cairn" --version | cut -d' ' -f2): the Keep formats on a small collection in $work"
printf 'hello world\n' >hello.txt
printf 'foo' >foo
hello_md5=$(md5sum hello.txt | cut -d' ' -f1)
foo_md5=$(md5sum foo | cut -d' ' -f1)
# Two files packed in one block, written out of order, plus an empty directory.
cat hello.txt foo >block
block_md5=$(md5sum block | cut -d' ' -f1)
printf '. %s+15 12:3:data/foo 0:12:hello\\040world.txt\n./empty d41d8cd98f00b204e9800998ecf8427e+0 0:0:.\n' \
  "$block_md5" >collection.txt
step cat collection.txt
step "$cairn" manifest validate collection.txt
step "$cairn" manifest ls collection.txt
step "$cairn" manifest normalize collection.txt
echo "# the portable data hash is over the text as given: normalizing changes it"
step "$cairn" manifest pdh collection.txt
"$cairn" manifest normalize collection.txt >normalized.txt
step "$cairn" manifest pdh normalized.txt

echo
echo "# permission signatures bind a block to a token until an expiry"
export CAIRN_BLOB_SIGNING_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'demo-token\n' >token
expiry=$(( $(date +%s) + 3600 ))
signed=$("$cairn" locator sign "$block_md5+15" --token-file token --expiry "$expiry" --ttl 1209600)
echo "\$ cairn locator sign $block_md5+15 --token-file token --expiry $expiry --ttl 1209600"
echo "$signed"
step "$cairn" locator verify "$signed" --token-file token --ttl 1209600
printf '$ cairn locator verify … --token other-token\n'
"$cairn" locator verify "$signed" --token other-token --ttl 1209600 || true

echo
echo "# external-object locators name a byte range of an S3 or Swift object, pinned to a version"
ext=$("$cairn" locator external 's3://climate/era5/2026.nc?versionId=3HL4kqtJ' --size 157286400)
echo "\$ cairn locator external 's3://climate/era5/2026.nc?versionId=3HL4kqtJ' --size 157286400"
echo "$ext"
step "$cairn" locator show "$ext"
printf '. %s 0:157286400:era5.nc\n' "$ext" >external.txt
echo "# a 150 MiB object is read as three ≤ 64 MiB blocks and written back as one locator"
step "$cairn" manifest validate external.txt
echo
echo "Done. Next: \`make test\` runs every test; \`$cairn --help\` lists the commands."
