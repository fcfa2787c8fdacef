#!/usr/bin/env bash
# examples.sh — end-to-end check of the ports of Keras's guide "Writing your own callbacks"
# (examples/*.c): runs each program on Debian's Fashion-MNIST and checks its output against
# what the guide's Python prints (messages, key lists, batch counts, number formats).
#
# Usage: tests/cli/examples.sh BUILD_DIR/examples
# Prints "examples: N checks passed", or stops at the first mismatch with a message on stderr
# and exit status 1. Prints "examples: skipped ..." and exits 0 when the data is not installed.
set -eu

bin=${1:?usage: examples.sh DIR_OF_BUILT_EXAMPLES}
data=/usr/share/datasets/fashion-mnist

if [ ! -d "$data" ]; then
  echo "examples: skipped ($data is missing; install dataset-fashion-mnist)"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

checks=0
current=""

fail() {
  echo "examples: FAIL [$current]: $*" >&2
  exit 1
}
pass() { checks=$((checks + 1)); }

# run PROGRAM: runs it on the default data; it must exit 0 and write nothing to stderr.
run() {
  current=$1
  [ -x "$bin/$1" ] || fail "$bin/$1 is not an executable"
  local rc=0
  "$bin/$1" >"$tmp/$1.out" 2>"$tmp/$1.err" || rc=$?
  [ "$rc" -eq 0 ] || fail "exited with status $rc: $(head -c 500 "$tmp/$1.err")"
  pass
  [ ! -s "$tmp/$1.err" ] || fail "wrote to stderr: $(head -c 500 "$tmp/$1.err")"
  pass
}

out() { printf '%s\n' "$tmp/$current.out"; }

# has LINE: the output holds LINE as a whole line.
has() {
  grep -Fxq -- "$1" "$(out)" || fail "no line '$1'"
  pass
}
# count_lines ERE N: exactly N lines match ERE.
count_lines() {
  local n
  n=$(grep -cE -- "$1" "$(out)" || true)
  [ "$n" -eq "$2" ] || fail "$n lines match /$1/, expected $2"
  pass
}
# line_at N LINE: line N (1-based; -1 for the last) is LINE.
line_at() {
  local got
  if [ "$1" -eq -1 ]; then got=$(tail -n 1 "$(out)"); else got=$(sed -n "$1p" "$(out)"); fi
  [ "$got" = "$2" ] || fail "line $1 is '$got', expected '$2'"
  pass
}
# same_as FILE WHAT: the (masked) output equals FILE line for line.
same_as() {
  if ! diff -u "$1" "$2" >"$tmp/diff"; then
    fail "$3 differs from the guide's (expected '-', got '+'):
$(head -n 40 "$tmp/diff")"
  fi
  pass
}

# One {:7.2f} field as Python formats it: at least 7 characters, right-aligned, two decimals.
F72='(   [0-9]|  [0-9]{2}|  -[0-9]| [0-9]{3}| -[0-9]{2}|[0-9]{4,}|-[0-9]{3,})\.[0-9]{2}'
# mask_fields FILE: the output with every well-formed {:7.2f} of the loss printer replaced by
# <7.2f> (a malformed one is left as is, so the comparison shows it).
mask_fields() {
  sed -E \
    -e "s/^(Up to batch [0-9]+, the average loss is )$F72\.\$/\1<7.2f>./" \
    -e "s/^(The average loss for epoch [0-9]+ is )$F72( and mean absolute error is )$F72\.\$/\1<7.2f>\3<7.2f>./" \
    "$1"
}
batch_line() { echo "Up to batch $1, the average loss is <7.2f>."; }
epoch_line() { echo "The average loss for epoch $1 is <7.2f> and mean absolute error is <7.2f>."; }

