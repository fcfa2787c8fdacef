#!/usr/bin/env bash
# kcb-inspect validate, checkpoint and csv, and the command's own help and usage errors, end to
# end (see inspect_lib.sh for the case forms).
# Usage: tests/cli/inspect_files.sh KCB_INSPECT INSPECT_SAMPLE TESTS_DATA_DIR
set -u
bin=$1 sample=$2 data=$3 here=$(cd "$(dirname "$0")" && pwd)
source "$here/inspect_lib.sh"
"$sample" "$tmp/s" || { echo "inspect_sample failed"; exit 1; }

# the command itself
check help 0 '^  validate PATH\.\.\. +check every record.s CRCs' -- "$bin" --help
check help_exit_codes 0 '^Exit status: 0 success; 1 a data problem' -- "$bin" --help
check no_command 2 '^usage: kcb-inspect COMMAND' -- "$bin"
check unknown_command 2 "kcb-inspect: unknown command 'frobnicate' \(see kcb-inspect --help\)" -- "$bin" frobnicate
check version 0 '^kcb-inspect [0-9]+\.[0-9]+\.[0-9]+$' -- "$bin" --version
for c in runs scalars histograms images text hparams plot validate checkpoint csv diff; do
  check "help_$c" 0 "^usage: kcb-inspect $c " -- "$bin" "$c" --help
  check "help_${c}_exit" 0 '^Exit status: 0' -- "$bin" "$c" --help
  check "bad_flag_${c}" 2 "kcb-inspect $c: unknown option '--nope' \(see kcb-inspect $c --help\)" -- "$bin" "$c" x --nope
done

# validate: CRC pass over whole, truncated and corrupt files; the exit status says which
check_exact validate_fixture 0 validate_fixture.out -- env -C "$data" "$bin" validate tfevents/logdir
check_exact validate_broken 1 validate_broken.out -- env -C "$data" "$bin" validate tfevents/broken tfevents/logdir/run_a/hp
check validate_truncated 1 '^BAD .*truncated\.tfevents: truncated record at offset 42173 \(55 of 102 bytes present\) \(KCB_ETRUNC\); 207 whole records, 42173 of 42228 bytes$' -- \
  "$bin" validate "$data"/tfevents/broken/truncated.tfevents
check validate_corrupt_data 1 'corrupt_data\.tfevents: data CRC mismatch in the record at offset 6159 \(KCB_ECRC\)' -- \
  "$bin" validate "$data"/tfevents/broken/corrupt_data.tfevents
check validate_corrupt_length 1 'corrupt_length\.tfevents: length CRC mismatch in the record at offset 3084 \(KCB_ECRC\)' -- \
  "$bin" validate "$data"/tfevents/broken/corrupt_length.tfevents
check_json validate_json_bad 1 json -- "$bin" validate "$data"/tfevents/broken --json
run_cmd "$bin" validate "$data"/tfevents/broken/truncated.tfevents --json
/usr/bin/python3 -c 'import json,sys; f=json.load(sys.stdin)["files"][0]; sys.exit(not (f["ok"] is False and f["problem"] == "KCB_ETRUNC" and f["offset"] == 42173 and f["records"] == 207 and f["size"] == 42228))' <"$out"
report validate_json_fields "$([ $? -eq 0 ] && [ "$got" -eq 1 ] && echo 1)" "JSON fields of a truncated file"
check validate_kcb 0 '^8 files whole: 196 records, [0-9]+ bytes$' -- "$bin" validate "$tmp/s/logs" "$tmp/s/resumed"
# a PATH not checked is in the summary line and in --json, not only on stderr
check validate_missing_summary 1 '^8 files whole: 196 records, [0-9]+ bytes; 1 path not checked \(said above\)$' -- \
  "$bin" validate "$tmp/s/logs" "$tmp/nonexistent" "$tmp/s/resumed"
check validate_missing_json 1 '"not_checked": \[".*/nonexistent"\], "ok": false' -- "$bin" validate "$tmp/s/logs" "$tmp/nonexistent" --json
check validate_quiet 0 '^1 file whole' -- "$bin" validate --quiet "$data"/tfevents/logdir/run_a/hp
check validate_missing 1 "kcb-inspect validate: /nonexistent: cannot open: No such file or directory \(KCB_ENOENT\)" -- \
  "$bin" validate /nonexistent
