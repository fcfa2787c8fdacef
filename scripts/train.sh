#!/usr/bin/env bash
# Installs what is missing, builds kcb and trains the default model on Fashion-MNIST, writing
# TensorBoard logs, the best checkpoints, a CSV log, a crash backup and the final model to a run
# directory (runs/fashion-mnist-<date>-<time>, or $KCB_RUN_DIR). Interrupted? Run it again with
# KCB_RUN_DIR set to that directory: BackupAndRestore resumes where the backup left off.
# Extra arguments go to kcb-train (see build/tools/kcb-train --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target kcb-train kcb-inspect kcb-restore
run=${KCB_RUN_DIR:-runs/fashion-mnist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$run"
# the resume command repeats the extra arguments: the backup refuses another course
extra=$([ $# -eq 0 ] || printf ' %q' "$@")
echo "run directory: $run (if interrupted: KCB_RUN_DIR=$(printf '%q' "$run") bash scripts/train.sh$extra)"
./build/tools/kcb-train \
  --logdir "$run/tensorboard" --histogram-freq 1 \
  --csv "$run/log.csv" \
  --checkpoint "$run/checkpoints/epoch{epoch:02d}-val_loss{val_loss:.4f}.keras" --save-best-only --save-top-k 3 \
  --backup-dir "$run/backup" \
  --save "$run/model.keras" \
  "$@"
echo "see it in TensorBoard: tensorboard --logdir $run/tensorboard; or: build/tools/kcb-inspect runs $run/tensorboard"