# ---- custom_callback: "A basic example" ------------------------------------------------
run custom_callback
K2="['loss', 'mean_absolute_error']"
K4="['loss', 'mean_absolute_error', 'val_loss', 'val_mean_absolute_error']"
line_at 1 "Starting training; got log keys: []"
line_at 2 "Start epoch 0 of training; got log keys: []"
has "...Training: start of batch 0; got log keys: []"
has "...Training: end of batch 0; got log keys: $K2"
has "...Training: end of batch 3; got log keys: $K2"
# validation_split=0.5 leaves 500 training samples: ceil(500 / 128) = 4 batches.
count_lines '^\.\.\.Training: start of batch ' 4
count_lines '^\.\.\.Training: end of batch ' 4
has "End epoch 0 of training; got log keys: $K4"
has "Stop training; got log keys: $K4"
# fit validates on the other 500 (4 batches), evaluate runs over 1000 test samples (8 batches).
count_lines '^Start testing; got log keys: \[\]$' 2
count_lines "^Stop testing; got log keys: \\['loss', 'mean_absolute_error'\\]\$" 2
n=$(awk '/^Stop training/ { exit } /^\.\.\.Evaluating: end of batch/ { n++ } END { print n + 0 }' "$(out)")
[ "$n" -eq 4 ] || fail "$n validation batches in fit, expected 4"
pass
n=$(awk '/^Stop training/ { after = 1; next } after && /^\.\.\.Evaluating: end of batch/ { n++ } END { print n + 0 }' "$(out)")
[ "$n" -eq 8 ] || fail "$n evaluating batches in evaluate, expected 8"
pass
has "...Evaluating: end of batch 7; got log keys: $K2"
has "Start predicting; got log keys: []"
count_lines '^\.\.\.Predicting: end of batch ' 8
has "...Predicting: end of batch 7; got log keys: ['outputs']"
line_at -1 "Stop predicting; got log keys: []"
# The whole transcript: every hook, in Keras 3's order (it holds no numbers).
{
  echo "Starting training; got log keys: []"
  echo "Start epoch 0 of training; got log keys: []"
  for b in 0 1 2 3; do
    echo "...Training: start of batch $b; got log keys: []"
    echo "...Training: end of batch $b; got log keys: $K2"
  done
  echo "Start testing; got log keys: []"
  for b in 0 1 2 3; do
    echo "...Evaluating: start of batch $b; got log keys: []"
    echo "...Evaluating: end of batch $b; got log keys: $K2"
  done
  echo "Stop testing; got log keys: $K2"
  echo "End epoch 0 of training; got log keys: $K4"
  echo "Stop training; got log keys: $K4"
  echo "Start testing; got log keys: []"
  for b in 0 1 2 3 4 5 6 7; do
    echo "...Evaluating: start of batch $b; got log keys: []"
    echo "...Evaluating: end of batch $b; got log keys: $K2"
  done
  echo "Stop testing; got log keys: $K2"
  echo "Start predicting; got log keys: []"
  for b in 0 1 2 3 4 5 6 7; do
    echo "...Predicting: start of batch $b; got log keys: []"
    echo "...Predicting: end of batch $b; got log keys: ['outputs']"
  done
  echo "Stop predicting; got log keys: []"
} >"$tmp/expected"
same_as "$tmp/expected" "$(out)" "the transcript"

# ---- loss_and_error: "Usage of logs dict" -----------------------------------------------
run loss_and_error
# fit: 2 epochs of ceil(1000 / 128) = 8 batches; evaluate: 8 batches.
count_lines '^The average loss for epoch ' 2
count_lines '^Up to batch ' 24
{
  for e in 0 1; do
    for b in 0 1 2 3 4 5 6 7; do batch_line $b; done
    epoch_line $e
  done
  for b in 0 1 2 3 4 5 6 7; do batch_line $b; done
} >"$tmp/expected"
mask_fields "$(out)" >"$tmp/masked"
same_as "$tmp/expected" "$tmp/masked" "the output with {:7.2f} fields masked"
# An epoch's logs are its last batch's: the epoch loss repeats "Up to batch 7".
awk '
  /^Up to batch / { last = $9 + 0 }
  /^The average loss for epoch / {
    if ($8 + 0 != last) { print "epoch " $6 " loss " $8 " differs from its last batch average " last; bad = 1 }
  }
  END { exit bad }' "$(out)" >"$tmp/why" || fail "$(cat "$tmp/why")"
pass

# ---- early_stopping_at_min_loss: "Early stopping at minimum loss" ------------------------
run early_stopping_at_min_loss
count_lines '^Restoring model weights from the end of the best epoch\.$' 1
count_lines '^Epoch [0-9]+: early stopping$' 1
last=$(tail -n 1 "$(out)")
case $last in
  "Epoch "*": early stopping") ;;
  *) fail "the last line is '$last', expected 'Epoch N: early stopping'" ;;
