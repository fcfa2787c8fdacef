#!/usr/bin/env bash
# kcb-inspect histograms, images, text and hparams, end to end (see inspect_lib.sh for the case
# forms); with Fashion-MNIST installed, also on the log directory of a tiny kcb-train run.
# Usage: tests/cli/inspect_events.sh KCB_INSPECT INSPECT_SAMPLE TESTS_DATA_DIR [KCB_TRAIN]
set -u
bin=$1 sample=$2 data=$3 train=${4:-} here=$(cd "$(dirname "$0")" && pwd)
source "$here/inspect_lib.sh"
fx=$data/tfevents/logdir
"$sample" "$tmp/s" || { echo "inspect_sample failed"; exit 1; }
logs=$tmp/s/logs

# histograms: legacy HistogramProtos (torch) and TF2 tensors (kcb) against their sources
check_json histograms_fixture 0 fixture_histograms -- "$bin" histograms "$fx" --json
check_json histograms_kcb 0 sample_histograms -- "$bin" histograms "$logs" --json
check histograms_text 0 '^run_a  weights/raw +7 +10 +0\.5 +2\.9 +1\.5  [▁▂▃▄▅▆▇█]{24}$' -- "$bin" histograms "$fx" --tag weights/raw
check histograms_buckets 0 '^ +3 +1 +2$' -- "$bin" histograms "$fx" --tag weights/raw --buckets
check histograms_none 1 "kcb-inspect histograms: no histogram with the tag 'train/loss'" -- "$bin" histograms "$fx" --tag train/loss
check histograms_truncated 1 "warning: .*truncated record at offset 42173" -- "$bin" histograms "$data"/tfevents/broken/truncated.tfevents
check histograms_bad_run 1 "no run named 'x'" -- "$bin" histograms "$fx" --run x
# a run named as a shell completes it (a trailing /, a leading ./); a near name is suggested
check histograms_run_completed 0 '^run_a  weights/raw ' -- "$bin" histograms "$fx" --run ./run_a/ --tag weights/raw
check histograms_run_suggested 1 "no run named 'run' \(did you mean run_a\?\) \(runs: run_a run_a/hp\)" -- "$bin" histograms "$fx" --run run
check histograms_help 0 '--buckets +also print every bucket' -- "$bin" histograms -h

# images: listed, and extracted as PNGs an independent decoder reads at the stated size
check_json images_fixture 0 fixture_images -- "$bin" images "$fx" --json
check_json images_extract 0 fixture_images files -- "$bin" images "$fx" -o "$tmp/img" --json
check images_pngcheck 0 '^OK: .*run_a__samples_gradient__0\.png \(48x32, ' -- pngcheck "$tmp/img/run_a__samples_gradient__0.png"
check images_kcb 0 '^adam/train  samples +0 +0 +4x3 +[0-9]+  png  .*/adam_train__samples__0\.png$' -- "$bin" images "$logs" -o "$tmp/img2"
# -oDIR, as getopt takes a short option's value
check images_attached_o 0 "$tmp/img4/adam_train__samples__0\.png$" -- "$bin" images "$logs" "-o$tmp/img4"
check images_kcb_pngcheck 0 '^OK: .*\(4x3, 24-bit RGB' -- pngcheck "$tmp/img2/sgd_train__samples__0.png"
# a file of the name already in DIR is replaced, and a symbolic link there is replaced, not followed
mkdir -p "$tmp/img3" && echo precious >"$tmp/precious" && ln -s "$tmp/precious" "$tmp/img3/adam_train__samples__0.png"
check images_link_not_followed 0 'adam_train__samples__0\.png$' -- "$bin" images "$logs" -o "$tmp/img3"
check images_link_target_kept 0 '^precious$' -- cat "$tmp/precious"
check images_link_replaced 0 '^file$' -- bash -c "[ -f '$tmp/img3/adam_train__samples__0.png' ] && [ ! -L '$tmp/img3/adam_train__samples__0.png' ] && echo file"
# runs deeper than the walk goes are an error that says where, not a listing missing them
deep="$tmp/deep/$(printf 'd/%.0s' $(seq 70))"
mkdir -p "$deep"
check deep_runs_said 1 "a directory more than 64 levels below the log directory given" -- "$bin" runs "$tmp/deep"
# -o makes its directories (as kcb-restore -o); one under a regular file cannot be made
touch "$tmp/plain"
check images_unwritable 1 "kcb-inspect images: .*$tmp/plain.*(Not a directory|not a directory|a regular file)" -- "$bin" images "$fx" -o "$tmp/plain/dir"
check images_new_dirs 0 "run_a__samples" -- sh -c "'$bin' images '$fx' -o '$tmp/new/deep/dir' >/dev/null && ls '$tmp/new/deep/dir'"
check images_stdout_refused 2 "kcb-inspect images: -o -: the files extracted go to a directory" -- "$bin" images "$fx" -o -
check images_none 1 "no image with the tag 'nope'" -- "$bin" images "$fx" --tag nope