check validate_jobs_bad 2 "kcb-inspect validate: --jobs '0': expected a whole number from 1 to 64" -- "$bin" validate "$data"/tfevents --jobs 0
# any number of threads gives the same report, in the same order
"$bin" validate "$tmp/s/logs" "$data"/tfevents/broken --jobs 1 >"$tmp/v1"
run_cmd "$bin" validate "$tmp/s/logs" "$data"/tfevents/broken --jobs 5
report validate_jobs_same "$([ "$got" -eq 1 ] && cmp -s "$tmp/v1" "$out" && echo 1)" "--jobs 5 differs from --jobs 1"
"$bin" runs "$tmp/s/logs" --json --jobs 1 >"$tmp/r1"
run_cmd "$bin" runs "$tmp/s/logs" --json --jobs=3
report runs_jobs_same "$([ "$got" -eq 0 ] && cmp -s "$tmp/r1" "$out" && echo 1)" "runs --jobs=3 differs from --jobs 1"
check validate_nothing 2 "kcb-inspect validate: expected at least one PATH" -- "$bin" validate

# checkpoint: Keras's fixtures (sums against Keras's expected.json) and kcb's files (against h5py)
check_json ckpt_keras_h5 0 checkpoint h5 -- "$bin" checkpoint "$data"/saving/m.h5 --json
check_json ckpt_keras_archive 0 checkpoint keras -- "$bin" checkpoint "$data"/saving/m.keras --json
check_json ckpt_keras_weights 0 checkpoint weights.h5 -- "$bin" checkpoint "$data"/saving/w.weights.h5 --arch 784,32:relu,10:softmax --json
check_json ckpt_keras_legacy 0 checkpoint legacy_weights.h5 -- "$bin" checkpoint "$data"/saving/w_legacy.h5 --arch 784,32:relu,10:softmax --json
check ckpt_text 0 '^  sequential/dense/kernel +float32 +\(784, 32\) +25088 +yes +-30\.0762 ' -- "$bin" checkpoint "$data"/saving/m.h5
check ckpt_text_optimizer 0 '^  optimizer state: 10 variables \(adam\), 1 iteration$' -- "$bin" checkpoint "$data"/saving/m.h5
check ckpt_config 0 '"class_name": "Sequential"' -- "$bin" checkpoint "$data"/saving/m.keras --config
check ckpt_weights_only 0 '^  sequential/dense_1/bias +float32 +\(10,\) +10 +yes ' -- "$bin" checkpoint "$data"/saving/w.weights.h5
check_json ckpt_kcb_monitor 0 kcb_checkpoint val_loss 0.25 5 -- "$bin" checkpoint "$tmp/s/ckpt.keras" --json
check_json ckpt_kcb_store 0 h5_weights "$tmp/s/ckpt.weights.h5" -- "$bin" checkpoint "$tmp/s/ckpt.weights.h5" --arch 4,3:relu,2 --json
check_json ckpt_kcb_archive 0 h5_weights "$tmp/s/ckpt.keras" -- "$bin" checkpoint "$tmp/s/ckpt.keras" --json
check ckpt_kcb_text 0 '^  monitor: val_loss = 0\.25$' -- "$bin" checkpoint "$tmp/s/ckpt.weights.h5"
# kcb-train's --model items without the input shape: said what --arch starts with
check ckpt_arch_no_shape 2 "bad input shape 'flatten' .*; --arch starts with the input shape, then kcb-train's --model items" -- \
  "$bin" checkpoint "$data"/saving/w.weights.h5 --arch flatten,32:relu,10:softmax
check ckpt_arch_mismatch 1 "kcb-inspect checkpoint: the weights do not fit --arch .*: .*w\.weights\.h5: layer 'dense'.*variable\.shape=\(784, 16\).*\(KCB_ESHAPE\)" -- \
  "$bin" checkpoint "$data"/saving/w.weights.h5 --arch 784,16:relu,10:softmax
