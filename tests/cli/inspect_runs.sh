#!/usr/bin/env bash
# kcb-inspect runs, scalars, diff and plot, end to end (see inspect_lib.sh for the case forms).
# Usage: tests/cli/inspect_runs.sh KCB_INSPECT INSPECT_SAMPLE TESTS_DATA_DIR
set -u
bin=$1 sample=$2 data=$3 here=$(cd "$(dirname "$0")" && pwd)
source "$here/inspect_lib.sh"
fx=$data/tfevents/logdir
"$sample" "$tmp/s" || { echo "inspect_sample failed"; exit 1; }
logs=$tmp/s/logs

# runs: the PyTorch fixture (values against TensorBoard's reading of it) and kcb's logs
check_json runs_fixture_json 0 fixture_runs -- "$bin" runs "$fx" --json
check_exact runs_fixture_text 0 runs_fixture.out -- "$bin" runs "$fx"
check_json runs_kcb_json 0 sample_runs -- "$bin" runs "$logs" --json
check runs_kcb_text 0 '^  scalars     epoch_loss      scalar        20  0\.\.19      2   0\.8125  0\.8125        2$' -- "$bin" runs "$logs"
check runs_one_file 0 '^events\.out\.tfevents\.[0-9]+\.[^ ]+\.0  \(1 file, 208 events, 42275 bytes\)$' -- \
  "$bin" runs "$fx"/run_a/events.out.tfevents.1795898576.vm.20707.0
check runs_truncated 1 'warning: .*/truncated\.tfevents: truncated record at offset 42173 .*\(KCB_ETRUNC\)' -- \
  "$bin" runs "$data"/tfevents/broken/truncated.tfevents
check runs_truncated_listed 1 '^  scalars     train/loss           scalar       100  0\.\.99' -- \
  "$bin" runs "$data"/tfevents/broken/truncated.tfevents
check runs_corrupt 1 'data CRC mismatch in the record at offset 6159 \(KCB_ECRC\)' -- \
  "$bin" runs "$data"/tfevents/broken/corrupt_data.tfevents
check_json runs_corrupt_json 1 json -- "$bin" runs "$data"/tfevents/broken/corrupt_length.tfevents --json
check runs_missing 1 "kcb-inspect runs: /nonexistent/logs: cannot open: No such file or directory \(KCB_ENOENT\)" -- \
  "$bin" runs /nonexistent/logs
mkdir -p "$tmp/empty"
check runs_empty 1 "empty: no event files" -- "$bin" runs "$tmp/empty"
check runs_bad_flag 2 "kcb-inspect runs: unknown option '--bogus' \(see kcb-inspect runs --help\)" -- "$bin" runs "$fx" --bogus
check runs_no_logdir 2 "kcb-inspect runs: expected one LOGDIR" -- "$bin" runs
# symbolic links to directories are followed, as TensorBoard's data server walks (a folder of links
# to runs), and a link back to a directory above is not: a link loop lists the run once, at once
mkdir -p "$tmp/loop" && cp "$fx"/run_a/events.out.tfevents.* "$tmp/loop/" && ln -s . "$tmp/loop/l1" && ln -s . "$tmp/loop/l2"
check runs_link_loop 0 '^\.  \(1 file, ' -- timeout 20 "$bin" runs "$tmp/loop"
assert runs_link_loop_once test "$(timeout 20 "$bin" runs "$tmp/loop" | grep -c 'file, ')" -eq 1
mkdir -p "$tmp/linked" && ln -s "$tmp/loop" "$tmp/linked/exp1"
check runs_linked_run 0 '^exp1  \(1 file, ' -- "$bin" runs "$tmp/linked"
# two links in each of 20 directories to the next: 2^20 paths to one run, walked once each
mkdir -p "$tmp/chain" && for i in $(seq 0 20); do mkdir -p "$tmp/chain/n$i"; done
for i in $(seq 0 19); do ln -s "../n$((i + 1))" "$tmp/chain/n$i/a"; ln -s "../n$((i + 1))" "$tmp/chain/n$i/b"; done
cp "$fx"/run_a/events.out.tfevents.* "$tmp/chain/n20/"
check runs_link_chain_once 0 '^1$' -- sh -c "timeout 20 '$bin' runs '$tmp/chain' | grep -c 'file, '"
# diff of two log directories of one run each compares runs of one name only: exp1's train is not
# exp3's validation
mkdir -p "$tmp/dtrain/train" "$tmp/dval/validation"
cp "$fx"/run_a/events.out.tfevents.* "$tmp/dtrain/train/" && cp "$fx"/run_a/events.out.tfevents.* "$tmp/dval/validation/"
check diff_lone_runs_by_name 0 '^validation/train/loss +- +- +99 ' -- "$bin" diff "$tmp/dtrain" "$tmp/dval"
# ... while two event files (or run directories) given themselves are compared tag by tag
ev=$(ls "$fx"/run_a/events.out.tfevents.* | head -n 1)
cp "$ev" "$tmp/one.tfevents.a" && cp "$ev" "$tmp/two.tfevents.b"
check diff_event_files 0 '^train/loss +99 +[0-9.]+ +99 +[0-9.]+ +0 +\+0\.0%' -- "$bin" diff "$tmp/one.tfevents.a" "$tmp/two.tfevents.b"
check runs_help 0 '^usage: kcb-inspect runs LOGDIR \[--json\]$' -- "$bin" runs --help

