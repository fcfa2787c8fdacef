#!/usr/bin/env bash
# Runs kcb's training benchmark and the same MLP in PyTorch (Debian's python3-torch), on the same
# machine in the same run, and prints kcb's samples/s as a ratio to PyTorch's.
# Usage: bench/run_benchmarks.sh [BUILD_DIR]   (default: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
epochs=${EPOCHS:-2}
out=$("$build/bench/bench_train" "$epochs")
echo "$out"
kcb1=$(echo "$out" | awk '/threads=1 optimizer=adam/ {split($4, a, "="); print a[2]}')
kcb2=$(echo "$out" | awk '/threads=2 optimizer=adam/ {split($4, a, "="); print a[2]}')
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "PyTorch not installed (apt-get install python3-torch): no ratio"
  exit 0
fi
# torch.set_num_threads does not bound OpenBLAS's own pool in Debian's build: pin both.
t1=$(OPENBLAS_NUM_THREADS=1 "$py" "$here/torch_mlp.py" --threads 1 --epochs "$epochs" | tail -n 1)
t2=$(OPENBLAS_NUM_THREADS=2 "$py" "$here/torch_mlp.py" --threads 2 --epochs "$epochs" | tail -n 1)
echo "$t1"
echo "$t2"
p1=$(echo "$t1" | sed -n 's/.*samples_per_sec=\([0-9.]*\).*/\1/p')
p2=$(echo "$t2" | sed -n 's/.*samples_per_sec=\([0-9.]*\).*/\1/p')
awk -v k1="$kcb1" -v k2="$kcb2" -v p1="$p1" -v p2="$p2" 'BEGIN {
  printf "kcb / PyTorch, Adam MLP samples/s: 1 thread %.2fx, 2 threads %.2fx\n", k1 / p1, k2 / p2 }'
