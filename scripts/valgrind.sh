#!/usr/bin/env bash
# Runs every unit-test and fuzz-replay executable of the plain build under valgrind memcheck:
# any error or leak (definite or indirect) fails the run.   bash scripts/valgrind.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
supp=$PWD/tests/valgrind.supp
command -v valgrind >/dev/null || { echo "valgrind.sh: needs valgrind (apt-get install valgrind)"; exit 2; }
[ -d "$build/tests" ] || { echo "valgrind.sh: build $build first (bash scripts/test.sh)"; exit 2; }
failed=0 passed=0
# OpenBLAS's own threads keep buffers for the process's life: one thread keeps the report ours.
export OPENBLAS_NUM_THREADS=1
for exe in "$build"/tests/test_* "$build"/tests/fuzz/replay_*; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name=$(basename "$exe")
  args=()
  case "$name" in replay_*) args=(tests/fuzz/corpus/"${name#replay_}" tests/fuzz/regressions/"${name#replay_}");; esac
  log="$build/valgrind-$name.log"
  if (cd "$(dirname "$exe")" && valgrind -q --suppressions="$supp" --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 "./$name" "${args[@]/#/$PWD/}") >"$log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "valgrind.sh: $name FAILED (see $log)"
    tail -20 "$log"
  fi
done
# The tools, end to end, on a small run that writes every kind of file.
tools=$build/tools
vg() { # NAME COMMAND...: one tool run under memcheck
  local name=$1 log="$build/valgrind-tool-$1.log"
  shift
  if valgrind -q --suppressions="$supp" --leak-check=full --errors-for-leak-kinds=definite,indirect \
       --error-exitcode=99 "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "valgrind.sh: $name FAILED (see $log)"
    tail -20 "$log"
  fi
}
if [ -x "$tools/kcb-train" ] && [ -d /usr/share/datasets/fashion-mnist ]; then
  run=$(mktemp -d)
  vg kcb-train "$tools/kcb-train" --train-limit 300 --model flatten,8:relu,10:softmax --epochs 2 --verbose 1 \
    --logdir "$run/tb" --histogram-freq 1 --write-images --hparams --csv "$run/log.csv" \
    --checkpoint "$run/ck/e{epoch:02d}-{val_loss:.3f}.keras" --save-top-k 2 --backup-dir "$run/bk" --save "$run/m.h5"
  vg kcb-train-resume "$tools/kcb-train" --train-limit 300 --model flatten,8:relu,10:softmax --epochs 3 --verbose 0 \
    --initial-weights "$run/m.h5" --reduce-lr-on-plateau --early-stopping 1 --restore-best-weights --lr-schedule warmup
  vg kcb-inspect-runs "$tools/kcb-inspect" runs "$run/tb"
  vg kcb-inspect-validate "$tools/kcb-inspect" validate "$run/tb"
  vg kcb-inspect-plot "$tools/kcb-inspect" plot "$run/tb" --tag epoch_loss -o "$run/loss.png"
  vg kcb-inspect-checkpoint "$tools/kcb-inspect" checkpoint "$run/m.h5"
  vg kcb-inspect-csv "$tools/kcb-inspect" csv "$run/log.csv"
  vg kcb-restore "$tools/kcb-restore" "$run/ck" --monitor val_loss --output "$run/best.weights.h5"
  rm -rf "$run"
fi
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
