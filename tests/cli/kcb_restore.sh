#!/usr/bin/env bash
# End-to-end tests of kcb-restore (zstd's cli-tests style: each case is a command, the exit code it
# must return, and a pattern its output, stdout and stderr together, must contain).
# Usage: tests/cli/kcb_restore.sh BIN_DIR MAKE_FILES
set -u
bin=$1/kcb-restore make_files=$2
. "$(dirname "$0")/lib.sh"

"$make_files" "$tmp/c" || { echo "FAIL: cannot write the checkpoints"; exit 1; }
c=$tmp/c

check help 0 '^Exit status: 0 ok; 1 nothing rankable, or writing / verifying FILE failed; 2 usage error\.$' -- "$bin" --help
check no_args 2 '^kcb-restore: no checkpoint directory or file given \(see kcb-restore --help\)$' -- "$bin"
check bad_template 2 "kcb-restore: bad template \"w.{epoch:02d}-{val_loss:.3f\": expected '}' before end of string \(KCB_EINVAL\)" -- "$bin" "$c" --template 'w.{epoch:02d}-{val_loss:.3f'
check bad_mode 2 "kcb-restore: --mode 'up': expected auto, min or max \(see" -- "$bin" --mode up "$c"
check bad_mode_near 2 "kcb-restore: --mode 'mx': expected auto, min or max \(did you mean max\?\)" -- "$bin" --mode mx "$c"
check unknown_option 2 "kcb-restore: unknown option '--bogus'" -- "$bin" --bogus 1 "$c"
check bad_format 2 "kcb-restore: --format 'pt': expected weights.h5, h5, keras or legacy_weights.h5 \\(see" -- "$bin" --output x.pt --format pt "$c"
check bad_format_near 2 "--format 'kears': expected .* \\(did you mean keras\\?\\)" -- "$bin" --output x.keras --format kears "$c"
check bad_output_name 2 'kcb-restore: --output: the name must end in .weights.h5, .h5 or .keras' -- "$bin" --output best.bin "$c"
check legacy_weights_name 2 "kcb-restore: --output 'best\.bin': the legacy_weights\.h5 layout is written under a \*\.h5 name \(" -- \
  "$bin" --output best.bin --format legacy_weights.h5 "$c"
check h5_not_store_name 2 "the h5 layout is written under a \*\.h5 name, not \*\.weights\.h5, which Keras reads as its weights-only store" -- \
  "$bin" --output best.weights.h5 --format h5 "$c"
check auto_unknown 2 "cannot tell whether --monitor 'lr' should fall or rise: give --mode min or --mode max" -- \
  "$bin" --monitor lr "$c/stored"
check auto_typo_suggested 2 "give --mode min or --mode max \(did you mean val_loss\?\)" -- "$bin" --monitor val_los "$c/stored"
check switch_given_a_value 2 "kcb-restore: option '--json' takes no value \(given '1'\)" -- "$bin" --json=1 "$c/stored"
check missing_path 1 "kcb-restore: rank: $tmp/nope: No such file or directory \(KCB_ENOENT\)" -- "$bin" "$tmp/nope"

# stored values; the cut file is reported and skipped
check stored_best 0 "^1 +$c/stored/b\.weights\.h5 +weights\.h5 +2 +0\.2 +stored\$" -- "$bin" "$c/stored"
check stored_order 0 "^1 2 3 4 \$" -- bash -c "'$bin' '$c/stored' 2>/dev/null | awk 'NR > 1 { printf \"%s \", \$1 } END { print \"\" }'"
check stored_keras 0 "^2 +$c/stored/full\.keras +keras +4 +0\.25 +stored\$" -- "$bin" "$c/stored"
check corrupt_skipped 0 "^kcb-restore: skipping $c/stored/cut\.weights\.h5: .*cut\.weights\.h5" -- "$bin" "$c/stored"
# every file skipped: no table on stdout, only the reasons and the verdict on stderr
mkdir -p "$tmp/all_cut" && head -c 3000 "$c/stored/b.weights.h5" >"$tmp/all_cut/x.weights.h5"
check all_skipped_no_table 0 "^stdout: 0 bytes, exit 1\$" -- bash -c "out=\$('$bin' '$tmp/all_cut' 2>/dev/null); \
  rc=\$?; echo \"stdout: \${#out} bytes, exit \$rc\""
check max_mode 0 "^1 +$c/stored/a\.weights\.h5 +weights\.h5 +1 +0\.5 +stored\$" -- "$bin" --mode max "$c/stored"
# values from the names, and from the CSV log by epoch
check by_name 0 "^1 +$c/named/w\.02-0\.35\.weights\.h5 +weights\.h5 +2 +0\.35 +name\$" -- "$bin" "$c/named"
check by_csv 0 "^1 +$c/csv/ckpt_epoch2\.weights\.h5 +weights\.h5 +2 +0\.6 +csv\$" -- "$bin" "$c/csv"
check by_csv_given 0 "^1 +$c/csv/ckpt_epoch2\.weights\.h5 .* csv\$" -- "$bin" --csv "$c/csv/log.csv" "$c/csv/ckpt_epoch1.weights.h5" "$c/csv/ckpt_epoch2.weights.h5"
check by_template 0 "^1 +$c/named/w\\.02-0\\.35\\.weights\\.h5 +weights\\.h5 +2 +0\\.35 +name\$" -- \
  "$bin" --template 'ckpt/w.{epoch:02d}-{val_loss:.2f}.weights.h5' "$c/named"
check template_loss_field 1 'no checkpoint with a value for loss among 3 files' -- \
  "$bin" --monitor loss --template 'w.{epoch:02d}-{val_loss:.2f}.weights.h5' "$c/named"
# --output naming one of the checkpoints ranked (a slip of tab completion) is refused, the file kept
mkdir -p "$tmp/own" && cp "$c/stored/a.weights.h5" "$c/stored/b.weights.h5" "$tmp/own/"
cp "$tmp/own/a.weights.h5" "$tmp/own-a.before"
check output_is_input 2 "^kcb-restore: --output '$tmp/own/a\.weights\.h5' is $tmp/own/a\.weights\.h5, one of the checkpoints ranked: writing there would replace it" -- \
  "$bin" "$tmp/own" --output "$tmp/own/a.weights.h5"
