#!/usr/bin/env bash
# Installs what is missing, builds kcb and trains the default model on Fashion-MNIST, writing
# TensorBoard logs, the best checkpoints, a CSV log, a crash backup and the final model to a run
# directory (runs/fashion-mnist-<date>-<time>, or $KCB_RUN_DIR). Interrupted? Run it again with
# KCB_RUN_DIR set to that directory: BackupAndRestore resumes where the backup left off.
# Extra arguments go to kcb-train (see build/tools/kcb-train --help).
set -euo pipefail
# built in the repository; run from where it was called, so that relative paths (KCB_RUN_DIR, a
# --config FILE) mean what they mean there
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && bash scripts/deps.sh && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null &&
  cmake --build build -j"$(nproc)" --target kcb-train kcb-inspect kcb-restore)
here=$([ "$PWD" = "$root" ] && echo "" || echo "$root/")
run=${KCB_RUN_DIR:-${here}runs/fashion-mnist-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$run"
# the resume command repeats the extra arguments: the backup refuses another course
extra=$([ $# -eq 0 ] || printf ' %q' "$@")
echo "run directory: $run (if interrupted: KCB_RUN_DIR=$(printf '%q' "$run") bash $(printf '%q' "${here}scripts/train.sh")$extra)"
"$root/build/tools/kcb-train" \
  --logdir "$run/tensorboard" --histogram-freq 1 \
  --csv "$run/log.csv" \
  --checkpoint "$run/checkpoints/epoch{epoch:02d}-val_loss{val_loss:.4f}.keras" --save-best-only --save-top-k 3 \
  --backup-dir "$run/backup" \
  --save "$run/model.keras" \
  "$@"
echo "see it in TensorBoard: tensorboard --logdir $run/tensorboard; or: ${here}build/tools/kcb-inspect runs $run/tensorboard"