esac
pass
stop=${last#Epoch }
stop=${stop%%:*}
epochs=$(grep -c '^The average loss for epoch ' "$(out)" || true)
[ "$stop" -eq "$epochs" ] || fail "'$last' after $epochs epochs, expected 'Epoch $epochs: early stopping'"
pass
# stopped_epoch > 0 for the message, and before the 30th epoch.
{ [ "$stop" -ge 2 ] && [ "$stop" -lt 30 ]; } || fail "stopped at epoch $stop, expected 2..29"
pass
# Every epoch: 1 to 5 batches (steps_per_epoch=5) numbered from 0, then its loss line; after
# the last, the restore message, then the early stopping line.
{
  mask_fields "$(out)" | awk -v stop="$stop" '
    /^Up to batch / { if ($4 + 0 != nb) { print "batch " $4 " in epoch " ne ", expected " nb; exit 1 } nb++; next }
    /^The average loss for epoch / {
      if ($6 + 0 != ne) { print "epoch " $6 ", expected " ne; exit 1 }
      if (nb < 1 || nb > 5) { print "epoch " ne " ran " nb " batches, expected 1..5"; exit 1 }
      ne++; nb = 0; next
    }
    /^Restoring model weights/ { if (ne != stop || nb != 0) { print "the restore message is not right after the last epoch"; exit 1 } next }
    /: early stopping$/ { next }
    { print "unexpected line: " $0; exit 1 }'
} >"$tmp/why" || fail "$(cat "$tmp/why")"
pass
# patience=0: each epoch but the last lowered the loss; the last did not.
awk '
  /^The average loss for epoch / { loss[n++] = $8 + 0 }
  END {
    for (i = 1; i < n - 1; i++) if (loss[i] > loss[i - 1]) { print "epoch " i " loss " loss[i] " rose, yet training went on"; exit 1 }
    if (n >= 2 && loss[n - 1] < loss[n - 2]) { print "the last epoch lowered the loss, yet training stopped"; exit 1 }
  }' "$(out)" >"$tmp/why" || fail "$(cat "$tmp/why")"
pass

# ---- custom_lr_scheduler: "Learning rate scheduling" ------------------------------------
run custom_lr_scheduler
# A rate the schedule keeps is the optimizer's float32 variable, printed widened to double;
# a rate from LR_SCHEDULE is printed as the table's double.
has "Epoch 0: Learning rate is 0.10000000149011612."
has "Epoch 3: Learning rate is 0.05."
has "Epoch 4: Learning rate is 0.05000000074505806."
has "Epoch 12: Learning rate is 0.001."
count_lines '^Epoch [0-9]+: Learning rate is ' 15
count_lines '^The average loss for epoch ' 15
count_lines '^$' 15
lrs=(0.10000000149011612 0.10000000149011612 0.10000000149011612
     0.05 0.05000000074505806 0.05000000074505806
     0.01 0.009999999776482582 0.009999999776482582
     0.005 0.004999999888241291 0.004999999888241291
     0.001 0.0010000000474974513 0.0010000000474974513)
# "\nEpoch {epoch}: Learning rate is {lr}." at each epoch's start, then its 1 to 5 batches
# (steps_per_epoch=5) and its loss line.
# (batch lines are collapsed into one; their numbering is checked below).
{
  mask_fields "$(out)" | awk '
    /^$/ { next }
    /^Up to batch / { if (!seen++) print "Up to batch N, the average loss is <7.2f>."; next }
    { seen = 0; print }'
} >"$tmp/masked"
{
  for e in $(seq 0 14); do
    echo "Epoch $e: Learning rate is ${lrs[$e]}."
    echo "Up to batch N, the average loss is <7.2f>."
    epoch_line "$e"
  done
} >"$tmp/expected"
same_as "$tmp/expected" "$tmp/masked" "the epoch sequence (rates, batch lines, loss lines)"
# Each rate line follows an empty line (the guide prints "\nEpoch ...").
awk '/^Epoch [0-9]+: Learning rate is / && prev != "" { print "no empty line before: " $0; bad = 1; exit } { prev = $0 } END { exit bad }' \
  "$(out)" >"$tmp/why" || fail "$(cat "$tmp/why")"
pass
# Batches numbered from 0, at most 5 an epoch.
awk '
  /^Epoch [0-9]+: Learning rate is / { nb = 0; next }
  /^Up to batch / { if ($4 + 0 != nb || nb >= 5) { print "unexpected: " $0; exit 1 } nb++ }' \
  "$(out)" >"$tmp/why" || fail "$(cat "$tmp/why")"
pass

current=""
echo "examples: $checks checks passed"