assert output_is_input_kept cmp "$tmp/own/a.weights.h5" "$tmp/own-a.before"
# a file named twice, or also found in its directory, is ranked once
check named_twice_once 0 "^2 files$" -- sh -c "'$bin' '$tmp/own/a.weights.h5' '$tmp/own/a.weights.h5' '$tmp/own' 2>/dev/null | grep -c weights.h5 | sed 's/\$/ files/'"
# files saved by val_loss, named by its value: asked for val_accuracy, the CSV gives it; without one,
# nothing does (the name's number is val_loss's, which the files record)
mkdir -p "$tmp/mon" && cp "$c/stored/a.weights.h5" "$tmp/mon/w.01-0.900.weights.h5" && cp "$c/stored/b.weights.h5" "$tmp/mon/w.02-0.100.weights.h5"
printf 'epoch,val_accuracy\n0,0.7\n1,0.6\n' >"$tmp/mon.csv"
check other_monitor_csv 0 "^1 +$tmp/mon/w\.01-0\.900\.weights\.h5 +weights\.h5 +1 +0\.7 +csv\$" -- "$bin" "$tmp/mon" --monitor val_accuracy --csv "$tmp/mon.csv"
# digits that name the model, not the epoch (v2, resnet50), give no CSV row; a plain number does
plain=$(ls "$c"/none/*.weights.h5 | head -1) # a file that stores no value
# two runs appended to one log: a file whose name gives its value takes its own run's row of the
# epoch, not the last run's; a name of two decimal numbers gives none of them
mkdir -p "$tmp/tworuns" && for f in w.01-0.80 w.02-0.91 w.01-0.85 w.02-0.88; do cp "$plain" "$tmp/tworuns/$f.weights.h5"; done
printf 'epoch,val_accuracy\n0,0.8012\n1,0.9134\n0,0.8466\n1,0.8811\n' >"$tmp/tworuns/log.csv"
check two_runs_own_row 0 "^1 +$tmp/tworuns/w\.02-0\.91\.weights\.h5 +weights\.h5 +2 +0\.9134 +csv\$" -- "$bin" "$tmp/tworuns" --monitor val_accuracy
# equal values: the first epoch reached is the best (Keras keeps only a strict improvement), whatever
# the padding of the epoch in the names (w.10 sorts before w.3 as text)
mkdir -p "$tmp/ties" && for f in w.3-0.50 w.10-0.50 w.7-0.40; do cp "$plain" "$tmp/ties/$f.weights.h5"; done
check ties_earliest_epoch 0 "^2 +$tmp/ties/w\.3-0\.50\.weights\.h5 " -- "$bin" "$tmp/ties" --monitor val_loss
# a --csv that is no regular file is the file's problem (exit 1, as a missing one), not a usage error
mkfifo "$tmp/fifo.csv"
check csv_fifo_exit 1 "CSV: .*fifo\.csv: cannot open: a FIFO, not a regular file" -- "$bin" "$tmp/ties" --csv "$tmp/fifo.csv"
# CSVLogger's NA (an epoch that logged no val_loss: validation_freq 2) is no value, not a NaN that
# ranks last: Keras's ModelCheckpoint skips such an epoch
mkdir -p "$tmp/na" && for f in w_epoch1 w_epoch2 w_epoch3; do cp "$plain" "$tmp/na/$f.weights.h5"; done
printf 'epoch,loss,val_loss\n0,0.9,NA\n1,0.8,0.7\n2,0.7,nan\n' >"$tmp/na/log.csv"
check csv_na_unranked 0 "^- +$tmp/na/w_epoch1\.weights\.h5 .* none\$" -- "$bin" "$tmp/na"
check csv_nan_ranked_last 0 "^2 +$tmp/na/w_epoch3\.weights\.h5 .* nan +csv\$" -- "$bin" "$tmp/na"
# a '%' format ({val_accuracy:.2%}) writes the value times 100: read back as the value, through a
# template or alone
mkdir -p "$tmp/pct" && for f in 'w.001-81.25%' 'w.002-87.50%'; do cp "$plain" "$tmp/pct/$f.weights.h5"; done
check percent_template 0 "^1 +$tmp/pct/w\.002-87\.50%\.weights\.h5 +weights\.h5 +2 +0\.875 +name\$" -- \
  "$bin" "$tmp/pct" --monitor val_accuracy --template 'w.{epoch:03d}-{val_accuracy:.2%}.weights.h5'
check percent_alone 0 "^1 +$tmp/pct/w\.002-87\.50%\.weights\.h5 +weights\.h5 +2 +0\.875 +name\$" -- "$bin" "$tmp/pct" --monitor val_accuracy
# a template's field reads only text its spec writes, in its base, with its signs, fill and grouping,
# as Python wrote it: adjacent fields split where '.2f' ends ('0.330.75' is 0.33 then 0.75, not 0.3 then
# 30.75), '{epoch:x}' wrote epoch 16 as '10', '{val_loss:_.1f}' wrote 1234.6 as '1_234.6'
mkdir -p "$tmp/adj" && cp "$plain" "$tmp/adj/w-3-0.330.75.weights.h5" && cp "$plain" "$tmp/adj/w-4-0.410.25.weights.h5"
check adjacent_fields 0 "^1 +$tmp/adj/w-3-0\.330\.75\.weights\.h5 +weights\.h5 +3 +0\.33 +name\$" -- \
  "$bin" "$tmp/adj" --template 'w-{epoch}-{val_loss:.2f}{loss:.2f}.weights.h5'
mkdir -p "$tmp/hex" && cp "$plain" "$tmp/hex/w-+10-0.500.weights.h5" && cp "$plain" "$tmp/hex/w-+a-0.600.weights.h5"
check hex_epoch 0 "^1 +$tmp/hex/w-\\+10-0\.500\.weights\.h5 +weights\.h5 +16 +0\.5 +name\$" -- \
  "$bin" "$tmp/hex" --template 'w-{epoch:+x}-{val_loss:.3f}.weights.h5'
check hex_epoch_signed 0 "^2 +$tmp/hex/w-\+a-0\.600\.weights\.h5 +weights\.h5 +10 +0\.6 +name\$" -- \
  "$bin" "$tmp/hex" --template 'w-{epoch:+x}-{val_loss:.3f}.weights.h5'
mkdir -p "$tmp/grp" && cp "$plain" "$tmp/grp/w-3-1_234.6.weights.h5" && cp "$plain" "$tmp/grp/w-4-  12.5.weights.h5"
check grouped_value 0 "^2 +$tmp/grp/w-3-1_234\.6\.weights\.h5 +weights\.h5 +3 +1234\.6 +name\$" -- \
  "$bin" "$tmp/grp" --template 'w-{epoch}-{val_loss:>6_.1f}.weights.h5'
check padded_value 0 "^1 +$tmp/grp/w-4-  12\.5\.weights\.h5 +weights\.h5 +4 +12\.5 +name\$" -- \
  "$bin" "$tmp/grp" --template 'w-{epoch}-{val_loss:>6_.1f}.weights.h5'
# the same run twice in one log (a rerun appended) and a third: its rows agree with the name, alike
printf 'epoch,val_accuracy\n0,0.8012\n1,0.9134\n0,0.8012\n1,0.9134\n0,0.8466\n1,0.8811\n' >"$tmp/tworuns/log.csv"
check same_run_twice_own_row 0 "^1 +$tmp/tworuns/w\.02-0\.91\.weights\.h5 +weights\.h5 +2 +0\.9134 +csv\$" -- "$bin" "$tmp/tworuns" --monitor val_accuracy
# a link kept beside the best file (best.weights.h5 -> w.02-0.30...): the file is ranked under its own
# name, with the epoch and value the link's name does not carry
mkdir -p "$tmp/link" && for f in w.01-0.90 w.02-0.30 w.03-0.50; do cp "$plain" "$tmp/link/$f.weights.h5"; done
ln -s w.02-0.30.weights.h5 "$tmp/link/best.weights.h5"
check link_beside_target 0 "^1 +$tmp/link/w\.02-0\.30\.weights\.h5 +weights\.h5 +2 +0\.3 +name\$" -- "$bin" "$tmp/link"
check link_not_listed 0 "^3\$" -- sh -c "'$bin' '$tmp/link' | grep -c weights.h5"
# two hard links of one file: listed once, under the name that gives its epoch and value
mkdir -p "$tmp/hard" && cp "$plain" "$tmp/hard/w.01-0.90.weights.h5" && ln "$tmp/hard/w.01-0.90.weights.h5" "$tmp/hard/best.weights.h5"
check hard_link_own_name 0 "^1 +$tmp/hard/w\.01-0\.90\.weights\.h5 +weights\.h5 +1 +0\.9 +name\$" -- "$bin" "$tmp/hard"
# a link to a directory is listed as not followed; a link to nothing as such
ln -s ../tworuns "$tmp/link/linked" && ln -s nothing.weights.h5 "$tmp/link/dangling.weights.h5"
check link_to_directory 0 "skipping $tmp/link/linked: a symbolic link to a directory: not followed" -- "$bin" "$tmp/link"
check link_to_nothing 0 "skipping $tmp/link/dangling\.weights\.h5: a symbolic link to 'nothing\.weights\.h5', which does not exist" -- "$bin" "$tmp/link"
# the names' numbers are val_loss's ({val_loss:.2f}), the monitor val_accuracy, and a resumed run's log
# holds epochs 3-4 only: there the numbers disagree with the log, so epochs 1-2 get no value from them
mkdir -p "$tmp/other" && for f in w.01-1.90 w.02-1.10 w.03-0.55 w.04-0.45; do cp "$plain" "$tmp/other/$f.weights.h5"; done
printf 'epoch,val_accuracy,val_loss\n2,0.80,0.55\n3,0.86,0.45\n' >"$tmp/other/log.csv"
check names_other_value 0 "note: the numbers in 2 file names \($tmp/other/w\.01-1\.90\.weights\.h5 the first\) are not val_accuracy: the CSV log holds the other names of their template under another column" -- "$bin" "$tmp/other" --monitor val_accuracy
check names_other_value_best 0 "^1 +$tmp/other/w\.04-0\.45\.weights\.h5 +weights\.h5 +4 +0\.86 +csv\$" -- "$bin" "$tmp/other" --monitor val_accuracy
check names_other_value_unranked 0 "^- +$tmp/other/w\.01-1\.90\.weights\.h5 .* none\$" -- "$bin" "$tmp/other" --monitor val_accuracy
check names_are_monitor 0 "^1 +$tmp/other/w\.04-0\.45\.weights\.h5 +weights\.h5 +4 +0\.45 +csv\$" -- "$bin" "$tmp/other" --monitor val_loss
# a monitor the run's log does not have: the names' numbers are not taken for it
printf 'epoch,val_accuracy,val_loss\n0,0.3,1.9\n1,0.5,1.1\n2,0.80,0.55\n3,0.86,0.45\n' >"$tmp/other/log.csv"
check log_lacks_monitor 1 "note: the numbers in 4 file names are the 'val_loss' of $tmp/other/log\.csv, not val_auc, which it does not log for their epochs" -- \
  "$bin" "$tmp/other" --monitor val_auc
# a log in the directory that is not the run's (its rows do not hold the names' numbers) says nothing
# of them: the names value the files
printf 'epoch,acc\n0,0.1\n1,0.2\n2,0.3\n3,0.4\n' >"$tmp/other/log.csv"
check unrelated_log_lacks_monitor 0 "^1 +$tmp/other/w\.04-0\.45\.weights\.h5 +weights\.h5 +4 +0\.45 +name\$" -- "$bin" "$tmp/other" --monitor val_loss
# each directory judged on its own log: runA's names are another value, runB's are the monitor's
mkdir -p "$tmp/runs/a" "$tmp/runs/b"
for f in w.01-1.90 w.02-0.55; do cp "$plain" "$tmp/runs/a/$f.weights.h5"; done
printf 'epoch,val_accuracy,val_loss\n1,0.80,0.55\n' >"$tmp/runs/a/log.csv"
for f in w.01-0.70 w.02-0.90; do cp "$plain" "$tmp/runs/b/$f.weights.h5"; done
check per_directory_verdict 0 "^1 +$tmp/runs/b/w\.02-0\.90\.weights\.h5 +weights\.h5 +2 +0\.9 +name\$" -- "$bin" "$tmp/runs" --monitor val_accuracy
check per_directory_verdict_other 0 "^- +$tmp/runs/a/w\.01-1\.90\.weights\.h5 .* none\$" -- "$bin" "$tmp/runs" --monitor val_accuracy
# a file whose number no column of the log holds at its epoch is another run's (saved into the same
# directory, its log elsewhere): valued by its name, not by this log's row
mkdir -p "$tmp/otherrun" && cp "$plain" "$tmp/otherrun/a.01-0.50.weights.h5" && cp "$plain" "$tmp/otherrun/b_run.01-0.20.weights.h5"
printf 'epoch,loss,val_loss\n0,0.61,0.5012\n' >"$tmp/otherrun/log.csv"
check other_run_by_name 0 "^1 +$tmp/otherrun/b_run\.01-0\.20\.weights\.h5 +weights\.h5 +1 +0\.2 +name\$" -- "$bin" "$tmp/otherrun"
check other_run_log_row 0 "^2 +$tmp/otherrun/a\.01-0\.50\.weights\.h5 +weights\.h5 +1 +0\.5012 +csv\$" -- "$bin" "$tmp/otherrun"
# two ModelCheckpoints of one run (loss-{epoch}-{val_loss}, mae-{epoch}-{val_mae}): not saves of one
# epoch's middle; each epoch-end file gets the log's val_loss
mkdir -p "$tmp/two" && for f in loss-01-0.40 mae-01-0.03 loss-02-0.31 mae-02-0.02; do cp "$plain" "$tmp/two/$f.weights.h5"; done
printf 'epoch,val_loss,val_mae\n0,0.40,0.03\n1,0.31,0.02\n' >"$tmp/two/log.csv"
check two_checkpoints_one_run 0 "^1 +$tmp/two/loss-02-0\.31\.weights\.h5 +weights\.h5 +2 +0\.31 +csv\$" -- "$bin" "$tmp/two"
check two_checkpoints_one_run_mae 0 "^2 +$tmp/two/mae-02-0\.02\.weights\.h5 +weights\.h5 +2 +0\.31 +csv\$" -- "$bin" "$tmp/two"
# saves every N batches ({epoch}-{batch}-{loss:.3f}, no --template): the epoch's CSV row, written at its
# end, values none of them; each name's own number does
mkdir -p "$tmp/mid" && for f in c-001-0100-0.930 c-001-0200-0.860 c-002-0100-0.730 c-002-0200-0.590; do cp "$plain" "$tmp/mid/$f.weights.h5"; done
printf 'epoch,loss\n0,0.85\n1,0.57\n' >"$tmp/mid/log.csv"
check mid_epoch_names 0 "^1 +$tmp/mid/c-002-0200-0\.590\.weights\.h5 +weights\.h5 +2 +0\.59 +name\$" -- "$bin" "$tmp/mid" --monitor loss
check mid_epoch_template_batch 0 '"path": "[^"]*c-002-0200-0\.590\.weights\.h5", "readable": true, "rank": 1, "layout": "weights\.h5", "epoch": 2, "batch": 200,' -- \
  "$bin" "$tmp/mid" --monitor loss --json --template 'c-{epoch:03d}-{batch:04d}-{loss:.3f}.weights.h5'
# two ModelCheckpoints of one shape (ckpt-{epoch}-{loss}, ckpt-{epoch}-{accuracy}): each number is a
# column of its epoch's row, so both files are the epoch's end, valued by the row's accuracy
mkdir -p "$tmp/shape" && for f in ckpt-01-1.52 ckpt-01-0.55 ckpt-02-0.90 ckpt-02-0.70; do cp "$plain" "$tmp/shape/$f.weights.h5"; done
printf 'epoch,accuracy,loss\n0,0.5512,1.5210\n1,0.7044,0.9011\n' >"$tmp/shape/log.csv"
check same_shape_two_templates 0 "^[12] +$tmp/shape/ckpt-02-0\.90\.weights\.h5 +weights\.h5 +2 +0\.7044 +csv\$" -- "$bin" "$tmp/shape" --monitor accuracy
# no validation data: CSVLogger still writes val_ columns, all NA; the names' numbers are the loss
mkdir -p "$tmp/noval" && for f in w.01-0.91 w.02-0.52; do cp "$plain" "$tmp/noval/$f.weights.h5"; done
printf 'epoch,loss,val_loss\n0,0.9101,NA\n1,0.5212,NA\n' >"$tmp/noval/log.csv"
check no_validation_columns 1 "note: the numbers in 2 file names are the 'loss' of $tmp/noval/log\.csv, not val_loss" -- "$bin" "$tmp/noval"
# the same command run twice in one directory, the log overwritten: the first run's files keep the
# values their names give (their template's other names agree with the log)
mkdir -p "$tmp/rerun" && for f in w.01-0.62 w.02-0.41 w.01-0.60 w.02-0.45; do cp "$plain" "$tmp/rerun/$f.weights.h5"; done
printf 'epoch,val_loss\n0,0.6012\n1,0.4511\n' >"$tmp/rerun/log.csv"
check rerun_first_run_named 0 "^1 +$tmp/rerun/w\.02-0\.41\.weights\.h5 +weights\.h5 +2 +0\.41 +name\$" -- "$bin" "$tmp/rerun"
# names of {loss:.2f}, a resumed run's log (append=False) holding epochs 5-8, whose epoch 7 has loss and
# val_loss equal to 2 decimals: one coincidence does not make the template's numbers val_loss
mkdir -p "$tmp/coinc" && for f in w.01-0.90 w.02-0.60 w.03-0.45 w.04-0.38 w.05-0.52 w.06-0.47 w.07-0.44 w.08-0.40; do cp "$plain" "$tmp/coinc/$f.weights.h5"; done
printf 'epoch,loss,val_loss\n4,0.5210,0.6012\n5,0.4712,0.5511\n6,0.4421,0.4449\n7,0.4012,0.4710\n' >"$tmp/coinc/log.csv"
check coincidence_not_monitor 0 "^- +$tmp/coinc/w\.04-0\.38\.weights\.h5 .* none\$" -- "$bin" "$tmp/coinc"
check coincidence_best 0 "^1 +$tmp/coinc/w\.07-0\.44\.weights\.h5 +weights\.h5 +7 +0\.4449 +csv\$" -- "$bin" "$tmp/coinc"
# {loss:.2f} names and a log appended by a resumed run (epochs 4-5 twice): a file is valued by the
# row holding its number, its own run's
mkdir -p "$tmp/appended" && for f in w.03-0.48 w.04-0.40 w.05-0.35 w.04-0.42 w.05-0.39; do cp "$plain" "$tmp/appended/$f.weights.h5"; done
printf 'epoch,loss,val_loss\n2,0.4812,0.4612\n3,0.4012,0.4312\n4,0.3511,0.4112\n3,0.4212,0.5012\n4,0.3912,0.5211\n' >"$tmp/appended/log.csv"
check appended_own_row 0 "^1 +$tmp/appended/w\.05-0\.35\.weights\.h5 +weights\.h5 +5 +0\.4112 +csv\$" -- "$bin" "$tmp/appended"
# a save in an epoch's middle has no val_ value (Keras validates at the epoch's end): its number is not val_loss
check mid_epoch_no_validation 1 "no checkpoint with a value for val_loss" -- "$bin" "$tmp/mid"
check template_matches_none 0 "note: --template matched 0 of the 4 readable files" -- "$bin" "$tmp/mid" --monitor loss --template 'w.{epoch:02d}.keras'
# a directory with no checkpoint file: that is what is said, not a missing value
mkdir -p "$tmp/empty" && touch "$tmp/empty/ckpt.index" "$tmp/empty/model.pt"
check no_checkpoint_files 1 "^kcb-restore: no checkpoint files \(\*\.keras, \*\.weights\.h5, \*\.h5, \*\.hdf5\) in the path given\$" -- "$bin" "$tmp/empty"
mkdir -p "$tmp/twonums" && for f in w.01-0.52-0.81 w.02-0.31-0.90; do cp "$plain" "$tmp/twonums/$f.weights.h5"; done
check two_numbers_no_guess 1 "no checkpoint with a value for val_loss among 2 files" -- "$bin" "$tmp/twonums"
mkdir -p "$tmp/vnames" && for f in best_model_v2 resnet50_best run_07; do cp "$plain" "$tmp/vnames/$f.weights.h5"; done
printf 'epoch,val_loss\n0,0.9\n1,0.1\n2,0.2\n49,0.01\n6,0.5\n' >"$tmp/vnames/log.csv"
check csv_epoch_digits_standalone 0 "^1 +$tmp/vnames/run_07\.weights\.h5 +weights\.h5 +7 +0\.5 +csv\$" -- "$bin" "$tmp/vnames"
check csv_epoch_digits_glued 0 "^- +$tmp/vnames/best_model_v2\.weights\.h5 +weights\.h5 +- +- +none\$" -- "$bin" "$tmp/vnames"
# Python's float formats write inf and nan as "inf", "-inf", "nan": values in names as in a CSV log
# (-inf is the best loss, as ModelCheckpoint's np.less has it); "model-inf" is a name, not a value
mkdir -p "$tmp/inf" && for f in ckpt-01-0.5000 ckpt-02--inf ckpt-03-inf ckpt-04-nan model-inf; do cp "$plain" "$tmp/inf/$f.weights.h5"; done
check inf_in_name_best 0 "^1 +$tmp/inf/ckpt-02--inf\.weights\.h5 +weights\.h5 +2 +-inf +name\$" -- "$bin" "$tmp/inf"
check inf_in_name_last 0 "^3 +$tmp/inf/ckpt-03-inf\.weights\.h5 +weights\.h5 +3 +inf +name\$" -- "$bin" "$tmp/inf"
check nan_in_name 0 "^4 +$tmp/inf/ckpt-04-nan\.weights\.h5 +weights\.h5 +4 +nan +name\$" -- "$bin" "$tmp/inf"
check inf_word_not_a_value 0 "^- +$tmp/inf/model-inf\.weights\.h5 +weights\.h5 +- +- +none\$" -- "$bin" "$tmp/inf"
check inf_by_template 0 "^1 +$tmp/inf/ckpt-02--inf\.weights\.h5 " -- "$bin" "$tmp/inf" --template 'ckpt-{epoch:02d}-{val_loss:.4f}.weights.h5'
# "--" ends the options: a file whose name starts with '-', and "--help" as a path; an empty path or
# value is a usage error
mkdir -p "$tmp/dash" && cp "$plain" "$tmp/dash/-w.01-0.5.weights.h5"
check dash_dash_file 0 '^1 +-w\.01-0\.5\.weights\.h5 +weights\.h5 +1 +0\.5 +name$' -- sh -c "cd '$tmp/dash' && '$bin' -- -w.01-0.5.weights.h5"
check dash_dash_help_is_a_path 1 'rank: --help: No such file or directory' -- "$bin" -- --help
check dash_dash_inspect 0 '^-w\.01-0\.5\.weights\.h5: layout weights\.h5' -- sh -c "cd '$tmp/dash' && '$(dirname "$bin")/kcb-inspect' -- -w.01-0.5.weights.h5"
check dash_dash_inspect_options 0 '"layout": "weights\.h5"' -- sh -c "cd '$tmp/dash' && '$(dirname "$bin")/kcb-inspect' -- -w.01-0.5.weights.h5 --json"
check dash_dash_inspect_missing 1 "kcb-inspect: 'missing\.keras': No such file or directory" -- "$(dirname "$bin")/kcb-inspect" -- missing.keras
check empty_path 2 '^kcb-restore: an empty path' -- "$bin" ''
check empty_value 2 '^kcb-restore: option needs a value: --csv' -- "$bin" "$tmp/dash" --csv ''
check other_monitor_not_from_name 1 "no checkpoint with a value for val_accuracy among 2 files" -- "$bin" "$tmp/mon" --monitor val_accuracy
check other_monitor_hints 1 "no checkpoint with a value for val_acc among .*; they store val_loss \(--monitor val_loss\); to rank by another logged value, give --csv FILE" -- \
  "$bin" "$c/stored" --monitor val_acc --mode max
check nothing_rankable 1 '^kcb-restore: no checkpoint with a value for val_loss among 1 file; to rank by another logged value, give --csv FILE' -- "$bin" "$c/none"
check recursive 0 "^1 +$c/stored/b\.weights\.h5 " -- "$bin" "$c"

# JSON, parsed by Python
check json 0 '^ok 4 1 .*/stored/b\.weights\.h5 False$' -- bash -c "'$bin' --json '$c/stored' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = [x for x in d[\"checkpoints\"] if not x[\"readable\"]]
assert d[\"mode\"] == \"min\" and d[\"monitor\"] == \"val_loss\", d
assert [x[\"rank\"] for x in d[\"checkpoints\"] if x[\"readable\"]] == [1, 2, 3, 4]
assert bad[0][\"path\"].endswith(\"cut.weights.h5\") and bad[0][\"error\"]
print(\"ok\", d[\"ranked\"], d[\"unreadable\"], d[\"best\"], d[\"verified\"])'"

# a path that is not UTF-8 (a Latin-1 directory name) still gives JSON, which is UTF-8 text: its bytes
# as lone surrogates, which Python's surrogateescape turns back into the path
latin=$tmp/$(printf 'r\351sum\351') && mkdir -p "$latin" && cp "$c/stored/a.weights.h5" "$latin/"
check json_latin1_path 0 '^ok$' -- bash -c "'$bin' --json '$latin' 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode(\"utf-8\"))
assert d[\"checkpoints\"][0][\"path\"].encode(\"utf-8\", \"surrogateescape\").endswith(b\"r\\xe9sum\\xe9/a.weights.h5\"), d
print(\"ok\")'"

# writing the best: read back by h5py and compared with the source file's datasets
check output_weights 0 "^wrote $tmp/best\.weights\.h5 from $c/stored/b\.weights\.h5 \(verified\)\$" -- \
  "$bin" "$c/stored" --output "$tmp/best.weights.h5"
check output_h5py 0 '^same$' -- /usr/bin/python3 -c "
import h5py, numpy as np
a, b = h5py.File('$tmp/best.weights.h5', 'r'), h5py.File('$c/stored/b.weights.h5', 'r')
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
print('same' if names and all(np.array_equal(a[n][()], b[n][()]) for n in names) else 'differ')"
check output_full_needs_config 1 "holds weights only .* cannot become a keras file, which needs the architecture" -- \
  "$bin" "$c/stored" --output "$tmp/best.keras"
check output_keras_from_keras 0 "^wrote $tmp/m\.keras from $c/stored/full\.keras \(verified\)\$" -- \
  "$bin" "$c/stored/full.keras" --output "$tmp/m.keras"
check output_keras_zip 0 "^\['config.json', 'metadata.json', 'model.weights.h5'\]\$" -- /usr/bin/python3 -c "
import zipfile; print(sorted(zipfile.ZipFile('$tmp/m.keras').namelist()))"
check output_h5_format 0 "^wrote $tmp/m2\.h5 from $c/stored/full\.keras \(verified\)\$" -- \
  "$bin" "$c/stored/full.keras" --output "$tmp/m2.h5" --format h5
check list_no_write 0 "^1 " -- "$bin" "$c/stored" --output "$tmp/never.weights.h5" --list
# symbolic links to directories are not followed: a link loop ranks each file once, at once
mkdir -p "$tmp/loop" && cp "$c"/stored/* "$tmp/loop/" && ln -s . "$tmp/loop/l1" && ln -s . "$tmp/loop/l2"
check link_loop 0 "^1 " -- timeout 20 "$bin" "$tmp/loop" --list
check list_no_write_file 0 '^absent$' -- bash -c "test -e '$tmp/never.weights.h5' || echo absent"

# long layer names (Keras sets no limit): one of 330 bytes of UTF-8 converts to every layout and
# back; one past what kcb reads (legacy .h5 paths name a layer twice) is refused by name, and the
# file already at the output path stays as it was, with no temporary file left beside it
rename_layer() { # SRC DST NAME: the .keras with its first weighted layer renamed (its store path is by class)
  /usr/bin/python3 -c "
import json, sys, zipfile
src, dst, name = sys.argv[1:]
z = zipfile.ZipFile(src)
cfg = json.loads(z.read('config.json'))
layer = next(l for l in cfg['config']['layers'] if l['class_name'] == 'Dense')
layer['config']['name'] = name
with zipfile.ZipFile(dst, 'w') as out:
    for n in z.namelist():
        out.writestr(n, json.dumps(cfg) if n == 'config.json' else z.read(n))" "$@"
}
mkdir -p "$tmp/long"
rename_layer "$c/stored/full.keras" "$tmp/long/ok.keras" "$(printf '層%.0s' $(seq 110))"
for f in h5 weights.h5 legacy_weights.h5 keras; do
  check "long_name_to_$f" 0 "^wrote $tmp/long/ok_out\\.$f from .*ok\\.keras \\(verified\\)\$" -- \
    "$bin" "$tmp/long/ok.keras" --output "$tmp/long/ok_out.$f" --format "$f"
done
check long_name_back_from_h5 0 "\\(verified\\)\$" -- "$bin" "$tmp/long/ok_out.h5" --output "$tmp/long/back.keras"
check long_name_inspect 0 "^  $(printf '層%.0s' $(seq 110)) +Dense" -- "$(dirname "$bin")/kcb-inspect" checkpoint "$tmp/long/ok_out.h5"
# a single checkpoint with no value to rank it by is the one written (a file given to convert)
check only_checkpoint_written 0 "^wrote $tmp/long/back2\\.weights\\.h5 from .*back\\.keras \\(verified\\)" -- \
  "$bin" "$tmp/long/back.keras" --output "$tmp/long/back2.weights.h5"
check only_checkpoint_note 0 "note: .*back\\.keras has no value for val_loss; it is the only checkpoint" -- \
  "$bin" "$tmp/long/back.keras" --output "$tmp/long/back3.weights.h5"
rename_layer "$c/stored/full.keras" "$tmp/long/too.keras" "$(printf 'd%.0s' $(seq 1200))"
"$bin" "$c/stored/full.keras" --output "$tmp/long/kept.h5" >/dev/null
cp "$tmp/long/kept.h5" "$tmp/long/kept.h5.before"
check long_name_refused 1 "kept\\.h5: variable 'sequential/d+\\.\\.\\.' would be stored at a path of 24[0-9]{2} bytes, more than the 2303 kcb reads back .*nothing was written" -- \
  "$bin" "$tmp/long/too.keras" --output "$tmp/long/kept.h5"
assert long_name_kept_previous cmp "$tmp/long/kept.h5" "$tmp/long/kept.h5.before"
assert long_name_no_temp test -z "$(find "$tmp/long" -name '.*tmp-*')"

# Keras's sharded weights (save_weights with max_shard_size): the index and each shard beside it are
# refused by name (a shard holds some layers only), everywhere a checkpoint is read
mkdir -p "$tmp/shard"
cp "$c/stored/a.weights.h5" "$tmp/shard/m_00000.weights.h5" && cp "$c/stored/b.weights.h5" "$tmp/shard/m_00001.weights.h5"
printf '{"metadata": {"total_size": 100}, "weight_map": {"/vars": "m_00000.weights.h5"}}' >"$tmp/shard/m.weights.json"
check sharded_index_refused 1 "m\\.weights\\.json is the index of Keras's sharded weights \\(saved with max_shard_size\\)" -- \
  "$(dirname "$bin")/kcb-inspect" checkpoint "$tmp/shard/m.weights.json"
check sharded_shard_skipped 1 "skipping $tmp/shard/m_00001\\.weights\\.h5: .* is one shard of Keras's sharded weights indexed by $tmp/shard/m\\.weights\\.json" -- \
  "$bin" "$tmp/shard"
cp "$c/stored/a.weights.h5" "$tmp/shard/solo_00000.weights.h5"
check shard_name_alone_is_a_checkpoint 0 "solo_00000\\.weights\\.h5 +weights\\.h5" -- "$bin" "$tmp/shard/solo_00000.weights.h5"

# a directory deeper than the search goes is said, not passed over in silence
deep="$tmp/deep/$(printf 'd/%.0s' $(seq 40))"
mkdir -p "$deep" && cp "$c/stored/b.weights.h5" "$deep/w.weights.h5"
check deep_dir_said 1 "skipping $tmp/deep(/d){33}: a directory more than 32 levels below the one given: not searched" -- "$bin" "$tmp/deep" --list
check deep_dir_named_directly 0 "^1 +${deep%/}/w\.weights\.h5" -- "$bin" "$deep"

# a directory named *.keras is a model saved unzipped only when it holds config.json: else it is
# searched like any other; one with config.json but no weights is a candidate said unreadable
mkdir -p "$tmp/sc/best.keras" "$tmp/sc2/m.keras" && cp "$c/stored/a.weights.h5" "$tmp/sc/best.keras/" && echo '{}' >"$tmp/sc2/m.keras/config.json"
check keras_named_dir_searched 0 "^1 +$tmp/sc/best\.keras/a\.weights\.h5 " -- "$bin" "$tmp/sc"
check keras_dir_without_weights 1 "skipping $tmp/sc2/m\.keras: .*without its weights" -- "$bin" "$tmp/sc2"
# an archive's assets/ (a lookup layer's vocabulary) has no place in the other layouts: said
/usr/bin/python3 -c "
import shutil, sys, zipfile
shutil.copyfile(sys.argv[1], sys.argv[2])
with zipfile.ZipFile(sys.argv[2], 'a') as z:
    z.writestr('assets/layers/string_lookup/vocabulary.txt', 'a\nb\n')" "$c/stored/full.keras" "$tmp/assets.keras"
check assets_not_converted 0 "note: .*assets\.keras's 1 file under assets/ \(a lookup layer's vocabulary, \.\.\.\) is not written: only a \.keras archive keeps them" -- \
  "$bin" "$tmp/assets.keras" -o "$tmp/assets.h5"
check assets_kept_in_keras 0 "assets/layers/string_lookup/vocabulary\.txt" -- sh -c "'$bin' '$tmp/assets.keras' -o '$tmp/assets2.keras' >/dev/null 2>&1 && unzip -l '$tmp/assets2.keras'"

# a model saved unzipped (model.save(dir, zipped=False)) becomes a .keras archive again
mkdir -p "$tmp/unzipped" && (cd "$tmp/unzipped" && unzip -q "$c/stored/full.keras")
check unzipped_to_keras 0 "wrote $tmp/zipped\.keras from $tmp/unzipped \(verified\)" -- "$bin" "$tmp/unzipped" -o "$tmp/zipped.keras"
# -oFILE and -o=FILE, as getopt takes them
check attached_o 0 "wrote $tmp/zipped2\.keras from" -- "$bin" "$tmp/unzipped" "-o$tmp/zipped2.keras"
check attached_o_equals 0 "wrote $tmp/zipped3\.keras from" -- "$bin" "$tmp/unzipped" "-o=$tmp/zipped3.keras"
check unzipped_to_keras_same 0 "every variable identical" -- "$(dirname "$bin")/kcb-inspect" diff "$tmp/zipped.keras" "$c/stored/full.keras"
# ... with its assets/ zipped in as Keras zips them (a lookup layer's vocabulary would be lost)
mkdir -p "$tmp/unzipped_assets" && (cd "$tmp/unzipped_assets" && unzip -q "$tmp/assets.keras")
check unzipped_assets_kept 0 "^assets/layers/string_lookup/vocabulary\.txt 'a.nb.n'$" -- sh -c "'$bin' '$tmp/unzipped_assets' \
  -o '$tmp/zipped_assets.keras' >/dev/null 2>&1 && /usr/bin/python3 -c \"
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.startswith('assets/'): print(n, repr(z.read(n).decode()))\" '$tmp/zipped_assets.keras'"

# a legacy file whose weight_names list a layer's weights out of order, or leave one out: Keras
# loads them by position into no Dense, so no layout is written (a weights-only one either)
"$bin" "$c/stored/full.keras" --output "$tmp/wn_src.h5" >/dev/null 2>&1
for k in swapped missing; do
  /usr/bin/python3 -c "
import h5py, shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], 'r+') as f:
    g = next(f['model_weights'][n] for n in f['model_weights'] if len(f['model_weights'][n].attrs['weight_names']) == 2)
    wn = list(g.attrs['weight_names'])
    g.attrs['weight_names'] = wn[::-1] if sys.argv[3] == 'swapped' else wn[:1]" "$tmp/wn_src.h5" "$tmp/wn_$k.h5" $k
  for ext in keras weights.h5; do # not $out: lib.sh's check writes each command's output there
    check "weight_names_${k}_to_$ext" 1 "layer 'dense[_0-9]*' \(Dense\) of $tmp/wn_$k\.h5: (its first weight, the kernel, has 1 dimensions instead of 2|it has 1 weights where its config builds 2)" -- \
      "$bin" "$tmp/wn_$k.h5" --output "$tmp/wn_$k.$ext"
    assert "weight_names_${k}_nothing_written_$ext" test ! -e "$tmp/wn_$k.$ext"
  done
done

# the temporaries a killed earlier write into the output's directory left go (a gone process's, a
# minute old); a live or recent one stays
dead=$(sh -c 'echo $$')
mkdir -p "$tmp/tidy"
touch -d '2 minutes ago' "$tmp/tidy/.other.keras.tmp-$dead-0"
touch "$tmp/tidy/.recent.keras.tmp-$dead-1"
check restore_dead_temps_removed 0 "^\.recent\.keras\.tmp-$dead-1 tidy\.keras \$" -- bash -c "'$bin' '$c/stored/full.keras' --output '$tmp/tidy/tidy.keras' >/dev/null 2>&1 &&
  ls -A '$tmp/tidy' | LC_ALL=C sort | tr '\n' ' '"
# a config that disagrees with the weights (units edited by hand) would give a file Keras cannot
# load: refused, naming the layer, and nothing written
/usr/bin/python3 -c "
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
cfg = json.loads(z.read('config.json'))
layer = next(l for l in cfg['config']['layers'] if l['class_name'] == 'Dense')
layer['config']['units'] += 1
with zipfile.ZipFile(sys.argv[2], 'w') as out:
    for n in z.namelist():
        out.writestr(n, json.dumps(cfg) if n == 'config.json' else z.read(n))" "$c/stored/full.keras" "$tmp/units.keras"
check config_disagrees_refused 1 "layer 'dense' \(Dense\): its config builds kernel \([0-9]+, [0-9]+\), but .*units\.keras holds \([0-9]+, [0-9]+\): Keras could not load its weights" -- \
  "$bin" "$tmp/units.keras" --output "$tmp/units_out.h5"
assert config_disagrees_nothing_written test ! -e "$tmp/units_out.h5"
# ... in the same layout too: the file is not copied as it is
check config_disagrees_same_layout_refused 1 "its config builds kernel" -- "$bin" "$tmp/units.keras" --output "$tmp/units_copy.keras"
assert config_disagrees_same_layout_nothing_written test ! -e "$tmp/units_copy.keras"
# an optimizer step counter of two values: refused in every layout
/usr/bin/python3 -c "
import h5py, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
store = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
out = h5py.File(sys.argv[2], 'w')
for k in store: store.copy(k, out)
del out['optimizer/vars/0']; out['optimizer/vars/0'] = [1, 2]" "$c/stored/full.keras" "$tmp/iter2.weights.h5"
for ext in keras.weights.h5 legacy.h5; do
  check "iteration_of_two_refused_$ext" 1 "the optimizer's iteration .* holds 2 values in .*iter2\.weights\.h5, where Keras keeps one" -- \
    "$bin" "$tmp/iter2.weights.h5" --output "$tmp/iter2_out.$ext" $([ $ext = legacy.h5 ] && echo --format legacy_weights.h5)
done
check config_disagrees_weights_only_fine 0 "\(verified\)" -- "$bin" "$tmp/units.keras" --output "$tmp/units_out.weights.h5"

# a legacy .h5 whose layer_names lists a layer twice, or leaves out one the config has weights for:
# Keras matches layers one for one and could not load the result; refused, nothing written
if "$bin" "$c/stored/full.keras" --output "$tmp/full.h5" >/dev/null 2>&1; then
  /usr/bin/python3 -c "
import h5py, numpy as np, shutil, sys
src, out = sys.argv[1], sys.argv[2]
shutil.copy(src, out + '/dup.h5'); shutil.copy(src, out + '/none.h5')
with h5py.File(out + '/dup.h5', 'r+') as f:
    names = [n.encode() if isinstance(n, str) else n for n in f['model_weights'].attrs['layer_names']]
    f['model_weights'].attrs['layer_names'] = np.array(names + names[:1])
with h5py.File(out + '/none.h5', 'r+') as f:
    f['model_weights'].attrs['layer_names'] = np.array([], dtype='S1')" "$tmp/full.h5" "$tmp"
  check layer_listed_twice_refused 1 "layer '[a-z_0-9]+' is listed twice in .*dup\.h5: Keras could not load its weights; nothing was written" -- \
    "$bin" "$tmp/dup.h5" --output "$tmp/dup_out.keras"
  check layer_without_weights_refused 1 "layer '[a-z_0-9]+' \(Dense\) of the config has no weights in .*none\.h5: Keras could not load the model" -- \
    "$bin" "$tmp/none.h5" --output "$tmp/none_out.keras"
  assert bad_legacy_nothing_written bash -c "[ ! -e '$tmp/dup_out.keras' ] && [ ! -e '$tmp/none_out.keras' ]"
  # a weight name from the file's root ("/model_weights/..."): h5py, so Keras, reads it there
  /usr/bin/python3 -c "
import h5py, numpy as np, shutil, sys
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], 'r+') as f:
    g = f['model_weights/dense']
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    g.attrs['weight_names'] = np.array(['/model_weights/dense/' + names[0]] + names[1:], dtype=h5py.special_dtype(vlen=str))" \
    "$tmp/full.h5" "$tmp/abs.h5"
  check absolute_weight_name_read 0 '^  /model_weights/dense/[a-z_/]+kernel ' -- "$1/kcb-inspect" checkpoint "$tmp/abs.h5"
else
  echo "FAIL bad_legacy: cannot write $tmp/full.h5"; failed=$((failed + 1))
fi

# Directories as Keras users leave them (real Keras files of tests/data/zoo, renamed)
zoo=$(dirname "$0")/../data/zoo
mkfiles() { # DIR NAME... : copies of the zoo's CNN weights under each NAME
  local d=$1; shift; mkdir -p "$d"; for f in "$@"; do cp "$zoo/cnn.weights.h5" "$d/$f"; done
}
# the docs' template run twice into one directory, no log: names that differ in their value alone
# are epoch-end saves of two runs (a mid-epoch name cannot hold val_loss), each valued by its name
mkfiles "$tmp/keras_docs_rerun" weights.01-0.50.weights.h5 weights.02-0.40.weights.h5 weights.03-0.30.weights.h5 \
  weights.01-0.60.weights.h5 weights.02-0.45.weights.h5 weights.03-0.38.weights.h5 weights.04-0.34.weights.h5
check rerun_best 0 "^1 +$tmp/keras_docs_rerun/weights\.03-0\.30\.weights\.h5 +weights\.h5 +3 +0\.3 +name\$" -- "$bin" "$tmp/keras_docs_rerun"
check rerun_note 0 "note: 6 files valued by their names share their epoch with another file of their template, whose name differs in the value alone: taken as saves of several runs" -- "$bin" "$tmp/keras_docs_rerun"
# a number labelled as another value is not val_loss's
mkfiles "$tmp/labelled" 'ckpt_val_acc=0.87-epoch_01.weights.h5' 'ckpt_val_acc=0.84-epoch_02.weights.h5'
check labelled_unranked 1 "note: the numbers in 2 file names are labelled as another value than val_loss \(val_acc=0\.87" -- "$bin" "$tmp/labelled"
check labelled_by_its_monitor 0 "^1 +$tmp/labelled/ckpt_val_acc=0\.87-epoch_01\.weights\.h5 .* name\$" -- "$bin" "$tmp/labelled" --monitor val_acc
mkfiles "$tmp/labelled2" w_01_val_sparse_categorical_accuracy_0.610.weights.h5 w_02_val_sparse_categorical_accuracy_0.750.weights.h5
check labelled_underscore 1 "no checkpoint with a value for val_loss" -- "$bin" "$tmp/labelled2"
# a setting in every name is no monitored value
mkfiles "$tmp/setting" mnist_lr-0.001_01.weights.h5 mnist_lr-0.001_02.weights.h5 mnist_lr-0.001_03.weights.h5
mkfiles "$tmp/constant" run-0.5-01.weights.h5 run-0.5-02.weights.h5 run-0.5-03.weights.h5
check setting_unranked 1 "no checkpoint with a value" -- "$bin" "$tmp/setting"
check constant_unranked 1 "3 file names of one template hold the same number, 0\.5, at every epoch: a setting" -- "$bin" "$tmp/constant"
# guessed values that rise at every epoch: said, with what to give
mkfiles "$tmp/rising" weights-improvement-01-0.62.weights.h5 weights-improvement-03-0.70.weights.h5 \
  weights-improvement-05-0.74.weights.h5 weights-improvement-07-0.77.weights.h5
check rising_note 0 "taken as val_loss \(lower is better\), yet they rise at every saved epoch, as an accuracy would" -- "$bin" "$tmp/rising"
check rising_max 0 "^1 +$tmp/rising/weights-improvement-07-0\.77\.weights\.h5 " -- "$bin" "$tmp/rising" --monitor val_acc --mode max
# epochs named by directories; a log at the run's root
for e in 1 2 3; do mkfiles "$tmp/perdir/epoch_0$e" model.weights.h5; done
printf 'epoch,loss,val_loss\n0,0.9,0.8\n1,0.7,0.6\n2,0.6,0.65\n' >"$tmp/perdir/log.csv"
check epoch_from_directory 0 "^1 +$tmp/perdir/epoch_02/model\.weights\.h5 +weights\.h5 +2 +0\.6 +csv\$" -- "$bin" "$tmp/perdir" --csv "$tmp/perdir/log.csv"
# a link given by name, to a file elsewhere: valued by its target's name
mkfiles "$tmp/far/run" w.03-0.20.weights.h5 && mkfiles "$tmp/near" w.01-0.30.weights.h5
ln -s ../far/run/w.03-0.20.weights.h5 "$tmp/near/best.weights.h5"
check link_by_target_name 0 "^1 +$tmp/near/best\.weights\.h5 +weights\.h5 +3 +0\.2 +name\$" -- "$bin" "$tmp/near/best.weights.h5" "$tmp/near/w.01-0.30.weights.h5"
# another model's file among the run's: said
mkfiles "$tmp/mixed" w.01-0.40.weights.h5 w.02-0.35.weights.h5 && cp "$zoo/rnn.weights.h5" "$tmp/mixed/w.03-0.10.weights.h5"
check mixed_models 0 "note: .*the ranked files hold models of different sizes \(2 of them differ from the best, $tmp/mixed/w\.03-0\.10\.weights\.h5, of 973 parameters\)" -- "$bin" "$tmp/mixed"
# what the rules must not take for an epoch, a batch or a setting (review of the rules above)
mkdir -p "$tmp/folds/1" "$tmp/folds/2" # numbered runs (k-fold), each with its best file and log
mkfiles "$tmp/folds/1" best_model.weights.h5 && mkfiles "$tmp/folds/2" best_model.weights.h5
printf 'epoch,loss,val_loss\n0,0.90,0.80\n1,0.30,0.15\n2,0.28,0.17\n' >"$tmp/folds/1/log.csv"
printf 'epoch,loss,val_loss\n0,0.85,0.70\n1,0.55,0.40\n2,0.52,0.44\n' >"$tmp/folds/2/log.csv"
check fold_directory_no_epoch 1 "no checkpoint with a value for val_loss" -- "$bin" "$tmp/folds"
mkfiles "$tmp/upper" W_01_VAL_LOSS_0.50.weights.h5 W_02_VAL_LOSS_0.30.weights.h5 W_03_VAL_LOSS_0.40.weights.h5
check monitor_label_any_case 0 "^1 +$tmp/upper/W_02_VAL_LOSS_0\.30\.weights\.h5 " -- "$bin" "$tmp/upper"
mkfiles "$tmp/hyph" model-01-val-loss-0.50.weights.h5 model-02-val-loss-0.30.weights.h5 model-03-val-loss-0.40.weights.h5
check monitor_label_hyphens 0 "^1 +$tmp/hyph/model-02-val-loss-0\.30\.weights\.h5 " -- "$bin" "$tmp/hyph"
mkfiles "$tmp/runtag" run1_weights.01-0.50.weights.h5 run1_weights.02-0.40.weights.h5 run2_weights.01-0.60.weights.h5 \
  run2_weights.02-0.35.weights.h5
check run_tag_not_batch 0 "^1 +$tmp/runtag/run2_weights\.02-0\.35\.weights\.h5 " -- "$bin" "$tmp/runtag"
mkfiles "$tmp/dated" w.01-0.52_2024-05-01.weights.h5 w.02-0.41_2024-05-01.weights.h5 w.01-0.60_2024-05-02.weights.h5 \
  w.02-0.55_2024-05-02.weights.h5
check date_tag_not_batch 0 "^1 +$tmp/dated/w\.02-0\.41_2024-05-01\.weights\.h5 +weights\.h5 +2 " -- "$bin" "$tmp/dated"
mkfiles "$tmp/stamped" model_20240501-123000_01-0.52.weights.h5 model_20240501-123000_02-0.41.weights.h5 \
  model_20240501-123000_03-0.45.weights.h5
check timestamp_not_epoch 0 "^1 +$tmp/stamped/model_20240501-123000_02-0\.41\.weights\.h5 +weights\.h5 +2 " -- "$bin" "$tmp/stamped"
mkfiles "$tmp/plateau" model.01-0.00.weights.h5 model.02-0.00.weights.h5 model.03-0.00.weights.h5
check plateau_is_a_tie 0 "^1 +$tmp/plateau/model\.01-0\.00\.weights\.h5 " -- "$bin" "$tmp/plateau"
mkfiles "$tmp/chain/far" w.03-0.20.weights.h5 && mkfiles "$tmp/chain/near" w.01-0.30.weights.h5
ln -s ../far/w.03-0.20.weights.h5 "$tmp/chain/near/latest.weights.h5" && ln -s latest.weights.h5 "$tmp/chain/near/best.weights.h5"
printf 'epoch,loss,val_loss\n0,0.40,0.30\n1,0.35,0.33\n2,0.31,0.50\n' >"$tmp/chain/near/log.csv"
check link_chain_by_target 0 "^1 +$tmp/chain/near/best\.weights\.h5 +weights\.h5 +3 +0\.2 +name\$" -- \
  "$bin" "$tmp/chain/near/best.weights.h5" "$tmp/chain/near/w.01-0.30.weights.h5"
mkfiles "$tmp/rising3" weights-improvement-01-0.62.weights.h5 weights-improvement-02-0.70.weights.h5 \
  weights-improvement-03-0.74.weights.h5
check rising_three 0 "yet they rise at every saved epoch" -- "$bin" "$tmp/rising3"

# a file another process holds open for writing (HDF5's lock): busy, not corrupt
mkfiles "$tmp/locked" w.01-0.30.weights.h5 w.02-0.20.weights.h5
check locked_file 0 "skipping $tmp/locked/w\.02-0\.20\.weights\.h5: .*another process holds it open for writing" -- \
  /usr/bin/python3 -c "import h5py, subprocess, sys
f = h5py.File(sys.argv[2] + '/w.02-0.20.weights.h5', 'a')
r = subprocess.run([sys.argv[1], sys.argv[2]], capture_output=True, text=True)
print(r.stdout + r.stderr)" "$bin" "$tmp/locked"

finish "kcb-restore"
