#!/usr/bin/env bash
# csv_example.sh — runs examples/builtin_callbacks on 3000 samples into a temp dir and checks what it
# prints against the files it wrote: the CSV log exists where it says, reads back with Python's csv
# module, has the learning_rate column ReduceLROnPlateau adds, and its lowest val_loss is the epoch
# EarlyStopping restored. Exit 77 (skipped) without Fashion-MNIST.
# Usage: tests/cli/csv_example.sh PATH_TO_builtin_callbacks
set -eu
prog=${1:?usage: csv_example.sh BUILTIN_CALLBACKS_EXAMPLE}
here=$(cd "$(dirname "$0")" && pwd)
[ -d /usr/share/datasets/fashion-mnist ] || { echo "csv_example: SKIP (no Fashion-MNIST)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "csv_example: FAIL: $*"; sed 's/^/  | /' "$tmp/out" | tail -8; exit 1; }

"$prog" "" 3000 "$tmp" >"$tmp/out" 2>"$tmp/err" || fail "exit status $?: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "wrote to stderr: $(cat "$tmp/err")"
grep -Fxq "CSV log: $tmp/training_log.csv" "$tmp/out" || fail "no line 'CSV log: $tmp/training_log.csv'"
/usr/bin/python3 "$here/csv_cells.py" csv "$tmp/training_log.csv"
head -n 1 "$tmp/training_log.csv" | grep -q $'^epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\r$' ||
  fail "header: $(head -n 1 "$tmp/training_log.csv")"
line=$(grep '^CSV log: [0-9]* epochs; ' "$tmp/out") || fail "no summary line"
at=$(echo "$line" | sed -E 's/.* at epoch ([0-9]+) .*/\1/')
restored=$(echo "$line" | sed -E 's/.*restored epoch ([0-9]+)$/\1/')
[ "$at" = "$restored" ] || fail "lowest val_loss at epoch $at, but EarlyStopping restored $restored"
grep -Fxq "Restoring model weights from the end of the best epoch: $((restored + 1))." "$tmp/out" ||
  fail "no restore message for epoch $((restored + 1))"
epochs=$(echo "$line" | sed -E 's/^CSV log: ([0-9]+) epochs.*/\1/')
[ "$epochs" -eq "$(grep -c '^Epoch [0-9]*/20$' "$tmp/out")" ] || fail "$epochs CSV rows for a different number of epochs"
echo "csv_example: ok ($epochs epochs, best $at)"
