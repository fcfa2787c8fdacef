#!/usr/bin/env bash
# The tools as a new user meets them (issue 16): --version everywhere, unknown options named as
# unknown with the nearest flag, command or tag, usage errors exit 2 and come before any work,
# messages in the command line's terms, --initial-epoch, the "Files written" list, 1-based epochs.
# Usage: tests/cli/cli_usability.sh BIN_DIR
set -u
train=$1/kcb-train inspect=$1/kcb-inspect restore=$1/kcb-restore
. "$(dirname "$0")/lib.sh"
version=$(sed -n 's/^project(kcb VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")

# --version, from the library, in every tool
check train_version 0 "^kcb-train $version\$" -- "$train" --version
check inspect_version 0 "^kcb-inspect $version\$" -- "$inspect" --version
for c in runs checkpoint plot; do
  check "inspect_${c}_version" 0 "^kcb-inspect $version\$" -- "$inspect" $c --version
done
check restore_version 0 "^kcb-restore $version\$" -- "$restore" --version
# output that cannot be written (a full disk) is a failure, said on stderr, however short the output
for tool in "$train" "$inspect" "$restore"; do
  name=$(basename "$tool")
  check "${name}_help_to_full_disk" 1 "^$name: writing to standard output failed: No space left on device" -- sh -c "'$tool' --help >/dev/full"
done
check train_help_value 2 "^kcb-train: --help: takes no value" -- "$train" --help=1
check train_metrics_empty_item 2 "^kcb-train: --metrics 'accuracy,': an empty name in the list" -- "$train" --metrics accuracy,
check train_metrics_empty_middle 2 "an empty name in the list" -- "$train" --metrics accuracy,,mse
check train_metrics_twice 2 "^kcb-train: --metrics 'accuracy': given twice" -- "$train" --metrics accuracy,mse,accuracy
# a malformed KCB_MAX_PARAMS is said, not silently replaced by the default
check env_max_params 2 "^kcb-train: KCB_MAX_PARAMS='1e9': expected a whole number" -- env KCB_MAX_PARAMS=1e9 "$train" --epochs 1
check env_max_params_inspect 2 "^kcb-inspect: KCB_MAX_PARAMS='-3'" -- env KCB_MAX_PARAMS=-3 "$inspect" runs .
# ... but --help and --version, which explain it, still answer
check env_max_params_help 0 "^usage: kcb-train" -- env KCB_MAX_PARAMS=abc "$train" --help
check env_max_params_version 0 "^kcb-restore [0-9]" -- env KCB_MAX_PARAMS=abc "$restore" --version
check env_max_params_inspect_help 0 "^usage: kcb-inspect runs" -- env KCB_MAX_PARAMS=abc "$inspect" help runs
# a value forgotten before the next option is said so, not taken as a file of that name (argparse's rule)
check train_value_is_option 2 "^kcb-train: --csv: needs a value, and the next argument is the option --terminate-on-nan \(write --csv=--terminate-on-nan" -- \
  "$train" --epochs 1 --csv --terminate-on-nan
check train_value_is_option_eq 2 "the next argument is the option --epochs=2" -- "$train" --logdir --epochs=2
check inspect_value_is_option 2 "^kcb-inspect scalars: --tag needs a value, and the next argument is the option --json" -- \
  "$inspect" scalars . --tag --json
check train_value_is_short_option 2 "^kcb-train: --csv: needs a value, and the next argument is the option -h" -- "$train" --csv -h
check inspect_value_is_short_option 2 "^kcb-inspect plot: --tag needs a value, and the next argument is the option -o" -- \
  "$inspect" plot . --tag -o x.png
check restore_value_is_option 2 "^kcb-restore: --monitor needs a value, and the next argument is the option --csv" -- \
  "$restore" . --monitor --csv x.csv
# unknown options are unknown (not "needs a value"), with the nearest one
check train_did_you_mean 2 "^kcb-train: unknown option '--epoch'; did you mean --epochs\? \(see kcb-train --help\)$" -- "$train" --epoch 3
check train_batchsize 2 "did you mean --batch-size\?" -- "$train" --batchsize 32
check train_caps_lock 2 "did you mean --epochs\?" -- "$train" --EPOCHS 3
# numbers as kcb-train takes them, in kcb-inspect too: no blank, no '+'
check inspect_jobs_plus 2 "^kcb-inspect runs: --jobs '\+5': expected a whole number from 1 to 64" -- "$inspect" runs . --jobs +5
check inspect_jobs_blank 2 "^kcb-inspect runs: --jobs ' 5': expected a whole number" -- "$inspect" runs . --jobs ' 5'
# ... and mistyped values of them
check train_value_loss 2 "unknown loss 'msee' \(did you mean mse\?\)" -- "$train" --loss msee
check train_value_optimizer 2 "unknown optimizer 'adma' \(did you mean adam\?\)" -- "$train" --optimizer adma
check train_value_activation 2 "unknown activation 'relux' \(did you mean relu\?\)" -- "$train" --model flatten,10:relux
check train_value_metric 2 "unknown metric 'acuracy' \(did you mean accuracy\?\)" -- "$train" --metrics accuracy,acuracy
check train_value_spec_item 2 "unknown item 'flaten' \(did you mean flatten\?\)" -- "$train" --model flaten,10:softmax
# an abbreviation of one option names it; a short name far from every option gets no guess (two
# edits turn "vs" into "lr", which is no help)
# a decaying schedule would undo every ReduceLROnPlateau cut at the next epoch: refused; the
# warm-up leaves the rate alone once it is over, and combines
check train_schedule_undoes_reduce 2 "^kcb-train: --reduce-lr-on-plateau with --lr-schedule cosine: the schedule sets the rate at every epoch" -- \
  "$train" --reduce-lr-on-plateau --lr-schedule cosine
# a checkpoint template whose names cannot be made is refused when given, not after an epoch
check train_template_too_wide 2 "ModelCheckpoint: template .* formats to more than 4095 bytes" -- \
  "$train" --checkpoint "$tmp/w{epoch:>100000d}.weights.h5"
check train_template_name_too_long 2 "makes names like 'xxxx.*' of 312 bytes, more than a file name may have \(255\)" -- \
  "$train" --checkpoint "$tmp/$(printf 'x%.0s' $(seq 300)){epoch}.weights.h5"
check train_abbreviation 2 "^kcb-train: unknown option '--epo'; did you mean --epochs\? " -- "$train" --epo 2
check train_no_wild_guess 2 "^kcb-train: unknown option '--vs' \(see kcb-train --help\)$" -- "$train" --vs 0.1
# settings of callbacks that are off would be taken and ignored: refused, as --min-delta alone is
check train_monitor_alone 2 "^kcb-train: --monitor needs --early-stopping PATIENCE, --reduce-lr-on-plateau or --checkpoint TEMPLATE" -- \
  "$train" --epochs 1 --monitor val_accuracy --mode max
check train_mode_alone 2 "^kcb-train: --mode needs --early-stopping PATIENCE" -- "$train" --epochs 1 --mode max
check train_class_names_alone 2 "^kcb-train: --class-names needs --pr-curves or --embeddings" -- \
  "$train" --epochs 1 --class-names a,b,c,d,e,f,g,h,i,j
# a log among kcb-restore's paths is --csv, which takes one: a second, either way, is refused
check restore_two_csv_logs 2 "^kcb-restore: a second CSV log \(a path ending in \.csv is taken as --csv, which takes one\): b\.csv" -- \
  "$restore" . --csv a.csv b.csv
# a CSV log or a checkpoint given to a command of event files is said to be what it is, not a
# damaged event file
printf 'epoch,loss\n0,1.5\n' >"$tmp/log.csv"
printf '\211HDF\r\n\032\n' >"$tmp/m.h5"
check inspect_csv_is_no_event_file 1 "^kcb-inspect: $tmp/log\.csv is a CSV log, not an event file \(kcb-inspect csv $tmp/log\.csv reads it\)" -- \
  "$inspect" scalars "$tmp/log.csv" --tag loss
check inspect_checkpoint_is_no_event_file 1 "is a checkpoint, not an event file \(kcb-inspect checkpoint $tmp/m\.h5 reads it\)" -- \
  "$inspect" validate "$tmp/m.h5"
printf 'help\n' >"$tmp/help.conf"
check train_config_help 2 "help.conf:1: 'help' asks for no training: give --help on the command line" -- "$train" --config "$tmp/help.conf"
check train_no_suggestion 2 "^kcb-train: unknown option '--zzzzzz' \(see kcb-train --help\)$" -- "$train" --zzzzzz
check train_equals_form 2 "kcb-train: --epochs 'x': expected a whole number" -- "$train" --epochs=x
check restore_unknown 2 "^kcb-restore: unknown option '--foo' \(see kcb-restore --help\)$" -- "$restore" --foo
check restore_unknown_short 2 "^kcb-restore: unknown option '-x' \(see kcb-restore --help\)$" -- "$restore" -x .
check restore_o_is_output 2 "^kcb-restore: --output 'x\.bin': the keras layout is written under a \*\.keras name" -- "$restore" /nonexistent -o x.bin --format keras
check restore_did_you_mean 2 "kcb-restore: unknown option '--mnitor' \(did you mean --monitor\?\)" -- "$restore" --mnitor x .
check inspect_command 2 "^kcb-inspect: unknown command 'scalar' \(did you mean scalars\?\)" -- "$inspect" scalar x
check inspect_option 2 "kcb-inspect scalars: unknown option '--tg' \(did you mean --tag\?\)" -- "$inspect" scalars x --tg t
check inspect_help_typo 2 "^kcb-inspect: unknown command 'hlep' \(did you mean help\?\)" -- "$inspect" hlep
check inspect_help_cmd 0 "^usage: kcb-inspect runs LOGDIR" -- "$inspect" help runs
check inspect_help_unknown 2 "kcb-inspect help: unknown command 'run' \(did you mean runs\?\)" -- "$inspect" help run
# usage errors before any work: kcb-restore checks --output against --format before ranking
check restore_format_name 2 "^kcb-restore: --output 'x\.bin': the keras layout is written under a \*\.keras name" -- \
  "$restore" /nonexistent --output x.bin --format keras
check train_write_images 2 "^kcb-train: --write-images needs --logdir DIR" -- "$train" --write-images
check train_initial_epoch 2 "kcb-train: --initial-epoch '3': must be below --epochs" -- "$train" --epochs 3 --initial-epoch 3
check train_inf_threshold_help 0 "inf and -inf allowed" -- "$train" --help
# --monitor in the command line's terms: --mode, and the nearest logged name
check train_monitor 2 "kcb-train: --monitor 'val_acc' is not the loss or one of --metrics.*give --mode min or --mode max \(did you mean val_accuracy\?\)" -- \
  "$train" --early-stopping 1 --monitor val_acc

# man pages: every flag a tool's --help lists is in its page, every kcb-inspect command too
src=$(cd "$(dirname "$0")/../.." && pwd)
for tool in kcb-train kcb-restore; do
  missing=$("$1/$tool" --help | sed -n 's/^ *\(-h, \)\{0,1\}\(--[a-z0-9-]*\).*/\2/p' | sort -u | while read -r flag; do
    grep -q -- "$(printf '%s' "$flag" | sed 's/-/\\\\-/g')" "$src/doc/man/$tool.1.in" || echo "$flag"; done)
  assert "man_${tool}_flags" test -z "$missing"
done
missing=$("$inspect" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' | while read -r c; do
  grep -q "^\.BI $c " "$src/doc/man/kcb-inspect.1.in" || echo "$c"; done)
assert man_inspect_commands test -z "$missing"
# ... and every option of every kcb-inspect command
missing=$("$inspect" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' | while read -r c; do
  "$inspect" "$c" --help | sed -n 's/^  \(--*[a-z][a-z0-9-]*\).*/\1/p'; done | sort -u | while read -r flag; do
  grep -q -- "$(printf '%s' "$flag" | sed 's/-/\\\\-/g')" "$src/doc/man/kcb-inspect.1.in" || echo "$flag"; done)
assert man_inspect_command_options test -z "$missing"
# bash completion: flags from --help, kcb-inspect commands, tags of the LOGDIR given
complete_line() { # complete_line FUNCTION WORD...: prints what completes the last word
  bash -c '. "$1"; PATH=$2:$PATH; fn=$3; shift 3; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "$fn"; echo "${COMPREPLY[*]}"' \
    _ "$src/doc/completion/kcb.bash" "$(cd "$(dirname "$train")" && pwd)" "$@"
}
# a file name with a space is one candidate, not two
mkdir -p "$tmp/comp/my run"
check complete_path_with_space 0 "^1: $tmp/comp/my run$" -- bash -c '. "$1"; COMP_WORDS=(kcb-train --csv "$2/comp/my"); COMP_CWORD=2
  _kcb_train; echo "${#COMPREPLY[@]}: ${COMPREPLY[0]}"' _ "$src/doc/completion/kcb.bash" "$tmp"
check complete_train_flag 0 '^--epochs$' -- complete_line _kcb_train kcb-train --epo
check complete_inspect_command 0 '^scalars$' -- complete_line _kcb_inspect kcb-inspect sca
check complete_inspect_path 0 'inspect_files\.sh' -- complete_line _kcb_inspect kcb-inspect "$src/tests/cli/inspect_f"
check complete_inspect_path_flags 0 '^--arch$' -- complete_line _kcb_inspect kcb-inspect "$src/tests/data/saving/m.h5" --ar
check complete_restore_mode 0 '^min max$' -- complete_line _kcb_restore kcb-restore --mode m
check complete_histogram_format 0 '^proto tensor$' -- complete_line _kcb_train kcb-train --histogram-format ""
check complete_lr_schedule 0 '^warmup$' -- complete_line _kcb_train kcb-train --lr-schedule w
check complete_loss 0 '^sparse_categorical_crossentropy$' -- complete_line _kcb_train kcb-train --loss sp
check complete_model_preset 0 '^cnn$' -- complete_line _kcb_train kcb-train --model c
check complete_metrics_list 0 '^accuracy,mse accuracy,mae$' -- complete_line _kcb_train kcb-train --metrics accuracy,m
check complete_number_offers_nothing 0 '^$' -- complete_line _kcb_train kcb-train --epochs ""
check complete_inspect_json_once 0 '^--json$' -- complete_line _kcb_inspect kcb-inspect "$src/tests/data/saving/m.h5" --js
check complete_restore_output 0 '^--output$' -- complete_line _kcb_restore kcb-restore --ou
check complete_restore_format 0 '^legacy_weights\.h5$' -- complete_line _kcb_restore kcb-restore --format l
check complete_inspect_second_flag 0 '^--no-color --no-raw$' -- complete_line _kcb_inspect kcb-inspect plot --no-
check complete_inspect_usage_flags 0 '^--run$' -- complete_line _kcb_inspect kcb-inspect plugins --ru
check complete_inspect_jobs 0 '^--jobs$' -- complete_line _kcb_inspect kcb-inspect runs --jo
# options before the command (kcb-inspect --json FILE): the command is the first other word
check complete_inspect_command_after_option 0 '^scalars$' -- complete_line _kcb_inspect kcb-inspect --json sca
check complete_inspect_flags_after_option 0 '^--tag$' -- complete_line _kcb_inspect kcb-inspect --jobs 2 scalars . --ta
check complete_inspect_leading_value 0 '^$' -- complete_line _kcb_inspect kcb-inspect --jobs ""
check complete_inspect_leading_option 0 '^--json$' -- complete_line _kcb_inspect kcb-inspect --js
check complete_inspect_attached_value 0 '^plot plugins$' -- complete_line _kcb_inspect kcb-inspect -o/tmp/x.png pl
# a value that is a name or a number of the user's offers no file names, and no words of a flag
# the command does not have
check complete_inspect_value_offers_nothing 0 '^$' -- complete_line _kcb_inspect kcb-inspect hparams . --sort ""
check complete_inspect_format_of_scalars 0 "^table csv json$" -- complete_line _kcb_inspect kcb-inspect scalars . --format ""
check complete_restore_monitor_offers_nothing 0 '^$' -- complete_line _kcb_restore kcb-restore . --monitor ""
# the set-up script waits for another apt's lock instead of failing at once
runs_apt=$(grep -nE '(^|\$SUDO |[;&|] *)apt-get ' "$src"/scripts/*.sh)
assert apt_runs_found test -n "$runs_apt"
assert apt_waits_for_lock test -z "$(printf '%s\n' "$runs_apt" | grep -v 'apt-get -o DPkg::Lock::Timeout=[0-9]')"

if [ -d /usr/share/datasets/fashion-mnist ]; then
  small="--train-limit 500 --model flatten,16:relu,10:softmax --verbose 2"
  check bad_model_exit_2 2 "kcb-train: --model 'flatten,16:relux'" -- "$train" $small --model flatten,16:relux
  # completion of --tag offers the tags the command shows, quoted when they hold spaces; --run the runs
  "$train" $small --epochs 1 --verbose 0 --logdir "$tmp/tb" --pr-curves >/dev/null 2>&1
  check complete_scalar_tags 0 '^epoch_learning_rate epoch_loss$' -- complete_line _kcb_inspect kcb-inspect scalars "$tmp/tb" --tag epoch_l
  check complete_tag_with_space 0 '^pr_curves/Ankle\\ boot$' -- complete_line _kcb_inspect kcb-inspect plugins "$tmp/tb" --tag pr_curves/Ank
  check complete_no_tensor_tag_for_scalars 0 '^$' -- complete_line _kcb_inspect kcb-inspect scalars "$tmp/tb" --tag kera
  check complete_runs 0 '^train$' -- complete_line _kcb_inspect kcb-inspect scalars "$tmp/tb" --run tr
  # closed standard output or error (`>&-`): the files the run opens do not take their numbers, so
  # no printed text lands in the event file or the CSV log
  "$train" $small --epochs 2 --logdir "$tmp/closed/tb" >&-
  check closed_stdout_events 0 "^2 files whole" -- "$inspect" validate "$tmp/closed/tb"
  "$train" $small --epochs 2 --csv "$tmp/closed/log.csv" >&- 2>&-
  check closed_stdout_csv 0 "^epoch,accuracy,loss," -- head -1 "$tmp/closed/log.csv"
  # ... and output that went nowhere is a failure, as with a full disk
  for tool in "$train" "$inspect" "$restore"; do
    name=$(basename "$tool")
    check "${name}_closed_stdout" 1 "^$name: writing to standard output failed: Bad file descriptor" -- sh -c "'$tool' --help >&-"
  done
  check inspect_closed_stdout_scalars 1 "writing to standard output failed" -- sh -c "'$inspect' scalars '$tmp/closed/tb' --tag epoch_loss >&-"
  # a log written with any --csv-separator reads back in both tools: the separator is the character
  # after the header's "epoch"
  "$train" $small --epochs 2 --csv-separator : --csv "$tmp/colon/log.csv" --checkpoint "$tmp/colon/c{epoch}.weights.h5" >/dev/null 2>&1
  check colon_csv_inspect 0 "separator ':'" -- "$inspect" csv "$tmp/colon/log.csv"
  check colon_csv_restore 0 "^1 +$tmp/colon/c[12]\.weights\.h5 .* csv$" -- "$restore" "$tmp/colon" --monitor val_accuracy
  # --csv creates its directory, as --logdir and --checkpoint do
  check csv_new_dir 0 "^  CSV log      $tmp/new/dir/log\.csv$" -- "$train" $small --epochs 1 --csv "$tmp/new/dir/log.csv"
  # the Files written list: no header when nothing was written; every checkpoint; no "./"
  "$train" $small --epochs 1 >"$tmp/none.out" 2>&1
  assert files_no_empty_header bash -c "! grep -q 'Files written' '$tmp/none.out'"
  check files_checkpoints 0 "^  checkpoint   $tmp/ck/e2\.keras$" -- "$train" $small --epochs 2 --checkpoint "$tmp/ck/e{epoch}.keras"
  cp "$out" "$tmp/ck.out"
  assert files_checkpoint_first grep -q "^  checkpoint   $tmp/ck/e1\.keras$" "$tmp/ck.out"
  # --save-top-k reads back an earlier run's files of the template: listed as kept, not as written
  "$train" $small --epochs 2 --checkpoint "$tmp/tk/m.{epoch:02d}-{val_loss:.3f}.keras" --save-top-k 1 >/dev/null 2>&1
  check files_topk_kept_earlier 0 "^  checkpoint   $tmp/tk/m\.02-.*; kept from an earlier run\)$" -- \
    "$train" $small --epochs 1 --lr 0 --checkpoint "$tmp/tk/m.{epoch:02d}-{val_loss:.3f}.keras" --save-top-k 1
  check files_save_last 0 "^  checkpoint   $tmp/ckl/last\.weights\.h5 \(--save-last\)$" -- \
    "$train" $small --epochs 1 --checkpoint "$tmp/ckl/e{epoch}.weights.h5" --save-last
  check files_no_dot 0 "^  TensorBoard  $tmp/tb/events\.out\.tfevents\.[^/]*\.v2$" -- "$train" $small --epochs 1 --logdir "$tmp/tb" --hparams
  cp "$out" "$tmp/tb.out"
  assert files_no_dot_anywhere bash -c "! grep -q '/\./' '$tmp/tb.out'"
  # the list names this run's event files, not those an earlier run left in the same log directory
  # (the directories made earlier hold files of other processes), and escapes what it prints
  "$train" $small --epochs 1 --logdir "$tmp/tb" >"$tmp/tb2.out" 2>&1
  check files_this_run_only 0 "^2$" -- grep -c "^  TensorBoard  $tmp/tb/\(train\|validation\)/events" "$tmp/tb2.out"
  check files_this_run_listed 0 "^2$" -- grep -c "^  TensorBoard" "$tmp/tb2.out"
  check files_escaped 0 "^  TensorBoard  $tmp/esc/a\\\\x1b\\[31m/train/events" -- "$train" $small --epochs 1 --logdir "$tmp/esc/a$(printf '\033')[31m"
  # a file matching the top-k template that does not read back (cut by a kill) is said, not silently skipped
  mkdir -p "$tmp/topk" && printf 'cut' >"$tmp/topk/w.9.keras"
  check topk_unreadable_said 0 "ModelCheckpoint: $tmp/topk/w\.9\.keras matches the filepath but does not read back" -- \
    "$train" $small --epochs 1 --verbose 1 --checkpoint "$tmp/topk/w.{epoch}.keras" --save-top-k 2
  # a spec starting with a number meant as the input's size is told what that number is
  check model_leading_number_hint 2 "note: '784' first is a Dense layer of 784 units on each row of the 28x28 images" -- \
    "$train" $small --epochs 0 --model 784,reshape:28x28x1,conv:4:3,gap,10:softmax
  # a pipe whose reader is gone (`| tee` ended by the same Ctrl-C, `| head`): training goes on and
  # saves, its exit status kcb-train's own, not SIGPIPE's
  check reader_gone_trains_on 0 '^0 saved$' -- bash -c "'$train' $small --epochs 1 --verbose 2 --save '$tmp/piped.weights.h5' | true;
    echo \${PIPESTATUS[0]} \$([ -f '$tmp/piped.weights.h5' ] && echo saved)"
  # --initial-epoch: the CSV (appended, as Keras appends: the earlier run's row of epoch 3 stays)
  # and {epoch} go on from there
  "$train" $small --epochs 4 --csv "$tmp/log.csv" --save "$tmp/m.weights.h5" >/dev/null 2>&1
  check initial_epoch_runs 0 "^Epoch 4/5$" -- "$train" $small --epochs 5 --initial-epoch 3 --csv "$tmp/log.csv" --csv-append \
    --initial-weights "$tmp/m.weights.h5" --checkpoint "$tmp/ie/e{epoch}.weights.h5" --save-weights-only
  assert initial_epoch_csv test "$(cut -d, -f1 "$tmp/log.csv" | tr -d '\r' | tr '\n' ' ')" = "epoch 0 1 2 3 3 4 "
  assert initial_epoch_template test "$(ls "$tmp/ie" | tr '\n' ' ')" = "e4.weights.h5 e5.weights.h5 "
  # infinite thresholds, as Keras accepts them: in min mode every finite value beats +inf
  check threshold_inf 0 "val_loss improved from inf to" -- "$train" $small --epochs 1 --checkpoint "$tmp/t/b.keras" \
    --save-best-only --initial-value-threshold inf
  # epochs 1-based where people read them: kcb-restore's listing, kcb-inspect csv
  check restore_epoch_1_based 0 "^[12] +$tmp/ck/e2\.keras +keras +2 " -- "$restore" "$tmp/ck"
  check csv_epochs_1_based 0 "^  epochs 1\.\.5 \(1-based\)$" -- "$inspect" csv "$tmp/log.csv"
  # tags: the nearest one, and the RUN/TAG form diff prints
  check tag_did_you_mean 1 "no run has the scalar tag 'loss' \(did you mean epoch_loss\?\)" -- "$inspect" scalars "$tmp/tb" --tag loss
  check plot_tag_did_you_mean 1 "no run has the scalar tag 'epoch_los' \(did you mean epoch_loss\?\)" -- \
    "$inspect" plot "$tmp/tb" --tag epoch_los --sparkline
  check tag_run_form 0 "^train  epoch_loss  \(1 points\)$" -- "$inspect" scalars "$tmp/tb" --tag train/epoch_loss
  check complete_tags 0 '^epoch_learning_rate epoch_loss$' -- complete_line _kcb_inspect kcb-inspect scalars "$tmp/tb" --tag epoch_l
  # colour: a colour per run by default on a terminal, none with NO_COLOR or TERM=dumb, none in a pipe
  plot="'$inspect' plot '$tmp/tb' --tag epoch_loss --term --rows 8 --columns 40"
  check plot_colour_tty 0 $'\e\\[3[0-9]m' -- env TERM=xterm script -qec "$plot" /dev/null
  check plot_no_color 0 'epoch_loss' -- env TERM=xterm NO_COLOR=1 script -qec "$plot" /dev/null
  assert plot_no_color_has_no_escape bash -c "! TERM=xterm NO_COLOR=1 script -qec \"$plot\" /dev/null | grep -q $'\e'"
  assert plot_dumb_has_no_escape bash -c "! TERM=dumb script -qec \"$plot\" /dev/null | grep -q $'\e'"
  assert plot_pipe_has_no_escape bash -c "! TERM=xterm $plot | grep -q $'\e'"
  check plot_log_y_warns 0 "warning: --log-y leaves out 1 value <= 0" -- "$inspect" plot "$src/tests/data/tfevents/logdir/run_a" --tag train/acc_new_style --log-y --sparkline
  # tables padded by display width: a file name in CJK and accents lines up with the others
  mkdir -p "$tmp/uni" && cp "$tmp/ck/e1.keras" "$tmp/uni/模型-é1.keras" && cp "$tmp/ck/e2.keras" "$tmp/uni/e2.keras"
  "$restore" "$tmp/uni" >"$tmp/uni.out" 2>&1
  assert restore_unicode_aligned /usr/bin/python3 -c '
import sys, unicodedata
cols = set()
for line in open(sys.argv[1], encoding="utf-8"):
    at = line.index(" keras ") if " keras " in line else line.index(" layout ")
    cols.add(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[:at]))
sys.exit(len(cols) != 1)' "$tmp/uni.out"
  # a table wider than the terminal becomes one block per row
  "$train" $small --epochs 1 --logdir "$tmp/hp" --hparams >/dev/null 2>&1
  check hparams_fits_terminal 0 '^validation_split +0\.1$' -- env COLUMNS=60 "$inspect" hparams "$tmp/hp"
  # a second run's hyperparameters into the same log directory: TensorBoard would show the first ones
  check hparams_logdir_reused_noted 0 "^kcb-train: note: --logdir $tmp/hp already holds an earlier run's hyperparameters" -- \
    "$train" $small --epochs 1 --verbose 0 --logdir "$tmp/hp" --hparams --lr 0.5
  check hparams_wide_in_pipe 0 '^run +model +loss +optimizer' -- "$inspect" hparams "$tmp/hp"
  # histograms in Keras 3's format (TF2 tensors, no sum): a mean estimated from the buckets, marked
  # '~'; by default kcb writes HistogramProtos and the mean is exact (histogram_formats.py)
  "$train" $small --epochs 1 --logdir "$tmp/hist" --histogram-freq 1 --histogram-format tensor >/dev/null 2>&1
  check histogram_mean_estimate 0 '^train +sequential/dense/kernel/histogram +0 +12544 +[-0-9.e]+ +[-0-9.e]+ +~[-0-9.e]+ ' -- \
    "$inspect" histograms "$tmp/hist"
  "$train" $small --epochs 1 --logdir "$tmp/histp" --histogram-freq 1 >/dev/null 2>&1
  check histogram_mean_exact 0 '^train +sequential/dense/kernel/histogram +0 +12544 +[-0-9.e]+ +[-0-9.e]+ +[-0-9][-0-9.e]* ' -- \
    "$inspect" histograms "$tmp/histp"
  check train_histogram_format 2 "kcb-train: --histogram-format 'x': expected proto or tensor" -- "$train" --histogram-format x
  check train_histogram_format_needs 2 "kcb-train: --histogram-format needs --histogram-freq N" -- \
    "$train" --logdir "$tmp/x" --histogram-format tensor
  check diff_missing_step 1 "kcb-inspect diff: neither run has a scalar at step 50" -- "$inspect" diff "$tmp/tb" "$tmp/tb" --step 50
  # a run and a checkpoint have nothing to compare: a usage error, not a checkpoint read as events
  check diff_run_and_checkpoint 2 "kcb-inspect diff: .*ck/e2\.keras is a checkpoint and .*tb is not: diff compares two runs or two checkpoints" -- \
    "$inspect" diff "$tmp/tb" "$tmp/ck/e2.keras"
fi
finish cli_usability
