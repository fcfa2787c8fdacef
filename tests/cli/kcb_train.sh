#!/usr/bin/env bash
# End-to-end tests of kcb-train (zstd's cli-tests style): each case is a command, the exit code
# it must return, and a pattern its output (stdout and stderr together) must contain.
# Usage: tests/cli/kcb_train.sh BIN_DIR
set -u
bin=$1/kcb-train inspect=$1/kcb-inspect
. "$(dirname "$0")/lib.sh"

check help 0 '--epochs N +\[20\]' -- "$bin" --help
check help_groups 0 '^Training:$' -- "$bin" -h
check bad_number 2 "kcb-train: --epochs 'abc': expected a whole number from 0 to 1000000" -- "$bin" --epochs abc
# `--` ends the options, as POSIX tools take it (the run goes on to its data); nothing may follow it
check dash_dash 1 "^kcb-train: /nonexistent: cannot open the data directory" -- "$bin" --data /nonexistent --
check dash_dash_argument 2 "^kcb-train: argument 'extra': kcb-train takes no arguments, only options" -- "$bin" --epochs 1 -- extra
check bad_range 2 "kcb-train: --verbose '3': expected a whole number from 0 to 2" -- "$bin" --verbose 3
check bad_split 2 "kcb-train: --validation-split '1.5': expected a number" -- "$bin" --validation-split 1.5
check unknown_flag 2 "kcb-train: unknown option '--bogus' \(see kcb-train --help\)" -- "$bin" --bogus 1
check missing_value 2 "kcb-train: --epochs '': needs a value" -- "$bin" --epochs
check empty_path_value 2 "kcb-train: --csv '': needs a value" -- "$bin" --csv ''
check empty_dir_value 2 "kcb-train: --logdir '': needs a value" -- "$bin" --logdir=
check bad_loss 2 "--loss 'foo': unknown loss 'foo' \(expected one of: mean_squared_error" -- "$bin" --loss foo
check bad_optimizer 2 "--optimizer 'adagrad': unknown optimizer" -- "$bin" --optimizer adagrad
check bad_metric 2 "--metrics 'f1': unknown metric" -- "$bin" --metrics accuracy,f1
# built-in callbacks: groups in --help, and flag errors before any data is read
check help_csv 0 '^CSV log:$' -- "$bin" --help
check help_early_stopping 0 '^Early stopping:$' -- "$bin" --help
check help_learning_rate 0 '^Learning rate:$' -- "$bin" --help
check csv_append_alone 2 "kcb-train: --csv-append needs --csv FILE" -- "$bin" --csv-append
check csv_bad_separator 2 "kcb-train: --csv-separator ';;': expected one character other than a quote" -- \
  "$bin" --csv x.csv --csv-separator ';;'
check restore_alone 2 "kcb-train: --restore-best-weights needs --early-stopping PATIENCE" -- "$bin" --restore-best-weights
check bad_patience 2 "kcb-train: --early-stopping '-1': expected a whole number from 0 to" -- "$bin" --early-stopping -1
check bad_mode 2 "kcb-train: --mode 'up': expected auto, min or max" -- "$bin" --early-stopping 2 --mode up
check bad_schedule_near 2 "kcb-train: --lr-schedule 'cosin': expected step, exponential, cosine or warmup \(did you mean cosine\?\)" -- \
  "$bin" --lr-schedule cosin
check bad_factor 2 "kcb-train: --factor '1.5': expected a number from 0 to 0.999999" -- "$bin" --reduce-lr-on-plateau --factor 1.5
check factor_alone 2 "kcb-train: --factor needs --reduce-lr-on-plateau" -- "$bin" --factor 0.5
check bad_schedule 2 "kcb-train: --lr-schedule 'linear': expected step, exponential, cosine or warmup" -- "$bin" --lr-schedule linear
check decay_alone 2 "kcb-train: --lr-decay-epochs needs --lr-schedule NAME" -- "$bin" --lr-decay-epochs 3
# a validation monitor no log will hold: refused, not watched in vain for the whole run
check val_monitor_no_validation 2 "kcb-train: --monitor val_loss is a validation value, but --validation-split 0 gives no validation" -- \
  "$bin" --validation-split 0 --early-stopping 1
check val_monitor_batch_checkpoints 2 "but --save-freq N ranks checkpoints by train batch logs" -- \
  "$bin" --checkpoint 'c{epoch}.keras' --save-freq 5 --save-top-k 1
# a setting a flag's callback or schedule would not use is refused, not taken and ignored
check alpha_not_step 2 "kcb-train: --lr-alpha is a setting of --lr-schedule cosine, not of step" -- "$bin" --lr-schedule step --lr-alpha 0.1
check rate_not_cosine 2 "--lr-decay-rate is a setting of --lr-schedule step or exponential, not of cosine" -- "$bin" --lr-schedule cosine --lr-decay-rate 0.5
check min_delta_alone 2 "kcb-train: --min-delta needs --early-stopping PATIENCE or --reduce-lr-on-plateau" -- "$bin" --min-delta 0.5

check help_tensorboard 0 '^  --logdir DIR  ' -- "$bin" --help
check tb_bad_update_freq 2 "kcb-train: --update-freq 'hourly': expected epoch, batch or a number of batches" -- \
  "$bin" --logdir /nonexistent --update-freq hourly
check tb_needs_logdir 2 "kcb-train: --hparams needs --logdir DIR" -- "$bin" --hparams
check tb_images_needs_logdir 2 "kcb-train: --write-images needs --logdir DIR" -- "$bin" --write-images
# ... and, as in Keras, the histograms it is drawn with; PR curves need validation data
check tb_images_needs_histograms 2 "kcb-train: --write-images needs --histogram-freq N" -- "$bin" --logdir "$tmp/x" --write-images
check tb_pr_curves_need_validation 2 "kcb-train: --pr-curves: PR curves are drawn from the validation data" -- \
  "$bin" --logdir "$tmp/x" --pr-curves --validation-split 0
mkdir -p "$tmp/empty-data"
check missing_data 1 "kcb-train: .*/empty-data/train-images-idx3-ubyte.*: neither exists \\(KCB_ENOENT\\)" -- "$bin" --data "$tmp/empty-data"
# ModelCheckpoint / BackupAndRestore flags
check help_checkpoint 0 '^  --checkpoint TEMPLATE    ModelCheckpoint: ' -- "$bin" --help
check help_backup 0 '^  --backup-dir DIR         BackupAndRestore: ' -- "$bin" --help
check best_only_alone 2 "kcb-train: --save-best-only needs --checkpoint TEMPLATE" -- "$bin" --save-best-only
check top_k_alone 2 "kcb-train: --save-top-k needs --checkpoint TEMPLATE" -- "$bin" --save-top-k 2
check backup_freq_alone 2 "kcb-train: --backup-freq needs --backup-dir DIR" -- "$bin" --backup-freq 5
check bad_save_freq 2 "kcb-train: --save-freq 'often': expected epoch or a number of batches" -- "$bin" --checkpoint w.keras --save-freq often
check bad_top_k 2 "kcb-train: --save-top-k '-3': expected a whole number from -1 to" -- "$bin" --checkpoint 'w{epoch}.keras' --save-top-k -3

