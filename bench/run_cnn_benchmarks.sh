#!/usr/bin/env bash
# Runs kcb's CNN benchmarks and the same CNN in PyTorch (Debian's python3-torch, not a CI
# dependency: apt-get install python3-torch), alternating them in the same run, and prints
# kcb's samples/s as a ratio to PyTorch's at 1 and 2 threads, and both peak RSS.
# Usage: bench/run_cnn_benchmarks.sh [BUILD_DIR]   (default: build)
# Environment: SAMPLES (8192), EPOCHS (1), ROUNDS (3: the best of each is kept, as the machine
# may be shared).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
samples=${SAMPLES:-8192} epochs=${EPOCHS:-1} rounds=${ROUNDS:-3}
"$build/bench/bench_cnn" layer
py=/usr/bin/python3
have_torch=1
"$py" -c 'import torch' 2>/dev/null || { have_torch=0; echo "PyTorch not installed (apt-get install python3-torch): no ratio"; }
best() { sed -n 's/.*samples_per_sec=\([0-9.]*\).*/\1/p' | sort -g | tail -n 1; }
rss() { sed -n 's/.*max_rss_kb=\([0-9]*\).*/\1/p' | sort -g | tail -n 1; }
for threads in 1 2; do
  k="" t=""
  for _ in $(seq "$rounds"); do
    k="$k$(OPENBLAS_NUM_THREADS=$threads "$build/bench/bench_cnn" fit "$threads" "$samples" "$epochs")"$'\n'
    if [ "$have_torch" = 1 ]; then
      # torch.set_num_threads does not bound OpenBLAS's own pool in Debian's build: pin both.
      t="$t$(OPENBLAS_NUM_THREADS=$threads "$py" "$here/torch_cnn.py" --threads "$threads" --samples "$samples" --epochs "$epochs")"$'\n'
    fi
  done
  printf '%s%s' "$k" "$t"
  kb=$(printf '%s' "$k" | best) kr=$(printf '%s' "$k" | rss)
  if [ "$have_torch" = 1 ]; then
    tb=$(printf '%s' "$t" | best) tr=$(printf '%s' "$t" | rss)
    awk -v k="$kb" -v t="$tb" -v kr="$kr" -v tr="$tr" -v n="$threads" 'BEGIN {
      printf "threads=%d kcb / PyTorch CNN samples/s (best of each): %.2fx; peak RSS kcb %.0f MB, PyTorch %.0f MB\n",
             n, k / t, kr / 1024, tr / 1024 }'
  fi
done
