#!/usr/bin/env bash
# Two kcb-inspect binaries on the same logs, taking turns: a change to the run reader (e.g. the
# exact integer scalars of issue 16) against the build before it. Writes a log directory with
# bench_inspect_gen (8 runs of per-batch float scalars and weight histograms), warms the page
# cache, then times `runs --jobs 1`, `runs` (default jobs), `scalars --tag batch_loss --format csv
# --jobs 1` (every point of one tag of every run, kept and printed) and `diff run0 run1 --jobs 1`
# (every tag's series of two runs), best of REPEAT rounds each, and prints new/base ratios.
# Usage: bench/bench_inspect_ab.sh BASE_KCB_INSPECT NEW_KCB_INSPECT [BUILD_DIR [SIZE_MB [REPEAT]]]
#        (defaults: build 512 7; keep a copy of the old binary: tools link libkcb statically)
set -eu
base=$1 new=$2 build=${3:-build} size=${4:-512} repeat=${5:-7}
dir=$(mktemp -d /tmp/kcb_bench_inspect_ab.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/bench/bench_inspect_gen" "$dir" "$size" >/dev/null
find "$dir" -name '*tfevents*' -type f -exec cat {} + >/dev/null
declare -A best
cmds=(runs1 runs scalars diff)
for _ in $(seq "$repeat"); do
  for bin in base new; do
    for c in "${cmds[@]}"; do
      case $c in
        runs1) args=(runs --jobs 1 "$dir") ;;
        runs) args=(runs "$dir") ;;
        scalars) args=(scalars "$dir" --tag batch_loss --format csv --jobs 1) ;;
        diff) args=(diff "$dir/run0" "$dir/run1" --jobs 1) ;;
      esac
      t0=$EPOCHREALTIME
      "${!bin}" "${args[@]}" >/dev/null
      t1=$EPOCHREALTIME
      k=$bin.$c
      best[$k]=$(awk -v a="$t0" -v z="$t1" -v b="${best[$k]:-}" 'BEGIN { t = z - a; if (b == "" || t < b) b = t; print b }')
    done
  done
done
echo "$(du -sm "$dir" | cut -f1) MB of logs, page cache warm, best of $repeat rounds"
for c in "${cmds[@]}"; do
  awk -v c="$c" -v o="${best[base.$c]}" -v n="${best[new.$c]}" \
    'BEGIN { printf "%-8s base %7.3f s   new %7.3f s   new/base %.3f\n", c, o, n, n / o }'
done