if [ -d /usr/share/datasets/fashion-mnist ]; then
  check bad_model 2 "kcb-train: --model 'flatten,16:relux': unknown activation 'relux'" -- "$bin" --model flatten,16:relux --train-limit 100
  check bad_model_shape 2 "kcb-train: --model 'flatten,16:relu,3:softmax': the model has 3 outputs per sample, the data 10 classes \(its largest label, 9, is training sample [0-9]+\): --loss categorical_crossentropy needs an output per class \(see" -- \
    "$bin" --model flatten,16:relu,3:softmax --loss categorical_crossentropy --train-limit 1000 --epochs 1 --verbose 0
  check train_quiet 0 '^test_loss=[0-9]+\.[0-9]{6} test_accuracy=0\.[0-9]{6}$' -- \
    "$bin" --train-limit 2000 --epochs 1 --verbose 0
  check train_verbose2 0 '^Epoch 2/2$' -- "$bin" --train-limit 2000 --epochs 2 --verbose 2
  check train_verbose2_line 0 '^29/29 - [0-9]+s - [0-9]+(ms|us)/step - accuracy: 0\.[0-9]{4} - loss: [0-9.]{6} - val_accuracy: ' -- \
    "$bin" --train-limit 2000 --epochs 1 --verbose 2
  check train_summary 0 'Total params: 235,146 \(918.54 KB\)' -- "$bin" --train-limit 200 --epochs 1 --verbose 2
  check train_metrics 0 'test_loss=[0-9.]+ test_accuracy=[0-9.]+ test_mae=[0-9.]+$' -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --metrics accuracy,mae --loss sparse_categorical_crossentropy
  small="--train-limit 500 --model flatten,16:relu,10:softmax"
  # the optimizer's own settings reach it (its slots and its config in the file), and one given to
  # an optimizer that has no such setting is a usage error, not taken and ignored
  check sgd_momentum_slots 0 'optimizer state: 6 variables \(sgd\)' -- bash -c "'$bin' $small --epochs 1 --verbose 0 \
    --optimizer sgd --momentum 0.9 --nesterov --save '$tmp/mom.weights.h5' >/dev/null && '$inspect' checkpoint '$tmp/mom.weights.h5'"
  check adam_amsgrad_slots 0 'optimizer state: 14 variables \(adam\)' -- bash -c "'$bin' $small --epochs 1 --verbose 0 \
    --amsgrad --beta-1 0.8 --save '$tmp/ams.weights.h5' >/dev/null && '$inspect' checkpoint '$tmp/ams.weights.h5'"
  check adamw_settings_saved 0 '^0.01 0.8 0.99 1e-05 True$' -- bash -c "'$bin' $small --epochs 1 --verbose 0 --optimizer adamw \
    --weight-decay 0.01 --beta-1 0.8 --beta-2 0.99 --epsilon 1e-5 --amsgrad --save '$tmp/adamw.keras' >/dev/null && /usr/bin/python3 -c \"
import json, sys, zipfile
c = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['compile_config']['optimizer']['config']
print(round(c['weight_decay'], 6), round(c['beta_1'], 6), round(c['beta_2'], 6), round(c['epsilon'], 9), c['amsgrad'])\" '$tmp/adamw.keras'"
  # a tf.keras 2.11+ file names its optimizer in its compile settings only ("iteration:0" comes first):
  # another optimizer's state is not loaded as this one's
  tf2=$(dirname "$0")/../data/zoo-synth/make_tf2_new_optimizers.py
  /usr/bin/python3 "$tf2" "$tmp/tf2_sgdm.h5" 2.15.0 SGD momentum=0.9 >/dev/null
  check tf2_other_optimizer 0 "the saved optimizer state is for 'SGD', the model uses 'rm_sprop'" -- "$bin" --train-limit 64 \
    --epochs 0 --verbose 0 --model 28x28x1,conv:4:3:relu,bn,maxpool,flatten,16:relu,10:softmax --optimizer rmsprop \
    --initial-weights "$tmp/tf2_sgdm.h5"
  check tf2_same_optimizer_quiet 0 '^test_loss=[0-9.]+ test_accuracy=[0-9.]+$' -- "$bin" --train-limit 64 --epochs 0 --verbose 0 \
    --model 28x28x1,conv:4:3:relu,bn,maxpool,flatten,16:relu,10:softmax --optimizer sgd --momentum 0.9 --lr 0.002 \
    --initial-weights "$tmp/tf2_sgdm.h5"
  # resuming: an optimizer setting given as its default is the default; one a record written before
  # the setting existed does not hold was the default in the backed-up run
  "$bin" $small --epochs 1 --verbose 0 --optimizer sgd --backup-dir "$tmp/oldrec" >/dev/null 2>&1
  check resume_momentum_default_given 0 "^kcb-train: nothing to resume" -- "$bin" $small --epochs 1 --verbose 0 --optimizer sgd \
    --backup-dir "$tmp/oldrec" --momentum 0
  # records written before weight decay applied to every optimizer held AdamW's 0.004 for sgd too
  sed -i 's/^weight-decay=.*/weight-decay=0.004/' "$tmp/oldrec/kcb-train-course.txt"
  check resume_old_record_weight_decay 0 "^kcb-train: nothing to resume" -- "$bin" $small --epochs 1 --verbose 0 --optimizer sgd \
    --backup-dir "$tmp/oldrec"
  check resume_old_record_weight_decay_0 0 "^kcb-train: nothing to resume" -- "$bin" $small --epochs 1 --verbose 0 --optimizer sgd \
    --backup-dir "$tmp/oldrec" --weight-decay 0
  check resume_old_record_weight_decay_given 2 "--weight-decay 0.004 \(the backed-up run: 0\)" -- "$bin" $small --epochs 1 \
    --verbose 0 --optimizer sgd --backup-dir "$tmp/oldrec" --weight-decay 0.004
  grep -vE '^(momentum|nesterov|rho|centered|beta-1|beta-2|amsgrad|epsilon|weight-decay)=' "$tmp/oldrec/kcb-train-course.txt" \
    >"$tmp/oldrec.txt" && mv "$tmp/oldrec.txt" "$tmp/oldrec/kcb-train-course.txt"
  check resume_old_record_new_option 2 "other settings: --momentum 0.9 \(the backed-up run: not given\), --nesterov given" -- \
    "$bin" $small --epochs 1 --verbose 0 --optimizer sgd --backup-dir "$tmp/oldrec" --momentum 0.9 --nesterov
  check momentum_not_adam 2 "^kcb-train: --momentum is a setting of sgd and rmsprop, not of --optimizer adam" -- \
    "$bin" $small --epochs 1 --momentum 0.9
  # every Keras 3 optimizer takes weight_decay: the saved config says it
  check weight_decay_sgd 0 "^0\.1 0\.9$" -- sh -c "'$bin' $small --epochs 1 --verbose 0 --optimizer SGD --momentum 0.9 \
    --weight-decay 0.1 --save '$tmp/sgdwd.keras' >/dev/null && /usr/bin/python3 -c \"
