#!/usr/bin/env bash
# `cmake --install` gives a usable package: a consumer builds with find_package(kcb) -> kcb::kcb
# and with pkg-config, and runs. Usage: tests/cli/install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer" | grep -qx '0.1.0 0'
cc -std=c11 "$src/tests/install/main.c" -o "$tmp/pc" $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs --static kcb)
"$tmp/pc" | grep -qx '0.1.0 0'
test -x "$tmp/prefix/bin/kcb-train"
echo "install: find_package, pkg-config and kcb-train work"