# text
check_json text_fixture 0 fixture_text -- "$bin" text "$fx" --json
check text_kcb 0 '^  \*\*momentum\*\* 0$' -- "$bin" text "$logs" --run sgd/train
check text_none 1 "kcb-inspect text: no text summary in" -- "$bin" text "$logs/adam/validation"

# hparams: the table of sessions with their final metrics, sorted
check_json hparams_fixture 0 fixture_hparams -- "$bin" hparams "$fx" --json
check_json hparams_kcb_sorted 0 sample_hparams adam,sgd -- "$bin" hparams "$logs" --sort validation/epoch_loss --json
check_json hparams_kcb_desc 0 sample_hparams sgd,adam -- "$bin" hparams "$logs" --sort validation/epoch_loss --desc --json
check_json hparams_kcb_by_lr 0 sample_hparams sgd,adam -- "$bin" hparams "$logs" --sort lr --desc --json
check hparams_text 0 '^adam +adam +0\.001 +32 +true +0\.8125 +1\.3125 +0\.296875 +success$' -- "$bin" hparams "$logs"
check hparams_bad_sort 1 "kcb-inspect hparams: --sort 'f1': no such metric or hyperparameter" -- "$bin" hparams "$logs" --sort f1
check hparams_none 1 "kcb-inspect hparams: no hparams session" -- "$bin" hparams "$logs/adam/train"

# a tiny kcb-train run: its TensorBoard log read back, compared with its CSV log
if [ -n "$train" ] && [ -d /usr/share/datasets/fashion-mnist ]; then
  "$train" --train-limit 500 --epochs 3 --model flatten,16:relu,10:softmax --verbose 0 --logdir "$tmp/tb" \
    --histogram-freq 1 --hparams --write-images --csv "$tmp/log.csv" >/dev/null || echo "kcb-train failed"
  check_json train_loss 0 train_csv "$tmp/log.csv" loss train -- "$bin" scalars "$tmp/tb" --tag epoch_loss --json
  check_json train_val_accuracy 0 train_csv "$tmp/log.csv" val_accuracy validation -- "$bin" scalars "$tmp/tb" --tag epoch_accuracy --json
  check train_histograms 0 '^train +sequential/dense/kernel/histogram +2 +12544 ' -- "$bin" histograms "$tmp/tb" --tag sequential/dense/kernel/histogram
  check train_images 0 '^train +sequential/dense_1/kernel/image +0 +0 +16x10 ' -- "$bin" images "$tmp/tb"
  check train_hparams 0 '^\. +flatten,16:relu,10:softmax +sparse_categorical_crossentropy +adam ' -- "$bin" hparams "$tmp/tb"
  check train_runs 0 '^  graph_keras_model +keras +tensor +1 +0$' -- "$bin" runs "$tmp/tb"
else
  echo "skip kcb-train cases (no kcb-train or no /usr/share/datasets/fashion-mnist)"
fi

finish