# scalars: every format; a resumed run's re-logged steps
check_json scalars_fixture_json 0 fixture_scalars train/loss -- "$bin" scalars "$fx" --tag train/loss --json
check_json scalars_fixture_new_style 0 fixture_scalars train/acc_new_style -- "$bin" scalars "$fx" --tag train/acc_new_style --format json
run_cmd "$bin" scalars "$fx" --tag train/loss --format csv
/usr/bin/python3 "$here/inspect_check.py" fixture_scalars_csv "$data" train/loss <"$out" >"$err"
report scalars_fixture_csv "$([ $? -eq 0 ] && [ "$got" -eq 0 ] && echo 1)" "CSV differs from expected.json"
check scalars_csv_header 0 '^run,step,wall_time,value$' -- "$bin" scalars "$fx" --tag train/loss --format csv
check scalars_table 0 '^ +99  1700000049\.5  0\.036883167922496796$' -- "$bin" scalars "$fx" --tag train/loss
check_json scalars_kcb 0 sample_scalars epoch_loss -- "$bin" scalars "$logs" --tag epoch_loss --json
check_json scalars_kcb_accuracy 0 sample_scalars epoch_accuracy -- "$bin" scalars "$logs" --tag epoch_accuracy --json
check_json scalars_resumed 0 resumed -- "$bin" scalars "$tmp/s/resumed" --tag loss --json
check scalars_one_run 0 '^adam/validation  epoch_loss  \(20 points\)$' -- "$bin" scalars "$logs" --tag epoch_loss --run adam/validation
check scalars_unknown_tag 1 "kcb-inspect scalars: no run has the scalar tag 'nope' \(see kcb-inspect runs" -- \
  "$bin" scalars "$fx" --tag nope
check scalars_unknown_run 1 "kcb-inspect scalars: no run named 'zzz' \(runs: run_a run_a/hp\)" -- \
  "$bin" scalars "$fx" --tag train/loss --run zzz
# a tag of another kind is said to be one, and not offered back as its own suggestion; the other
# commands suggest tags of their own kind
check scalars_other_kind 1 "run 'adam/train': tag 'notes' is not a scalar \(text\)" -- "$bin" scalars "$logs" --tag notes
check scalars_other_kind_no_loop 0 '^0$' -- sh -c "'$bin' scalars '$logs' --tag notes 2>&1 | grep -c 'did you mean' || true"
check histograms_suggested 1 "no histogram with the tag 'kernel' \(did you mean dense/kernel\?\)" -- "$bin" histograms "$logs" --tag kernel
# commands that take the run with --run: RUN/TAG given whole is answered with both flags, never with
# a RUN/TAG form they would refuse in turn; scalars, which reads RUN/TAG, suggests that form
check plot_run_tag_split 1 "no run has the scalar tag 'adam/train/epoch_loss' \(did you mean --tag epoch_loss --run adam/train\?\)" -- \
  "$bin" plot "$logs" --tag adam/train/epoch_loss --sparkline
