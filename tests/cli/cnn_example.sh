#!/usr/bin/env bash
# cnn_example.sh — examples/cnn_fashion_mnist on a slice of Fashion-MNIST: the CSV log has one row
# per epoch, the TensorBoard run holds histograms of every weight (BatchNormalization's moving
# statistics included) and conv kernel images, the best checkpoint is a .keras archive that
# kcb-inspect reads, and the program evaluates it.
# Usage: cnn_example.sh EXAMPLE KCB_INSPECT. Exit 77 (skipped) without the data.
set -eu
example=${1:?usage: cnn_example.sh EXAMPLE KCB_INSPECT}
inspect=${2:?usage: cnn_example.sh EXAMPLE KCB_INSPECT}
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "cnn_example: skipped ($data is missing)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi
}
"$example" "$data" 500 "$tmp" 2 >"$tmp/out.txt" 2>"$tmp/err.txt" || { cat "$tmp/err.txt"; exit 1; }
check "nothing on stderr" test ! -s "$tmp/err.txt"
check "a summary with the non-trainable moving statistics" grep -q "Non-trainable params: 192 " "$tmp/out.txt"
check "2 CSV rows after the header" test "$(wc -l <"$tmp/training_log.csv")" -eq 3
check "CSV columns (CRLF lines, as Keras)" grep -q $'^epoch,accuracy,loss,val_accuracy,val_loss\r$' "$tmp/training_log.csv"
check "the best checkpoint" test -s "$tmp/best.keras"
check "the checkpoint holds BatchNormalization's four variables" \
  bash -c "'$inspect' checkpoint '$tmp/best.keras' | grep -q moving_variance"
"$inspect" histograms "$tmp/logs" >"$tmp/hist.txt"
check "a moving_mean histogram" grep -q "sequential/batch_normalization/moving_mean/histogram" "$tmp/hist.txt"
"$inspect" images "$tmp/logs" >"$tmp/images.txt"
check "conv kernel images" grep -q "sequential/conv2d/kernel/image" "$tmp/images.txt"
check "a test evaluation of the best checkpoint" grep -q "^Best checkpoint .*test accuracy 0\." "$tmp/out.txt"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