check ckpt_bad_arch 2 "kcb-inspect checkpoint: --arch 'x': expected INPUT_SHAPE,LAYERS" -- "$bin" checkpoint "$data"/saving/w.weights.h5 --arch x
check ckpt_missing 1 "kcb-inspect checkpoint: .*/nonexistent\.h5.*\(KCB_ENOENT\)" -- "$bin" checkpoint /nonexistent.h5
check ckpt_not_keras 1 "kcb-inspect checkpoint: .*\(KCB_EFORMAT\)" -- "$bin" checkpoint "$data"/builtin_callbacks/basic.csv

# csv: columns, epochs, best epoch per column (against Python's csv module)
check_exact csv_basic_text 0 csv_basic.out -- env -C "$data" "$bin" csv builtin_callbacks/basic.csv
check_json csv_basic 0 csv "$data"/builtin_callbacks/basic.csv -- "$bin" csv "$data"/builtin_callbacks/basic.csv --json
check_json csv_append 0 csv "$data"/builtin_callbacks/append.csv -- "$bin" csv "$data"/builtin_callbacks/append.csv --json
# a header of the usual separators is split at them, though it begins "epoch" and another mark
check csv_append_runs_text 0 "append\.csv: 5 rows, 2 runs appended \(the epochs restart at row 4\), 5 columns" -- \
  "$bin" csv "$data"/builtin_callbacks/append.csv
# a CSVLogger log under another name (training.log, as Keras's docs name it), given alone
cp "$data"/builtin_callbacks/basic.csv "$tmp/training.log"
check csv_by_header 0 "training\.log: [0-9]+ rows \(epochs\)" -- "$bin" "$tmp/training.log"
printf 'epoch\tloss\n0\t0.5\n1\t0.4\n' >"$tmp/tab_training.log"
check csv_by_header_tab 0 "tab_training\.log: 2 rows \(epochs\), 2 columns, separator tab" -- "$bin" "$tmp/tab_training.log"
# a directory of checkpoints, given where a log directory goes: what it holds instead
mkdir -p "$tmp/ckdir" && cp "$data"/zoo/cnn.weights.h5 "$tmp/ckdir/w.01.weights.h5" && cp "$tmp/training.log" "$tmp/ckdir/log.csv"
check dir_of_checkpoints 1 "no event files .*; it holds 1 checkpoint file: kcb-restore $tmp/ckdir --list ranks them, kcb-inspect checkpoint FILE looks inside one; and 1 CSV log: kcb-inspect csv FILE" -- \
  "$bin" "$tmp/ckdir"
printf 'epoch-x,loss\n1,0.5\n' >"$tmp/dash_header.csv"
check csv_dash_in_header 0 "2 columns, separator ','" -- "$bin" csv "$tmp/dash_header.csv"
# epochs are whole numbers however large (not 1.23457e+06, not 3.0 in JSON)
printf 'epoch,loss\n1234566,0.5\n1234567,0.25\n' >"$tmp/big_epochs.csv"
check csv_big_epochs 0 "^  epochs 1234567\.\.1234568 \(1-based\)$" -- "$bin" csv "$tmp/big_epochs.csv"
check csv_big_epochs_json 0 '"best_epoch": 1234568, "best_epoch_0based": 1234567,' -- "$bin" csv "$tmp/big_epochs.csv" --json
check csv_separator 0 "^  a;b +min +0\.25 +-1\.5 +-1\.5 +0\.25 +-1\.5 +2 +0$" -- "$bin" csv "$data"/builtin_callbacks/separator.csv
check csv_missing 1 "kcb-inspect csv: .*nope\.csv.*\(KCB_ENOENT\)" -- "$bin" csv "$tmp/nope.csv"
printf 'epoch,loss\n0,abc\n' >"$tmp/bad.csv"
check csv_malformed 1 "kcb-inspect csv: .*bad\.csv:2: column 2 \('loss'\): 'abc' is not a number \(KCB_EFORMAT\)" -- "$bin" csv "$tmp/bad.csv"
check csv_bad_separator 2 "kcb-inspect csv: --separator ';;': expected one character" -- "$bin" csv "$tmp/bad.csv" --separator ';;'