import json, sys, zipfile
c = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))['compile_config']['optimizer']['config']
print(round(c['weight_decay'], 6), round(c['momentum'], 6))\" '$tmp/sgdwd.keras'"
  check unknown_monitor 2 "kcb-train: --monitor 'val_f1' is not the loss or one of --metrics.*give --mode min or --mode max" -- \
    "$bin" $small --epochs 2 --verbose 0 --early-stopping 1 --monitor val_f1
  : >"$tmp/a_file"
  check csv_unwritable 1 "kcb-train: CSVLogger: .*$tmp/a_file.*\(KCB_EIO\)" -- \
    "$bin" $small --epochs 1 --verbose 0 --csv "$tmp/a_file/log.csv"
  # --save makes its directory, and says before training when it cannot (no epoch line printed)
  check save_makes_dirs 0 "^1 $tmp/new/dir/m\.keras\$" -- bash -c "'$bin' $small --epochs 1 --verbose 0 --save '$tmp/new/dir/m.keras' >/dev/null && ls '$tmp/new/dir/m.keras' | wc -l | tr '\n' ' ' && ls '$tmp/new/dir/m.keras'"
  check save_unwritable_first 0 "^exit=1 epochs=0 .*$tmp/a_file exists and is not a directory \(KCB_EIO\)" -- \
    bash -c "out=\$('$bin' $small --epochs 1 --verbose 2 --save '$tmp/a_file/m.keras' 2>&1); echo exit=\$? epochs=\$(printf '%s\n' \"\$out\" | grep -c '^Epoch 1/') \"\$(printf '%s\n' \"\$out\" | tail -1)\""
  # --checkpoint's fixed directory too: made before training, or said before it
  check checkpoint_unwritable_first 0 "^exit=1 epochs=0 kcb-train: --checkpoint .*a_file/\{epoch\}\.keras: .*a_file exists and is not a directory\$" -- \
    bash -c "out=\$('$bin' $small --epochs 1 --verbose 2 --checkpoint '$tmp/a_file/{epoch}.keras' 2>&1); echo exit=\$? epochs=\$(printf '%s\n' \"\$out\" | grep -c '^Epoch 1/') \"\$(printf '%s\n' \"\$out\" | tail -1)\""
  check checkpoint_makes_dirs 0 "^$tmp/ck/deep/e1\.keras\$" -- bash -c "'$bin' $small --epochs 1 --verbose 0 --checkpoint '$tmp/ck/deep/e{epoch}.keras' >/dev/null && ls '$tmp/ck/deep/e1.keras'"
  # --save records the last epoch trained, not --epochs, when early stopping ends fit sooner
  check save_epoch_after_early_stop 0 "saved at: epoch 2\$" -- bash -c "'$bin' $small --epochs 9 --verbose 0 --lr 0 \
    --early-stopping 0 --save '$tmp/es.keras' >/dev/null && '$1/kcb-inspect' checkpoint '$tmp/es.keras'"
  # the labels are one-hot for the losses that compare outputs value by value; else checked first
  for loss in categorical_crossentropy mean_squared_error binary_crossentropy; do
    check "loss_$loss" 0 '^test_loss=[0-9.]+ test_accuracy=0\.[0-9]+$' -- "$bin" $small --epochs 1 --verbose 0 --loss $loss
  done
  check outputs_too_few 2 "kcb-train: --model 'flatten,5:softmax': the model has 5 outputs per sample, the data 10 classes" -- \
    "$bin" --train-limit 500 --model flatten,5:softmax --epochs 1 --verbose 0
  check single_output_binary_ten_classes 2 "the model has 1 output per sample, the data 10 classes \(its largest label, 9, is training sample [0-9]+\): --loss binary_crossentropy needs an output per class \(or a single one, for two classes\)" -- \
    "$bin" --train-limit 500 --model flatten,8:relu,1:sigmoid --loss binary_crossentropy --epochs 1 --verbose 0
  check single_output_mse 0 '^test_loss=[0-9.]+ test_mae=[0-9.]+$' -- \
    "$bin" --train-limit 500 --model flatten,8:relu,1 --loss mse --metrics mae --epochs 1 --verbose 0
  check outputs_rank 2 "the model's output has rank 3 per sample" -- \
    "$bin" --train-limit 500 --model 28x28x1,conv:2:3,softmax --epochs 1 --verbose 0
  check class_names_count 2 "kcb-train: --class-names 'a,b,c': 3 names for the data's 10 classes" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --logdir "$tmp/cn" --pr-curves --class-names a,b,c
  # a metric that reads labels in the other form than --loss gives them: a usage error, before any work
  check metric_label_form 2 "kcb-train: --metrics 'categorical_accuracy': categorical_accuracy reads one-hot labels, but --loss sparse_categorical_crossentropy takes class indices" -- \
    "$bin" --train-limit 200 --epochs 1 --metrics categorical_accuracy
  # a split that leaves no training (or validation) sample is a usage error, before any work
  check split_leaves_nothing 2 "kcb-train: --validation-split '0\.1': with 1 training sample it leaves no training sample" -- \
    "$bin" --train-limit 1 --epochs 1
  # a name for each of the model's outputs is right too, whatever labels the data loaded reaches
  check class_names_per_output 0 "^test_loss=" -- "$bin" --train-limit 500 --epochs 1 --verbose 0 --logdir "$tmp/cn12" \
    --model flatten,8:relu,12:softmax --pr-curves --class-names a,b,c,d,e,f,g,h,i,j,k,l
  # --save in a directory that takes no file: said before training, not after it
  check save_dir_not_writable 1 "^kcb-train: --save /proc/m\.keras: cannot save: creating a temporary file in /proc" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 1 --save /proc/m.keras
  cp "$out" "$tmp/save_check.txt"
  mkdir -p "$tmp/taken.keras"
  check save_is_directory 1 "^kcb-train: --save .*taken\.keras: cannot save: the name is a directory" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 1 --save "$tmp/taken.keras"
  assert save_is_directory_before_training bash -c '! grep -q "Epoch 1/1" "$1"' _ "$out"
  assert save_dir_checked_first bash -c '! grep -q "Epoch 1/1" "$1"' _ "$tmp/save_check.txt"
  # a --save name longer than the file system takes: said before training, not at the final rename
  long_name=$(printf 'n%.0s' $(seq 300)).keras
  check save_name_too_long 1 "^kcb-train: --save .*\.keras: cannot save: the name is 306 bytes, more than the 255 its directory's file system takes" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 1 --save "$tmp/$long_name"
  assert save_name_too_long_before_training bash -c '! grep -q "Epoch 1/1" "$1"' _ "$out"
  printf 'epochs = 1\n' >"$tmp/run.cfg"
  # --data that names a file, or nothing: said of the directory, not of four idx names inside it
  check data_is_file 1 "^kcb-train: $tmp/run.cfg: not a directory \(the directory holding the four idx files" -- \
    "$bin" --data "$tmp/run.cfg" --epochs 1
  check data_missing 1 "^kcb-train: $tmp/no-data: cannot open the data directory: No such file or directory" -- \
    "$bin" --data "$tmp/no-data" --epochs 1
  # no output over a file the run reads, nor two outputs on one file: usage errors before any work
  "$bin" --train-limit 200 --epochs 1 --verbose 0 --save "$tmp/start.weights.h5" >/dev/null
  check csv_over_initial_weights 2 "^kcb-train: --csv '.*start\.weights\.h5': it is the --initial-weights file this run reads" -- \
    "$bin" --train-limit 200 --epochs 1 --initial-weights "$tmp/start.weights.h5" --csv "$tmp/./start.weights.h5"
  assert csv_over_initial_weights_kept "$inspect" checkpoint "$tmp/start.weights.h5"
  check csv_over_config 2 "^kcb-train: --csv '.*run\.cfg': it is the --config file this run reads" -- \
    "$bin" --config "$tmp/run.cfg" --csv "$tmp/run.cfg"
  check save_same_as_checkpoint 2 "^kcb-train: --checkpoint '.*best\.keras': --save names the same file" -- \
    "$bin" --epochs 1 --save "$tmp/best.keras" --checkpoint "$tmp/best.keras" --save-best-only
  check csv_same_as_checkpoint_new_dir 2 "^kcb-train: --checkpoint '.*fresh/\./out\.keras': --csv names the same file" -- \
    "$bin" --epochs 1 --csv "$tmp/fresh/out.keras" --checkpoint "$tmp/fresh/./out.keras"
  # BackupAndRestore's own files are its alone: replaced at each backup, deleted when the run completes
  check save_over_backup_weights 2 "^kcb-train: --save '.*bk/latest\.weights\.h5': it is one of --backup-dir's own files" -- \
    "$bin" --epochs 1 --backup-dir "$tmp/bk" --save "$tmp/bk/latest.weights.h5"
  check csv_over_backup_record 2 "^kcb-train: --csv '.*bk/\./kcb-train-course\.txt': it is one of --backup-dir's own files" -- \
    "$bin" --epochs 1 --backup-dir "$tmp/bk/" --csv "$tmp/bk/./kcb-train-course.txt"
  check save_over_initial_weights 0 "^test_loss=" -- \
    "$bin" --train-limit 200 --epochs 1 --verbose 0 --initial-weights "$tmp/start.weights.h5" --save "$tmp/start.weights.h5"
  # numbers as --model writes them: no hexadecimal, no leading blank or '+'
  for v in 0x10 0x1p-10 ' 0.001' +0.001; do
    check "lr_not_plain_${v// /_}" 2 "kcb-train: --lr '${v//+/\\+}': expected a number from 0 to 1e\+06" -- "$bin" --lr "$v" --epochs 0
  done
  check batch_size_hex 2 "kcb-train: --batch-size '0x40': expected a whole number" -- "$bin" --batch-size 0x40 --epochs 0
  # a loss of 0/0 (outputs all zero: a dilated kernel that reads only blank corners) prints as nan
  check test_loss_nan 0 '^test_loss=nan test_accuracy=' -- "$bin" --train-limit 640 --epochs 1 --verbose 0 --model '28x28x1,conv:2:2:d27,flatten,10'
  # a checkpoint template naming a key the logs will not have, or a wrong extension: usage errors before training
  check checkpoint_unknown_key 2 "kcb-train: --checkpoint 'c/\{foo\}\.keras': filepath 'c/\{foo\}\.keras' names \{foo\}, which the logs will not have \(they will have: epoch, batch \(with save_freq N\), loss, accuracy, val_loss, val_accuracy\)" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 1 --checkpoint "c/{foo}.keras"
  check checkpoint_batch_key_epoch_saving 2 "kcb-train: --checkpoint .*'batch' \(there is no batch with save_freq=\"epoch\"\)" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --checkpoint "$tmp/c/{epoch}-{batch}.keras"
  check checkpoint_lr_key_needs_schedule 2 "names \{learning_rate\}" -- "$bin" --train-limit 500 --epochs 1 --checkpoint "$tmp/c/{epoch}-{learning_rate}.keras"
  check checkpoint_lr_key 0 "^test_loss=" -- "$bin" --train-limit 500 --epochs 1 --verbose 0 --lr-schedule cosine --checkpoint "$tmp/c/{epoch}-{learning_rate:.4f}.keras"
  check checkpoint_extension 2 "kcb-train: --checkpoint 'c/\{epoch\}\.txt': The filepath provided must end in" -- "$bin" --train-limit 500 --epochs 1 --checkpoint "c/{epoch}.txt"
  check class_names_twice 2 "kcb-train: --class-names 'a,b,c,d,e,f,g,h,i,c': the name 'c' is given twice" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --logdir "$tmp/cn" --pr-curves --class-names a,b,c,d,e,f,g,h,i,c
  check class_names_control 2 "kcb-train: --class-names .*: a name holds a control character" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --logdir "$tmp/cn" --pr-curves --class-names "$(printf 'a,b,c,d,e,f,g,h,i,j\tk')"
  check class_names_utf8 2 "kcb-train: --class-names .*: a name is not valid UTF-8" -- \
    "$bin" --train-limit 500 --epochs 1 --verbose 0 --logdir "$tmp/cn" --pr-curves --class-names "$(printf 'a,b,c,d,e,f,g,h,i,\xff\xfe')"
  check pr_curves_need_probabilities 2 "kcb-train: --pr-curves: PR curves need probabilities" -- \
    "$bin" --train-limit 500 --model flatten,1 --loss mse --epochs 1 --verbose 0 --logdir "$tmp/prc" --pr-curves
  # a softmax followed by layers that keep values in [0, 1] still gives probabilities
  check pr_curves_softmax_then_flatten 0 '^test_loss=' -- \
    "$bin" --train-limit 300 --epochs 1 --verbose 0 --model 28x28x1,conv:10:28:softmax,flatten --logdir "$tmp/prf" --pr-curves
  check embeddings_no_hidden 2 "kcb-train: --embeddings: the model has no hidden layer before its output Dense layer" -- \
    "$bin" --train-limit 500 --model 28x28x1,conv:10:28,flatten,softmax --epochs 1 --verbose 0 --logdir "$tmp/emb" --embeddings 4
  check embeddings_pixels_not_hidden 2 "kcb-train: --embeddings: the model has no hidden layer before its output Dense layer" -- \
    "$bin" --train-limit 100 --epochs 1 --verbose 0 --model flatten,dropout:0.1,10:softmax --logdir "$tmp/emb3" --embeddings 5
  # the sprite shows the data set's 28x28 images whatever shape the model views them in
  check embeddings_sprite_shape 0 "sprite 56x56 of 28x28 images" -- bash -c "'$bin' --train-limit 300 --model 14x56x1,conv:2:3,gap,8:relu,10:softmax \
    --epochs 1 --verbose 0 --logdir '$tmp/emb2' --embeddings 4 >/dev/null && '$1/kcb-inspect' plugins '$tmp/emb2'"
  # a rate of 0 keeps val_loss the same: patience 0 stops at the first tie (epoch index 1)
  check early_stopping 0 '^Epoch 2: early stopping$' -- "$bin" $small --epochs 5 --verbose 2 --lr 0 --early-stopping 0
  check early_stopping_restore 0 '^Restoring model weights from the end of the best epoch: 1\.$' -- \
    "$bin" $small --epochs 5 --verbose 2 --lr 0 --early-stopping 0 --restore-best-weights
  # the loss falls, so in max mode epoch 2 is a plateau: Adam's float32 0.001 halved
  check reduce_lr 0 '^Epoch 2: ReduceLROnPlateau reducing learning rate to 0\.0005000000237487257\.$' -- \
    "$bin" $small --epochs 2 --verbose 2 --reduce-lr-on-plateau --lr-patience 0 --factor 0.5 --monitor loss --mode max
  # --min-delta reaches ReduceLROnPlateau too: no epoch improves the loss by 10, so after one epoch
  # without improvement the rate is cut (its own 1e-4 would see the falling loss improve)
  check reduce_lr_min_delta 0 '^Epoch 2: ReduceLROnPlateau reducing learning rate to 0\.0005000000237487257\.$' -- \
    "$bin" $small --epochs 2 --verbose 2 --reduce-lr-on-plateau --lr-patience 0 --factor 0.5 --monitor loss --min-delta 10
  check lr_schedule_step 0 '^Epoch 3: LearningRateScheduler setting learning rate to 0\.0005000000237487257\.$' -- \
    "$bin" $small --epochs 3 --verbose 2 --lr-schedule step --lr-decay-epochs 2 --lr-decay-rate 0.5
  check terminate_on_nan 0 '^Batch [0-9]+: Invalid loss, terminating training$' -- \
    "$bin" --train-limit 500 --model flatten,1 --loss mse --metrics mae --optimizer sgd --lr 1000 --epochs 3 --verbose 2 --terminate-on-nan
  cr=$'\r'
  check csv_header 0 "^epoch,accuracy,learning_rate,loss,val_accuracy,val_loss$cr\$" -- \
    bash -c "'$bin' $small --epochs 2 --verbose 0 --reduce-lr-on-plateau --csv '$tmp/a.csv' >/dev/null && cat '$tmp/a.csv'"
  check csv_rows 0 "^1,[0-9.e-]+,0\\.0010000000474974513,[0-9.e-]+,[0-9.e-]+,[0-9.e-]+$cr\$" -- cat "$tmp/a.csv"
  check csv_no_val_columns 0 "^epoch;accuracy;loss$cr\$" -- \
    bash -c "'$bin' $small --epochs 1 --verbose 0 --validation-split 0 --csv '$tmp/b.csv' --csv-separator ';' >/dev/null && cat '$tmp/b.csv'"
  # appending twice: one header, then the rows of both runs (epochs 0, 1, 0, 1)
  check csv_append 0 '^1 0 0 1 1 epoch $' -- bash -c "for i in 1 2; do '$bin' $small --epochs 2 --verbose 0 --csv '$tmp/c.csv' --csv-append >/dev/null || exit 1; done
    grep -c '^epoch,' '$tmp/c.csv' | tr '\n' ' '; cut -d, -f1 '$tmp/c.csv' | tr -d '\r' | LC_ALL=C sort | tr '\n' ' '; echo"

  tb=$(mktemp -d)
  check tensorboard_fit 0 '^test_loss=[0-9.]+ test_accuracy=' -- "$bin" --train-limit 300 --epochs 2 --verbose 0 \
    --logdir "$tb" --histogram-freq 1 --update-freq batch --write-images --hparams
  tfcheck="/usr/bin/python3 $(dirname "$0")/../data/tfevents/tfrecord_check.py"
  check tensorboard_train_run 0 'train/events\.out\.tfevents\.[0-9]{10}\..*\.v2: [0-9]+ records, all CRCs match' -- $tfcheck "$tb"/train/*
  # file_version, then per epoch evaluation_loss/accuracy_vs_iterations and epoch_loss/accuracy
  check tensorboard_validation_run 0 'validation/events.*: 9 records, all CRCs match' -- $tfcheck "$tb"/validation/*
  check tensorboard_hparams 0 'tag: "_hparams_/session_end_info"' -- $tfcheck --decode "$tb"/events*
  # the learning rate as given: the double 0.001 (bytes fc a9 f1 d2 4d 62 50 3f), as TensorFlow's
  # hparams API stores it, not the float32 widened (0.0010000000474974513)
  check tensorboard_hparams_lr 0 'learning_rate\\022\\t\\021\\374\\251\\361\\322MbP\?' -- $tfcheck --decode "$tb"/events*
  check tensorboard_batch_tags 0 'tag: "batch_loss"' -- $tfcheck --decode "$tb"/train/*
  rm -rf "$tb"
  # --write-images pixels as Keras's tf.summary.image makes them: float32 x 255.5, clipped, cut
  # (a weight whose product rounds up to 8 in float32 is 8, not 7); weights kept by --lr 0
  px="/usr/bin/python3 $(dirname "$0")/tb_image_pixels.py"
  img=(--model 28x28x1,flatten,10:softmax --train-limit 100 --verbose 0)
  check image_pixels 0 '^ok 7840 pixels$' -- bash -c "'$bin' ${img[*]} --epochs 0 --save '$tmp/px.weights.h5' >/dev/null &&
    $px set '$tmp/px.weights.h5' && '$bin' ${img[*]} --epochs 1 --optimizer sgd --lr 0 --initial-weights '$tmp/px.weights.h5' \
      --logdir '$tmp/pxlog' --histogram-freq 1 --write-images >/dev/null 2>&1 &&
    '$(dirname "$bin")/kcb-inspect' images '$tmp/pxlog' -o '$tmp/pximg' >/dev/null &&
    $px check '$tmp/px.weights.h5' \$(ls '$tmp'/pximg/*kernel* | head -1)"

  # ModelCheckpoint and BackupAndRestore end to end
  check ckpt_suffix 2 "kcb-train: --checkpoint '.*/w\\.h5': When using .save_weights_only=True. in .ModelCheckpoint., the filepath provided must end in .\\.weights\\.h5." -- \
    "$bin" $small --epochs 1 --verbose 0 --checkpoint "$tmp/w.h5" --save-weights-only
  check ckpt_template 2 "kcb-train: --checkpoint .*bad template .*Unknown format code 'd' for object of type 'float'" -- \
    "$bin" $small --epochs 1 --verbose 0 --checkpoint "$tmp/w{val_loss:03d}.keras"
  check ckpt_val_key_no_validation 2 "names \\{val_loss\\}, which the logs will not have \\(they will have: epoch, batch \\(with save_freq N\\), loss, accuracy\\)" -- \
    "$bin" $small --epochs 1 --verbose 0 --validation-split 0 --checkpoint "$tmp/w{val_loss:.2f}.keras" --monitor loss
  check ckpt_best_messages 0 "^Epoch 1: val_loss improved from None to [0-9]\\.[0-9]{5}, saving model to $tmp/ck/w\\.01-[0-9]\\.[0-9]{3}\\.weights\\.h5\$" -- \
    "$bin" $small --epochs 3 --verbose 2 --checkpoint "$tmp/ck/w.{epoch:02d}-{val_loss:.3f}.weights.h5" --save-weights-only \
    --save-best-only --save-top-k 1 --save-last
  check ckpt_top1_last 0 '^1 1$' -- bash -c "ls '$tmp/ck' | grep -c '^w\\.' | tr '\\n' ' '; ls '$tmp/ck' | grep -c '^last\\.weights\\.h5\$'"
  # a template that names a key the logs will not have, or has no layout, is a usage error before
  # anything is written: no backup record, no directories
  check ckpt_error_writes_nothing 0 '^2$' -- bash -c "mkdir -p '$tmp/nothing' && cd '$tmp/nothing' && '$bin' $small --epochs 1 \
    --save out/m.keras --backup-dir bk --logdir tb --csv logs/l.csv --checkpoint 'ck/w.{nope}.keras' >/dev/null 2>&1; echo \$? \$(ls -A)"
  check ckpt_suffix_writes_nothing 0 '^2$' -- bash -c "cd '$tmp/nothing' && '$bin' $small --epochs 1 --checkpoint c/w.txt >/dev/null 2>&1;
    echo \$? \$(ls -A)"
  # temporaries an earlier run's kill or second Ctrl-C left mid-write are removed by the next run's
  # ModelCheckpoint and save: those of a process that is gone, untouched for a minute; not a live
  # process's, not a recent one's (a writer in another PID namespace looks gone), not the user's own
  dead=$(sh -c 'echo $$')
  mkdir -p "$tmp/stale"
  touch -d '2 minutes ago' "$tmp/stale/.w.02.keras.tmp-$dead-4" "$tmp/stale/.m.keras.tmp-$dead-1" "$tmp/stale/.w.03.keras.tmp-$$-2"
  touch "$tmp/stale/.w.04.keras.tmp-$dead-5" "$tmp/stale/m.keras.tmp-copy"
  check stale_temps_removed 0 "^\.w\.03\.keras\.tmp-$$-2 \.w\.04\.keras\.tmp-$dead-5 m\.keras m\.keras\.tmp-copy w\.01\.keras \$" -- \
    bash -c "'$bin' $small --epochs 1 --verbose 0 --checkpoint '$tmp/stale/w.{epoch:02d}.keras' --save '$tmp/stale/m.keras' >/dev/null &&
    ls -A '$tmp/stale' | LC_ALL=C sort | tr '\n' ' '"
  # 8 batches per epoch, a save every 3 counted across epochs (Keras): 3, 6, then 1, 4, 7 (1-based)
  check ckpt_batches 0 '^e1-b3\.keras e1-b6\.keras e2-b1\.keras e2-b4\.keras e2-b7\.keras $' -- bash -c "'$bin' $small --epochs 2 --verbose 0 \
    --checkpoint '$tmp/batches/e{epoch}-b{batch}.keras' --save-freq 3 --monitor loss >/dev/null && ls '$tmp/batches' | LC_ALL=C sort | tr '\n' ' '; echo"
  # a completed run leaves its marker and the record of its course (to tell its command run again
  # from another command on its directory), nothing else
  left_after_completion="completed.json
