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
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
