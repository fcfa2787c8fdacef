#!/usr/bin/env bash
# Runs examples/tb_plugins in a scratch directory and checks what it reads back, then the same
# log directory through kcb-inspect plugins.
# Usage: tests/cli/tb_plugins_example.sh EXAMPLE_BINARY KCB_INSPECT
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$("$1" "$tmp/logs")
echo "$out"
fail() { echo "FAIL: $1"; exit 1; }
echo "$out" | grep -Eq '^trace: written$' || fail "trace"
echo "$out" | grep -Eq '^projector: hidden 300 x 8 \((binary|tsv)\), metadata 300 rows \[class, half\], sprite 72x72$' || fail "projector"
for c in red green blue; do
  echo "$out" | grep -Eq "^PR curve pr_curves/$c at epoch 3: 51 thresholds, AUC (0\.[5-9][0-9]*|1\.000)$" || fail "PR curve $c"
done
inspect=$("$2" plugins "$tmp/logs")
echo "$inspect"
echo "$inspect" | grep -Eq '^    extra / loss with its band: margin loss/mean$' || fail "margin chart"
echo "$inspect" | grep -Eq '^    extra / every loss: multiline loss/\.\*$' || fail "multiline chart"
echo "$inspect" | grep -Eq 'train/plugins/profile/[0-9_]+/.+\.trace\.json\.gz' || fail "trace listed"
echo ok
