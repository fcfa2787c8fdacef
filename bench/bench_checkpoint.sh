#!/usr/bin/env bash
# Checkpoint tools at scale, each against a baseline timed in the same run (best of REPEAT rounds,
# the commands taking turns so that a burst of other work slows a whole round, not one command):
#  1. `kcb-inspect checkpoint` of a ~SIZE_MB .weights.h5 (every variable read, its statistics
#     computed) against `cat FILE >/dev/null`, page cache warm;
#  2. ranking N checkpoints (`kcb-restore DIR`: structure, shapes and stored values, no weight data)
#     against `h5ls -r` over the same N files (HDF5's own listing of every object).
# Usage: bench/bench_checkpoint.sh [BUILD_DIR [SIZE_MB [N [REPEAT]]]]   (defaults: build 1024 1000 5)
set -eu
export NPROC="$(nproc) cores"
export KCB_MAX_PARAMS=2000000000 # the 1 GB checkpoint holds 268 million parameters
build=${1:-build}
size=${2:-1024}
n=${3:-1000}
repeat=${4:-5}
command -v h5ls >/dev/null || { echo "bench_checkpoint.sh: needs h5ls (apt-get install hdf5-tools)"; exit 2; }
dir=$(mktemp -d /tmp/kcb_bench_checkpoint.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/big" "$dir/many"
"$build/bench/bench_checkpoint_gen" big "$dir/big" "$size"
"$build/bench/bench_checkpoint_gen" many "$dir/many" "$n"
big=$dir/big/big.weights.h5
bytes=$(stat -c %s "$big")
cat "$big" >/dev/null
mapfile -t files < <(ls "$dir/many"/* | sort)
cmds=("cat ${big@Q}"
      "${build@Q}/tools/kcb-inspect checkpoint ${big@Q}"
      "h5ls -r ${files[*]@Q}"
      "${build@Q}/tools/kcb-restore ${dir@Q}/many")
best=("" "" "" "") cpu=("" "" "" "")
TIMEFORMAT='%R %U %S'
for _ in $(seq "$repeat"); do
  for i in "${!cmds[@]}"; do
    t=$( { time eval "${cmds[$i]}" >/dev/null 2>&1; } 2>&1 )
    read -r wall user sys <<<"$t"
    best[$i]=$(awk -v t="$wall" -v b="${best[$i]}" 'BEGIN { if (b == "" || t < b) b = t; print b }')
    cpu[$i]=$(awk -v t="$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" -v b="${cpu[$i]}" 'BEGIN { if (b == "" || t < b) b = t; print b }')
  done
done
# Wall time is what a user waits; CPU time (user + system) is what the work costs, and stays
# meaningful on a machine shared with other jobs.
awk -v n="$bytes" -v c="${best[0]}" -v i="${best[1]}" -v h="${best[2]}" -v r="${best[3]}" -v files="${#files[@]}" \
    -v cc="${cpu[0]}" -v ic="${cpu[1]}" -v hc="${cpu[2]}" -v rc="${cpu[3]}" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  mb = n / 1e6
  printf "checkpoint of %.0f MB, page cache warm, best of the runs (load average %s on %s)\n", mb, load, ENVIRON["NPROC"]
  printf "                           wall       CPU\n"
  printf "cat                        %7.3f s  %7.3f s\n", c, cc
  printf "kcb-inspect checkpoint     %7.3f s  %7.3f s  %.2fx cat wall, %.2fx cat CPU (target <= 2)\n", i, ic, i / c, ic / cc
  printf "%d checkpoints\n", files
  printf "h5ls -r                    %7.3f s  %7.3f s\n", h, hc
  printf "kcb-restore (rank)         %7.3f s  %7.3f s  %.2fx h5ls wall, %.2fx h5ls CPU (target <= 2)\n", r, rc, r / h, rc / hc
}'
