#!/usr/bin/env bash
# Installs kcb's build and test dependencies from Debian 12 when any is missing (needs root).
set -euo pipefail
packages="build-essential cmake pkg-config libopenblas-dev zlib1g-dev libhdf5-dev libprotobuf-c-dev
  protobuf-c-compiler libjansson-dev libzip-dev libcmocka-dev dataset-fashion-mnist
  protobuf-compiler hdf5-tools python3-h5py python3-numpy pngcheck"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
