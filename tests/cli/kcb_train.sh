#!/usr/bin/env bash
# End-to-end tests of kcb-train (zstd's cli-tests style): each case is a command, the exit code
# it must return, and a pattern its output (stdout and stderr together) must contain.
# Usage: tests/cli/kcb_train.sh BIN_DIR
set -u
bin=$1/kcb-train
passed=0 failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# check NAME EXIT_CODE EXTENDED_REGEX -- COMMAND...
check() {
  local name=$1 want=$2 pattern=$3
  shift 4
  "$@" >"$out" 2>&1
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, expected $want"; sed 's/^/  | /' "$out" | tail -5; failed=$((failed + 1)); return
  fi
  if ! grep -Eq -- "$pattern" "$out"; then
    echo "FAIL $name: output lacks /$pattern/"; sed 's/^/  | /' "$out" | tail -5; failed=$((failed + 1)); return
  fi
  echo "ok   $name"; passed=$((passed + 1))
}

check help 0 '--epochs N +\[20\]' -- "$bin" --help
check help_groups 0 '^Training:$' -- "$bin" -h
check bad_number 2 "kcb-train: --epochs 'abc': expected a whole number from 0 to 1000000" -- "$bin" --epochs abc
check bad_range 2 "kcb-train: --verbose '3': expected a whole number from 0 to 2" -- "$bin" --verbose 3
check bad_split 2 "kcb-train: --validation-split '1.5': expected a number" -- "$bin" --validation-split 1.5
check unknown_flag 2 "kcb-train: option '--bogus': unknown option" -- "$bin" --bogus 1
check missing_value 2 "kcb-train: --epochs '': needs a value" -- "$bin" --epochs
check bad_loss 2 "--loss 'foo': unknown loss 'foo' \(expected one of: mean_squared_error" -- "$bin" --loss foo
check bad_optimizer 2 "--optimizer 'adagrad': unknown optimizer" -- "$bin" --optimizer adagrad
check bad_metric 2 "--metrics 'f1': unknown metric" -- "$bin" --metrics accuracy,f1
check help_tensorboard 0 '^  --logdir DIR  ' -- "$bin" --help
check tb_bad_update_freq 2 "kcb-train: --update-freq 'hourly': expected epoch, batch or a number of batches" -- \
  "$bin" --logdir /nonexistent --update-freq hourly
check tb_needs_logdir 2 "kcb-train: --logdir '': the TensorBoard options need --logdir" -- "$bin" --hparams
check missing_data 1 "kcb-train: .*/nonexistent/train-images-idx3-ubyte.*\\(KCB_ENOENT\\)" -- "$bin" --data /nonexistent

if [ -d /usr/share/datasets/fashion-mnist ]; then
  check bad_model 1 "kcb-train: model spec .*relux" -- "$bin" --model flatten,16:relux --train-limit 100
  check bad_model_shape 1 "kcb-train: fit: y has shape \(1000,\), 1 values per sample, but the model.s output needs 10" -- "$bin" --model flatten,16:relu,10:softmax \
    --loss categorical_crossentropy --train-limit 1000 --epochs 1 --verbose 0
  check train_quiet 0 '^test_loss=[0-9]+\.[0-9]{6} test_accuracy=0\.[0-9]{6}$' -- \
    "$bin" --train-limit 2000 --epochs 1 --verbose 0
  check train_verbose2 0 '^Epoch 2/2$' -- "$bin" --train-limit 2000 --epochs 2 --verbose 2
  check train_verbose2_line 0 '^29/29 - [0-9]+s - [0-9]+(ms|us)/step - accuracy: 0\.[0-9]{4} - loss: [0-9.]{6} - val_accuracy: ' -- \
    "$bin" --train-limit 2000 --epochs 1 --verbose 2
  check train_summary 0 'Total params: 235,146 \(918.54 KB\)' -- "$bin" --train-limit 200 --epochs 1 --verbose 2
  check train_metrics 0 'test_loss=[0-9.]+ test_accuracy=[0-9.]+ test_mae=[0-9.]+$' -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --metrics accuracy,mae --loss sparse_categorical_crossentropy
  tb=$(mktemp -d)
  check tensorboard_fit 0 '^test_loss=[0-9.]+ test_accuracy=' -- "$bin" --train-limit 300 --epochs 2 --verbose 0 \
    --logdir "$tb" --histogram-freq 1 --update-freq batch --write-images --hparams
  tfcheck="/usr/bin/python3 $(dirname "$0")/../data/tfevents/tfrecord_check.py"
  check tensorboard_train_run 0 'train/events\.out\.tfevents\.[0-9]{10}\..*\.v2: [0-9]+ records, all CRCs match' -- $tfcheck "$tb"/train/*
  # file_version, then per epoch evaluation_loss/accuracy_vs_iterations and epoch_loss/accuracy
  check tensorboard_validation_run 0 'validation/events.*: 9 records, all CRCs match' -- $tfcheck "$tb"/validation/*
  check tensorboard_hparams 0 'tag: "_hparams_/session_end_info"' -- $tfcheck --decode "$tb"/events*
  check tensorboard_batch_tags 0 'tag: "batch_loss"' -- $tfcheck --decode "$tb"/train/*
  rm -rf "$tb"
else
  echo "skip: no /usr/share/datasets/fashion-mnist"
fi
echo "kcb-train: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
