#!/usr/bin/env bash
# Near-linear work on large crafted inputs (issue 15 #2): each input shape is timed at a size and
# at 10x that size in the same run (the small size is the baseline), and the ratio must stay
# under BOUND (default 20; linear work gives ~10, quadratic ~100). Inputs come from
# tests/cli/hostile_make.py: an hparams experiment declaring H hyperparameters and M metrics with
# 2 sessions, a .weights.h5 with G empty groups under layers/, event files of many PR-curve tags
# and a custom-scalars chart of many tags.
# Usage: bench/bench_hostile.sh [BUILD_DIR [BOUND]]   (exit 1 when a ratio exceeds BOUND)
set -eu
build=${1:-build}
bound=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
make() { /usr/bin/python3 "$here/../tests/cli/hostile_make.py" "$@"; }
dir=$(mktemp -d /tmp/kcb_bench_hostile.XXXXXX)
trap 'rm -rf "$dir"' EXIT
inspect=$build/tools/kcb-inspect
best() { # best wall time of 3 runs of a command, in seconds
  local b=""
  for _ in 1 2 3; do
    local t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    local t1=$EPOCHREALTIME
    b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { t = z - a; if (b == "" || t < b) b = t; print b }')
  done
  echo "$b"
}
make big_hparams "$dir/hp_small" 10000 1000 2
make big_hparams "$dir/hp_big" 100000 10000 2
make empty_groups "$dir/g_small.weights.h5" 2000
make empty_groups "$dir/g_big.weights.h5" 20000
mkdir -p "$dir/pr_small" "$dir/pr_big" "$dir/cs_small" "$dir/cs_big"
make pr_tags "$dir/pr_small/events.out.tfevents.1.pr" 4000
make pr_tags "$dir/pr_big/events.out.tfevents.1.pr" 40000
make custom_scalars "$dir/cs_small/events.out.tfevents.1.cs" 10000
make custom_scalars "$dir/cs_big/events.out.tfevents.1.cs" 100000
fail=0
row() { # name, small time, big time
  local r
  r=$(awk -v s="$2" -v b="$3" 'BEGIN { printf "%.1f", b / s }')
  printf '%-58s %8.3f s %8.3f s %6sx  (bound %sx)\n' "$1" "$2" "$3" "$r" "$bound"
  awk -v r="$r" -v b="$bound" 'BEGIN { exit !(r > b) }' && fail=1 || true
}
printf '%-58s %10s %10s %7s\n' "input (small -> 10x)" small 10x ratio
row "kcb-inspect hparams: 10k/1k -> 100k/10k hparams/metrics" "$(best "$inspect" hparams "$dir/hp_small")" "$(best "$inspect" hparams "$dir/hp_big")"
row "kcb-inspect hparams --json: the same" "$(best "$inspect" hparams --json "$dir/hp_small")" "$(best "$inspect" hparams --json "$dir/hp_big")"
row "kcb-inspect runs: the same logs" "$(best "$inspect" runs "$dir/hp_small")" "$(best "$inspect" runs "$dir/hp_big")"
row "kcb-inspect checkpoint: 2,000 -> 20,000 empty groups" "$(best "$inspect" checkpoint "$dir/g_small.weights.h5")" "$(best "$inspect" checkpoint "$dir/g_big.weights.h5")"
row "kcb-restore: the same files" "$(best "$build/tools/kcb-restore" "$dir/g_small.weights.h5")" "$(best "$build/tools/kcb-restore" "$dir/g_big.weights.h5")"
row "kcb-inspect plugins: 4,000 -> 40,000 PR-curve tags" "$(best "$inspect" plugins "$dir/pr_small")" "$(best "$inspect" plugins "$dir/pr_big")"
row "kcb-inspect plugins: a chart of 10,000 -> 100,000 tags" "$(best "$inspect" plugins "$dir/cs_small")" "$(best "$inspect" plugins "$dir/cs_big")"
exit $fail
