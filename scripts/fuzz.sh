#!/usr/bin/env bash
# Builds kcb's libFuzzer targets with clang (ASan + UBSan) and runs each for a fixed time.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#   KCB_FUZZ_SEED=N: libFuzzer's seed (default 0: a new one each run); CI fixes it so that its smoke
#   run is repeatable, long runs explore with fresh seeds.
#   KCB_FUZZ_RUNS=N bash scripts/fuzz.sh 0 TARGET...             (N executions per target, no time limit:
#   `KCB_FUZZ_RUNS=1000000 KCB_FUZZ_RSS_MB=10240 bash scripts/fuzz.sh 0 checkpoint_h5 keras_archive` is
#   issue 15's long run: over hundreds of thousands of inputs ASan's and libFuzzer's peak RSS grows
#   past the default 4 GiB limit (KCB_FUZZ_RSS_MB), which no single input comes near)
# Without targets, every target runs, the byte-level HDF5 ones (checkpoint_h5, keras_archive) too:
# kcb's guard (lib/io/h5_guard.c, h5_guard_dense.c) checks the HDF5 metadata libhdf5 1.10 would
# trust (datatypes, attributes, object headers, local and global heaps, link messages and dense
# storage: fractal heaps and v2 B-trees) before libhdf5 reads it (RELIABILITY.md). For a long run
# of those two: `bash scripts/fuzz.sh 3600 checkpoint_h5 keras_archive` (one process each; they
# run at about 250 and 1,000 executions/s on a shared 2-core machine).
# Each target starts from its seed corpus (tests/fuzz/corpus/<name>); new interesting inputs go to
# build-fuzz/corpus/<name>. A crash stops the run and leaves crash-* in build-fuzz/artifacts/: copy
# it to tests/fuzz/regressions/<name>/ and fix the bug; the replay test then keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
bash scripts/deps.sh
command -v clang >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)"; exit 2; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DKCB_FUZZ=ON -DKCB_WERROR=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKCB_BUILD_EXAMPLES=ON -DKCB_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in tests/fuzz/fuzz_*.c; do
    targets+=("$(basename "$t" .c | sed 's/^fuzz_//')")
  done
fi
mkdir -p build-fuzz/artifacts
total=0
for name in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$name"
  log="build-fuzz/artifacts/$name.log"
  # The HDF5 targets: libhdf5's free lists keep blocks from one input to the next, so its mallocs
  # and frees never match within an input and libFuzzer would run nearly every input twice with a
  # leak scan (half their time): leaks are looked for once, at exit (ASAN_OPTIONS detect_leaks=1).
  extra=()
  case "$name" in checkpoint_h5 | keras_archive) extra=(-detect_leaks=0) ;; esac
  # malloc_limit_mb: a parser must refuse absurd sizes before allocating them.
  start=$SECONDS
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp \
    "build-fuzz/tests/fuzz/fuzz_$name" -seed="${KCB_FUZZ_SEED:-0}" -max_total_time="$seconds" -runs="${KCB_FUZZ_RUNS:--1}" -malloc_limit_mb=2048 \
    -rss_limit_mb="${KCB_FUZZ_RSS_MB:-4096}" "${extra[@]}" \
    -artifact_prefix="build-fuzz/artifacts/$name-" "build-fuzz/corpus/$name" "tests/fuzz/corpus/$name" \
    >"$log" 2>&1 || { echo "fuzz.sh: $name FAILED — see $log"; tail -30 "$log"; exit 1; }
  runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  total=$((total + runs))
  echo "fuzz.sh: $name: $runs executions in $((SECONDS - start))s, no crash"
done
echo "fuzz.sh: ${#targets[@]} targets, $total executions, no crash"
