#!/usr/bin/env bash
# Installs every build and test dependency of Cairn from Debian packages. Idempotent: when all
# packages are present it only checks and returns; `apt-get update` runs only when something is
# missing. Run as root, or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  clang clang-format libclang-rt-14-dev
  libssl-dev openssl libfmt-dev libcli11-dev libcurl4-openssl-dev libpugixml-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libsqlite3-dev libpq-dev nlohmann-json3-dev postgresql fuse3 libfuse3-dev
  time s3cmd rclone
  keystone python3-keystoneclient python3-swiftclient uwsgi-core uwsgi-plugin-python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