# a path alone gets the command for its kind, with the options that follow it
same_as() { # NAME COMMAND PATH [OPTIONS...]: kcb-inspect PATH ... prints what kcb-inspect COMMAND PATH ... does
  local name=$1 cmd=$2
  shift 2
  "$bin" "$cmd" "$@" >"$tmp/explicit" 2>&1
  run_cmd "$bin" "$@"
  report "$name" "$([ "$got" -eq 0 ] && cmp -s "$tmp/explicit" "$out" && echo 1)" "kcb-inspect $* differs from kcb-inspect $cmd $*"
}
same_as path_h5 checkpoint "$data"/saving/m.h5
same_as path_keras_json checkpoint "$data"/saving/m.keras --json
same_as path_weights checkpoint "$data"/saving/w.weights.h5 --arch 784,32:relu,10:softmax
same_as path_csv csv "$data"/builtin_callbacks/basic.csv
same_as path_logdir runs "$data"/tfevents/logdir
same_as path_event_file runs "$data"/tfevents/logdir/run_a/events.out.tfevents.1795898576.vm.20707.0 --json
# options before the path or the command, as "kcb-inspect --json FILE": the same
options_first() { # NAME EXPECTED_ARGS... -- GIVEN_ARGS...: kcb-inspect GIVEN prints what kcb-inspect EXPECTED does
  local name=$1 expected=()
  shift
  while [ "$1" != "--" ]; do expected+=("$1"); shift; done
  shift
  "$bin" "${expected[@]}" >"$tmp/explicit" 2>&1
  run_cmd "$bin" "$@"
  report "$name" "$([ "$got" -eq 0 ] && cmp -s "$tmp/explicit" "$out" && echo 1)" "kcb-inspect $* differs from kcb-inspect ${expected[*]}"
}
options_first json_before_path checkpoint "$data"/saving/m.keras --json -- --json "$data"/saving/m.keras
options_first json_before_command checkpoint "$data"/saving/m.keras --json -- --json checkpoint "$data"/saving/m.keras
options_first arch_before_path checkpoint "$data"/saving/w.weights.h5 --arch 784,32:relu,10:softmax -- \
  --arch 784,32:relu,10:softmax "$data"/saving/w.weights.h5
options_first values_before_command scalars "$data"/tfevents/logdir --tag train/loss --format csv -- \
  --tag train/loss --format csv scalars "$data"/tfevents/logdir
# help asked after other options is the help, as without them
options_first json_then_help --help -- --json --help
options_first json_then_version --version -- --json --version
options_first json_then_help_command runs --help -- --json help runs
options_first tag_then_command_help scalars --help -- --tag loss --help scalars
options_first help_help --help -- help help
options_first json_quiet_then_help_command runs --help -- --json --quiet help runs
options_first jobs_then_help_command runs --help -- --jobs 2 help runs
options_first json_then_help_alone --help -- --json help
check scalars_json_and_csv 2 "^kcb-inspect scalars: --json and --format csv ask for two outputs: give one" -- \
  "$bin" scalars "$data"/tfevents/logdir --tag train/loss --format csv --json
check options_without_command 2 "^kcb-inspect: expected a COMMAND or PATH after '--json' \(see kcb-inspect --help\)" -- "$bin" --json
check jobs_without_command 2 "^kcb-inspect: expected a COMMAND or PATH after '2'" -- "$bin" --jobs 2
options_first json_before_dashes checkpoint "$data"/saving/m.keras --json -- --json -- "$data"/saving/m.keras
check json_before_missing 1 "^kcb-inspect: '/nonexistent-kcb/m\.h5': No such file or directory" -- "$bin" --json /nonexistent-kcb/m.h5
check path_other_file 2 "^kcb-inspect: '.*expected\.json' is neither a command nor a checkpoint, CSV log, event file or log directory" -- \
  "$bin" "$data"/tfevents/logdir/expected.json
# a missing file is a data problem (exit 1) as with a command, not an unknown command
check path_missing 1 "^kcb-inspect: '/nonexistent/m\.h5': No such file or directory" -- "$bin" /nonexistent/m.h5
check word_not_command 2 "^kcb-inspect: unknown command 'runz' \(did you mean runs\?\)" -- "$bin" runz

finish