check plot_no_run_tag_suggested 0 '^0$' -- sh -c "'$bin' plot '$logs' --tag adam/train/epoch_los --sparkline 2>&1 | grep -c 'mean adam/' || true"
check scalars_run_tag_suggested 1 "no selected run has the scalar tag 'epoch_los' \(did you mean epoch_loss\?\)" -- \
  "$bin" scalars "$logs" --tag adam/train/epoch_los
check text_suggested 1 "no text summary with the tag 'note' \(did you mean notes\?\)" -- "$bin" text "$logs" --tag note
check scalars_no_tag 2 "kcb-inspect scalars: --tag TAG is required" -- "$bin" scalars "$fx"
check scalars_bad_format 2 "kcb-inspect scalars: --format 'xml': expected table, csv or json" -- "$bin" scalars "$fx" --tag x --format xml
check scalars_missing_value 2 "kcb-inspect scalars: --tag needs a value" -- "$bin" scalars "$fx" --tag
check scalars_help 0 '--format FORMAT  table \(default\), csv' -- "$bin" scalars --help

# diff: two kcb runs side by side, at the last step and at a given one
check_json diff_last 0 sample_diff -- "$bin" diff "$logs/adam" "$logs/sgd" --json
check_json diff_step 0 sample_diff -- "$bin" diff "$logs/adam" "$logs/sgd" --step 7 --json
# the log directory's own tag "train/loss" beside run "train"'s "loss": two rows, the own one "./train/loss"
mkdir -p "$tmp/amb/train"
/usr/bin/python3 -c "
import struct, sys
sys.path.insert(0, '$here')
from hostile_make import events, field, varint
def scalar(step, tag, v):
    value = field(1, tag.encode()) + bytes([0x15]) + struct.pack('<f', v)
    return struct.pack('<Bd', 0x09, 2.0) + bytes([0x10]) + varint(step) + field(5, field(1, value))
events('$tmp/amb/events.out.tfevents.1.own', scalar(0, 'train/loss', 100.0))
events('$tmp/amb/train/events.out.tfevents.1.sub', scalar(0, 'loss', 2.0))"
check diff_own_tag_kept 0 '^\./train/loss +0 +100 ' -- "$bin" diff "$tmp/amb" "$tmp/amb"
check diff_run_tag_kept 0 '^train/loss +0 +2 ' -- "$bin" diff "$tmp/amb" "$tmp/amb"
check diff_text 0 '^validation/epoch_loss  +19  +1\.3125  +19  +1\.90625  +0\.59375  +\+45\.2%$' -- "$bin" diff "$logs/adam" "$logs/sgd"
check diff_missing 1 "kcb-inspect diff: $tmp/missing: cannot open" -- "$bin" diff "$logs/adam" "$tmp/missing"
check diff_one_arg 2 "kcb-inspect diff: expected RUN_A and RUN_B" -- "$bin" diff "$logs/adam"
check diff_bad_step 2 "kcb-inspect diff: --step 'x': expected a whole number" -- "$bin" diff "$logs/adam" "$logs/sgd" --step x