kcb-train-course.txt"
  check backup_removed 0 '^gone$' -- bash -c "'$bin' $small --epochs 2 --verbose 0 --backup-dir '$tmp/bk' --backup-freq 3 >/dev/null \
    && { test \"\$(ls -A '$tmp/bk')\" = '$left_after_completion' && echo gone; }"
  # the same command again: nothing to do, exit 0; another one on the directory: refused, saying why
  check backup_completed_same 0 '^kcb-train: nothing to resume: the run backed up in .*/bk completed \(2 epochs\)' -- \
    "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/bk" --backup-freq 3
  # the watched value's settings go with the callback that watches it: a backup of a run that had a
  # --checkpoint monitoring val_accuracy is resumed by the command without either
  "$bin" $small --epochs 1 --verbose 0 --monitor val_accuracy --checkpoint "$tmp/mon/ck.keras" --backup-dir "$tmp/mon/b" >/dev/null
  check backup_monitor_without_consumer 0 '^kcb-train: nothing to resume: the run backed up in .*/mon/b completed' -- \
    "$bin" $small --epochs 1 --verbose 0 --backup-dir "$tmp/mon/b"
  check backup_completed_other_lr 2 'holds a completed run trained with other settings: --lr 0\.5 \(the backed-up run: 0\.001\); nothing was trained' -- \
    "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/bk" --backup-freq 3 --lr 0.5
  check backup_completed_more_epochs 2 'start from its saved model with --initial-weights FILE --initial-epoch N' -- \
    "$bin" $small --epochs 5 --verbose 0 --backup-dir "$tmp/bk" --backup-freq 3
  check backup_completed_no_model 2 'holds a completed run, and --save .*/never\.keras does not exist' -- \
    "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/bk" --backup-freq 3 --save "$tmp/never.keras"
  # the options that change how a run ends are part of its course: a rerun without them is another run
  "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/rbw" --early-stopping 5 --restore-best-weights >/dev/null 2>&1
  check backup_other_restore_best 2 'trained with other settings: --restore-best-weights not given \(the backed-up run: given\)' -- \
    "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/rbw" --early-stopping 5
  check backup_other_terminate_on_nan 2 'trained with other settings: --terminate-on-nan given \(the backed-up run: not given\)' -- \
    "$bin" $small --epochs 2 --verbose 0 --backup-dir "$tmp/rbw" --early-stopping 5 --restore-best-weights --terminate-on-nan
  # a long --model is shown whole in the refusal: its difference may be at the end
  long_model=flatten,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu,16:relu
  "$bin" --train-limit 500 --model "$long_model,10:softmax" --epochs 1 --verbose 0 --backup-dir "$tmp/longm" >/dev/null 2>&1
  check backup_other_model_whole 2 "--model $long_model,10:sigmoid \(the backed-up run: $long_model,10:softmax\)" -- \
    "$bin" --train-limit 500 --model "$long_model,10:sigmoid" --epochs 1 --verbose 0 --backup-dir "$tmp/longm"
  # SIGHUP (the terminal or ssh session closed) stops as SIGTERM does: after the batch, with a
  # backup the same command resumes from
  "$bin" $small --epochs 200 --batch-size 4 --verbose 0 --backup-dir "$tmp/hup" --backup-freq 5 >"$tmp/hup.out" 2>&1 &
  hup_pid=$!
  for _ in $(seq 200); do [ -e "$tmp/hup/latest.weights.h5" ] && break; sleep 0.05; done
  kill -HUP $hup_pid; wait $hup_pid; hup_status=$?
  check sighup_stops_with_backup 0 '^129 stopped by SIGHUP, backup kept$' -- bash -c "grep -q 'kcb-train: stopped by SIGHUP' '$tmp/hup.out' \
    && test -e '$tmp/hup/latest.weights.h5' && echo '$hup_status stopped by SIGHUP, backup kept'"
  # under nohup, SIGHUP stays ignored, as the user asked: the run goes on, and SIGTERM still stops it
  nohup "$bin" $small --epochs 200 --batch-size 4 --verbose 0 --backup-dir "$tmp/nohup" --backup-freq 5 >"$tmp/nohup.out" 2>&1 &
  nohup_pid=$!
  for _ in $(seq 200); do [ -e "$tmp/nohup/latest.weights.h5" ] && break; sleep 0.05; done
  kill -HUP $nohup_pid; sleep 0.5
  nohup_alive=$(kill -0 $nohup_pid 2>/dev/null && echo running || echo stopped)
  kill -TERM $nohup_pid; wait $nohup_pid; nohup_status=$?
  check nohup_keeps_sighup_ignored 0 '^running 143$' -- echo "$nohup_alive $nohup_status"
  # (the same command: wherever the signal came, it resumes; stopped again once it has said so)
  check sighup_resumes 0 '^Resuming from .*/hup/latest\.weights\.h5 at epoch' -- bash -c "timeout -s INT 5 '$bin' $small \
    --epochs 200 --batch-size 4 --verbose 0 --backup-dir '$tmp/hup' --backup-freq 5 2>&1 | head -n 1"
  # a backup directory another process holds (as a second kcb-train resuming it at once would) is
  # refused before anything is read or written; flock(1) holds it as kcb-train does
  mkdir -p "$tmp/held"
  check backup_dir_in_use 1 "^kcb-train: --backup-dir $tmp/held is in use by another kcb-train" -- \
    flock "$tmp/held" "$bin" $small --epochs 1 --verbose 0 --backup-dir "$tmp/held"
  check backup_dir_in_use_untouched 0 '^empty$' -- bash -c "test -z \"\$(ls -A '$tmp/held')\" && echo empty"
  # temporary files of writes cut by kills (this version's hidden names and older plain ones) go
  mkdir -p "$tmp/bk2" && touch "$tmp/bk2/.kcb-train-course.txt.tmp-4242-0" "$tmp/bk2/kcb-train-course.txt.tmp-4429" \
    "$tmp/bk2/.latest.weights.h5.tmp-77-3" "$tmp/bk2/.training_metadata.json.tmp-77-4" "$tmp/bk2/.completed.json.tmp-9-0"
  check backup_stale_temps_removed 0 '^gone$' -- bash -c "'$bin' $small --epochs 1 --verbose 0 --backup-dir '$tmp/bk2' >/dev/null \
    && { test \"\$(ls -A '$tmp/bk2')\" = '$left_after_completion' && echo gone; }"
  # what a kill just after completion leaves of the backup's position goes when the command is run again
  touch "$tmp/bk2/training_metadata.json" "$tmp/bk2/.kcb-train-course.txt.tmp-4242-0"
  check backup_completed_again 0 '^gone$' -- bash -c "'$bin' $small --epochs 1 --verbose 0 --backup-dir '$tmp/bk2' | grep -q 'nothing to resume' \
    && { test \"\$(ls -A '$tmp/bk2')\" = '$left_after_completion' && echo gone; }"
  # --config: the same options from a file, command-line flags after it win; errors name file and line
  printf '# a run to repeat\nepochs = 2\nverbose=2\nmodel = flatten,16:relu,10:softmax\ntrain-limit = 500\ncsv = %s\nterminate-on-nan\n' \
    "$tmp/cfg.csv" >"$tmp/run.conf"
  check config_file 0 '^Epoch 2/2$' -- "$bin" --config "$tmp/run.conf"
  check config_wrote_csv 0 '^1,' -- cat "$tmp/cfg.csv"
  check config_overridden 0 '^Epoch 3/3$' -- "$bin" --config "$tmp/run.conf" --epochs 3
  # the warm-up sets the rate until its last epoch, then leaves it: ReduceLROnPlateau's cuts (every
  # epoch here: the loss never rises) stay from there on
  check warmup_keeps_reductions 0 '^0\.01 0\.01 0\.01 0\.001 0\.0001 $' -- bash -c "'$bin' $small --epochs 5 --verbose 0 --lr 0.01 \
    --lr-schedule warmup --lr-warmup-epochs 2 --reduce-lr-on-plateau --lr-patience 0 --monitor loss --mode max \
    --csv '$tmp/warm.csv' >/dev/null && tail -n +2 '$tmp/warm.csv' | cut -d, -f3 | xargs printf '%.1g '"
  # a template with its field in a directory (as Keras allows): a run continued later reads the
  # files kept back, so --save-top-k 2 keeps 2 files over both runs
  "$bin" $small --epochs 2 --verbose 0 --checkpoint "$tmp/tk/{epoch:02d}/w.weights.h5" --save-weights-only --save-top-k 2 \
    --monitor loss >/dev/null 2>&1
  check top_k_directory_fields 0 '^2 files$' -- bash -c "'$bin' $small --epochs 4 --initial-epoch 2 --initial-weights '$tmp/tk/02/w.weights.h5' \
    --verbose 0 --checkpoint '$tmp/tk/{epoch:02d}/w.weights.h5' --save-weights-only --save-top-k 2 --monitor loss >/dev/null 2>&1 \
    && echo \$(find '$tmp/tk' -type f | wc -l) files"
  # --initial-weights from a file compiled with another loss: said (its weights were trained for that one)
  "$bin" $small --epochs 1 --verbose 0 --loss mse --save "$tmp/mse.keras" >/dev/null 2>&1
  check initial_weights_other_loss 0 "note: --initial-weights .*mse\.keras was compiled with mean_squared_error; this run trains with sparse_categorical_crossentropy" -- \
    "$bin" $small --epochs 1 --verbose 0 --initial-weights "$tmp/mse.keras"
  # --initial-weights brings its optimizer's learning rate: a --lr given replaces it (said), and the
  # run trains at that rate; not given, the file's rate goes on (said)
  "$bin" $small --epochs 1 --verbose 0 --optimizer sgd --lr 0.05 --save "$tmp/lr05.keras" >/dev/null 2>&1
  check initial_weights_lr_given 0 "^0,[^,]*,0\.009999999776482582,.*note: --lr 0\.01 replaces the learning rate 0\.05 stored in" -- \
    sh -c "'$bin' $small --epochs 1 --verbose 0 --optimizer sgd --lr 0.01 --initial-weights '$tmp/lr05.keras' --reduce-lr-on-plateau \
    --csv '$tmp/lr01.csv' 2>&1 >/dev/null | tr '\n' ' ' >'$tmp/lr01.err'; sed -n 2p '$tmp/lr01.csv' | tr -d '\r\n'; cat '$tmp/lr01.err'"
  check initial_weights_lr_kept 0 "note: training goes on at the learning rate 0\.05 stored in" -- \
    "$bin" $small --epochs 1 --verbose 0 --optimizer sgd --initial-weights "$tmp/lr05.keras"
  # a schedule continued from --initial-weights gives each epoch the rate it gives from --lr, not
  # the file's decayed rate decayed again: epoch 4 (0-based) of step halving every epoch is 0.001 / 16
  sched="--lr-schedule step --lr-decay-epochs 1"
  "$bin" $small --epochs 4 --verbose 0 $sched --save "$tmp/sched4.weights.h5" >/dev/null 2>&1
  check schedule_after_initial_weights 0 "^4,[^,]*,6\.25000029685907e-05," -- sh -c "'$bin' $small --verbose 0 $sched \
    --initial-weights '$tmp/sched4.weights.h5' --initial-epoch 4 --epochs 5 --csv '$tmp/sched.csv' >/dev/null 2>&1; cat '$tmp/sched.csv'"
  # --initial-weights from a kcb file continues its generators (shuffle, dropout) bit for bit; a
  # --seed given asks for other ones: a seed sweep from one checkpoint gives different runs
  drop="--model flatten,32:relu,dropout:0.5,10:softmax"
  "$bin" --train-limit 500 $drop --epochs 1 --verbose 0 --save "$tmp/drop.weights.h5" >/dev/null 2>&1
  check seed_given_after_initial_weights 0 "^differ$" -- sh -c "a=\$('$bin' --train-limit 500 $drop --epochs 1 --verbose 0 \
    --initial-weights '$tmp/drop.weights.h5' --seed 1 2>/dev/null); b=\$('$bin' --train-limit 500 $drop --epochs 1 --verbose 0 \
    --initial-weights '$tmp/drop.weights.h5' --seed 2 2>/dev/null); [ \"\$a\" != \"\$b\" ] && echo differ"
  # a leading ~ in a path is the home directory, as the shell would expand it (it does not in a
  # config file, nor after --opt=): no directory named "~" is made
  mkdir -p "$tmp/home" "$tmp/tilde" && printf 'csv = ~/tilde.csv\n' >"$tmp/home/tilde.conf"
  check config_tilde_is_home 0 '^home csv, no ~ directory$' -- bash -c "cd '$tmp/tilde' && HOME='$tmp/home' '$bin' $small --epochs 1 \
    --verbose 0 --config=~/tilde.conf --logdir=~/tb >/dev/null && test -s '$tmp/home/tilde.csv' && test -d '$tmp/home/tb' \
    && test ! -e '$tmp/tilde/~' && echo 'home csv, no ~ directory'"
  printf 'epochs = 2\nbogus = 1\n' >"$tmp/bad.conf"
  check config_unknown_key 2 "kcb-train: .*bad\.conf:2: unknown option 'bogus'" -- "$bin" --config "$tmp/bad.conf"
  printf 'epochs = many\n' >"$tmp/bad2.conf"
  check config_bad_value 2 "kcb-train: .*bad2\.conf:1: --epochs 'many': expected a whole number" -- "$bin" --config "$tmp/bad2.conf"
  check config_missing 2 "kcb-train: --config '/nonexistent.conf': No such file or directory" -- "$bin" --config /nonexistent.conf
  # a write error stops the run by default, or only warns with --on-write-error warn
  check write_error_stops 1 "kcb-train: CSV: cannot write to /dev/full: No space left on device \(KCB_ENOSPC\)" -- \
    "$bin" $small --epochs 2 --verbose 0 --csv /dev/full
  # --initial-weights from a run with another optimizer: the weights load, the state is said to be
  # left (as Keras warns), and training goes on with a fresh optimizer
  check initial_sgd_saved 0 '^test_loss=' -- "$bin" $small --epochs 1 --verbose 0 --optimizer sgd --save "$tmp/sgd.keras"
  check initial_other_optimizer_warns 0 "^kcb-train: warning: --initial-weights: the optimizer state was not loaded.*'sgd', the model uses 'adam'" -- \
    "$bin" $small --epochs 1 --verbose 0 --initial-weights "$tmp/sgd.keras"
  check initial_same_optimizer_trains 0 '^test_loss=' -- "$bin" $small --epochs 1 --verbose 0 --optimizer sgd \
    --initial-weights "$tmp/sgd.keras"
  assert initial_same_optimizer_silent bash -c '! grep -q Warning "$1"' _ "$out"
  # the same model saved unzipped (a directory of the archive's files, as Keras's zipped=False):
  # kcb_model_load reads it as the archive, to the same test result
  check initial_from_unzipped_dir 0 '^same$' -- bash -c "/usr/bin/python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      '$tmp/sgd.keras' '$tmp/sgd_unzipped' &&
    a=\$('$bin' $small --epochs 0 --verbose 0 --optimizer sgd --initial-weights '$tmp/sgd.keras') &&
    b=\$('$bin' $small --epochs 0 --verbose 0 --optimizer sgd --initial-weights '$tmp/sgd_unzipped') && [ \"\$a\" = \"\$b\" ] && echo same"
  # a run started from --initial-weights resumes from its backup alone: the file may be gone
  iw=(--train-limit 5000 --model flatten,16:relu,10:softmax --epochs 30 --batch-size 32 --verbose 0
      --backup-dir "$tmp/iw/bk" --backup-freq 20 --initial-weights "$tmp/iw/start.weights.h5")
  mkdir -p "$tmp/iw"
  "$bin" $small --epochs 1 --verbose 0 --save "$tmp/iw/start.weights.h5" >/dev/null
  "$bin" "${iw[@]}" >/dev/null 2>&1 &
  job=$!
  for _ in $(seq 600); do [ -f "$tmp/iw/bk/latest.weights.h5" ] && break; sleep 0.05; done
  kill -TERM "$job" 2>/dev/null; wait "$job"
  rm -f "$tmp/iw/start.weights.h5"
  check resume_without_initial_weights 0 '^Resuming from .*iw/bk/latest\.weights\.h5' -- "$bin" "${iw[@]}"
  # the test line (its result) cannot be written: not a success
  check stdout_full_fails 1 "^kcb-train: writing to standard output failed: No space left on device" -- \
    sh -c "'$bin' $small --epochs 1 --verbose 0 >/dev/full"
  check write_error_warns 0 "^Warning: CSVLogger failed and is off for the rest of this run: CSV: cannot write to /dev/full" -- \
    "$bin" $small --epochs 2 --verbose 0 --csv /dev/full --on-write-error warn
  check bad_on_write_error 2 "kcb-train: --on-write-error 'ignore': expected stop or warn" -- "$bin" --on-write-error ignore
  # the files a run wrote are listed before the evaluation
  mkdir -p "$tmp/fl"
  check files_listed 0 "^  checkpoint   $tmp/fl/w\.02\.weights\.h5 \(val_loss [0-9.]+\)$" -- \
    "$bin" $small --epochs 2 --verbose 2 --csv "$tmp/fl/log.csv" --logdir "$tmp/fl/tb" \
    --checkpoint "$tmp/fl/w.{epoch:02d}.weights.h5" --save-weights-only --save-top-k 1 --save "$tmp/fl/final.keras"
  check files_listed_all 0 "TensorBoard  $tmp/fl/tb/train/events.*CSV log      $tmp/fl/log\.csv.*model        $tmp/fl/final\.keras" -- \
    bash -c "'$bin' $small --epochs 1 --verbose 2 --csv '$tmp/fl/log.csv' --logdir '$tmp/fl/tb' --save '$tmp/fl/final.keras' | tr '\n' ' '"
else
  echo "skip: no /usr/share/datasets/fashion-mnist"
fi
finish "kcb-train"
