#!/usr/bin/env bash
# Installs kcb's build dependencies from Debian 12 when any is missing (needs root); with --test, also
# the independent readers the test suite checks kcb's files with.
set -euo pipefail
packages="build-essential cmake pkg-config libopenblas-dev zlib1g-dev libhdf5-dev libprotobuf-c-dev
  protobuf-c-compiler libjansson-dev libzip-dev libcmocka-dev dataset-fashion-mnist
  libopenmpi-dev openmpi-bin"
if [ "${1:-}" = "--test" ]; then
  packages="$packages protobuf-compiler hdf5-tools python3 python3-h5py python3-numpy pngcheck
    libreoffice-calc-nogui man-db locales"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  # Another apt (unattended-upgrades, a second shell) may hold the lock: wait for it, up to 10 minutes.
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    $missing >/dev/null
fi
