#!/usr/bin/env bash
# Runs examples/tensorboard in a scratch directory and checks the runs it reads back.
# Usage: tests/cli/tensorboard_example.sh EXAMPLE_BINARY
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$("$1" "$tmp/logs")
echo "$out"
fail() { echo "FAIL: $1"; exit 1; }
echo "$out" | grep -Eq '^run \.  +4 events: 3 hparams$' || fail "hparams run"
echo "$out" | grep -Eq '^run extra +7 events: 3 scalar, 1 image, 1 text, 1 audio$' || fail "extra run"
echo "$out" | grep -Eq '^run train +[0-9]+ events: [0-9]+ scalar, 16 histogram, 16 image, 1 tensor; last epoch_loss [0-9.]+$' || fail "train run"
echo "$out" | grep -Eq '^run validation +17 events: 16 scalar; last epoch_loss [0-9.]+$' || fail "validation run"
echo ok