# plot: PNG decoded independently (pngcheck, and zlib + chunk parsing), terminal chart lines
check plot_png 0 "^wrote $tmp/loss\.png \(800x500, 2 runs\)$" -- "$bin" plot "$logs" --tag epoch_loss --run adam/train --run sgd/train -o "$tmp/loss.png"
check plot_other_format_refused 2 "-o $tmp/loss\.svg: the chart is a PNG; name the file \*\.png" -- "$bin" plot "$logs" --tag epoch_loss -o "$tmp/loss.svg"
assert plot_other_format_nothing_written test ! -e "$tmp/loss.svg"
check plot_pngcheck 0 "^OK: .*loss\.png \(800x500, 24-bit RGB" -- pngcheck "$tmp/loss.png"
check_json plot_png_decoded 0 png "$tmp/loss.png" 800 500 -- echo '{}'
check plot_smoothed 0 "wrote .*fx\.png \(640x360, 1 run\)" -- "$bin" plot "$fx" --tag train/loss --smoothing 0.6 --width 640 --height 360 -o "$tmp/fx.png"
check_json plot_smoothed_decoded 0 png "$tmp/fx.png" 640 360 -- echo '{}'
check plot_pngcheck_fixture 0 "^OK: .*fx\.png \(640x360" -- pngcheck "$tmp/fx.png"
run_cmd "$bin" plot "$logs" --tag epoch_accuracy --term --rows 12 --columns 60
lines=$(wc -l <"$out")
width=$(/usr/bin/python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$out")
report plot_term_lines "$([ "$got" -eq 0 ] && [ "$lines" -eq 12 ] && [ "$width" -le 60 ] && echo 1)" "exit $got, $lines lines of up to $width columns, expected 12 of <= 60"
check plot_term_legend 0 'adam/train' -- "$bin" plot "$logs" --tag epoch_accuracy --term --rows 12
run_cmd "$bin" plot "$logs" --tag epoch_loss --sparkline
report plot_sparkline "$([ "$got" -eq 0 ] && [ "$(wc -l <"$out")" -eq 4 ] && grep -q '^sgd/validation  .*  2\.5 -> 1\.90625$' "$out" && echo 1)" "expected 4 sparklines"
check_json plot_json 0 json -- "$bin" plot "$logs" --tag epoch_loss --sparkline --json
check plot_unknown_tag 1 "kcb-inspect plot: no run has the scalar tag 'nope'" -- "$bin" plot "$logs" --tag nope -o "$tmp/x.png"
check plot_no_output 2 "nothing to draw: give -o FILE.png, --term or --sparkline" -- "$bin" plot "$logs" --tag epoch_loss
check plot_bad_smoothing 2 "kcb-inspect plot: --smoothing '1': expected a number from 0 to" -- "$bin" plot "$logs" --tag epoch_loss --smoothing 1 --term
check plot_new_dir 0 "^wrote $tmp/nodir/x\.png" -- "$bin" plot "$logs" --tag epoch_loss -o "$tmp/nodir/x.png"
touch "$tmp/plainfile"
check plot_bad_dir 1 "kcb-inspect plot: .*plainfile" -- "$bin" plot "$logs" --tag epoch_loss -o "$tmp/plainfile/x.png"
check plot_help 0 '--smoothing W      TensorBoard.s exponential moving average, W in \[0, 1\) \[0\]' -- "$bin" plot --help
# a path that does not exist is said as such (exit 1), not as a run beside a checkpoint
check diff_bad_step_before_missing 2 "kcb-inspect diff: --step 'x'" -- "$bin" diff "$tmp/missing.keras" "$logs" --step x
check diff_missing_path 1 "kcb-inspect diff: $tmp/missing\.keras: cannot open: No such file or directory" -- "$bin" diff "$tmp/missing.keras" "$logs"
# (-o and --output are one flag)
check output_alias_twice 2 "kcb-inspect plot: --output given twice \('$tmp/a\.png' and '$tmp/b\.png'\)" -- \
  "$bin" plot "$logs" --tag epoch_loss -o "$tmp/a.png" --output "$tmp/b.png"
# a flag of one value given twice is a usage error, not the first value dropped in silence (--run repeats)
check tag_given_twice 2 "kcb-inspect scalars: --tag given twice \('epoch_loss' and 'epoch_accuracy'\); it takes one value" -- \
  "$bin" scalars "$logs" --tag epoch_loss --tag epoch_accuracy

# a directory below the log directory that the user cannot open (a root-only lost+found) is passed
# over, as TensorBoard's data server does: the runs that can be read are listed; as root (CI), checked
# as the user nobody
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  perm=$(mktemp -d /tmp/kcb-perm-XXXXXX) && chmod 755 "$perm" && cp -r "$logs" "$perm/logs" && chmod -R a+rX "$perm/logs"
  mkdir "$perm/logs/lost+found" && chmod 700 "$perm/logs/lost+found"
  check runs_unreadable_dir_passed_over 0 "^sgd/validation  \\(1 file" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" runs "$perm/logs"
  rm -rf "$perm"
fi

finish
