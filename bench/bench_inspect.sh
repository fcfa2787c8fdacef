#!/usr/bin/env bash
# kcb-inspect's speed on big logs: writes a ~1 GB log directory (bench_inspect_gen: 8 runs of
# per-batch scalars and weight histograms) in a temporary directory, warms the page cache, then
# times `cat` of the event files (the baseline: reading alone), `kcb-inspect validate` (framing and
# both CRCs of every record) and `kcb-inspect runs` (every record checked and its summary read),
# best of REPEAT rounds each (kcb-inspect with its default --jobs and with --jobs 1), and prints MB/s
# and the ratios to cat. The directory is removed after.
# The baseline is `cat FILES >/dev/null`: GNU cat (9.1 here) read()s 128 KiB at a time into one
# buffer and write()s it to /dev/null (strace shows no splice or copy_file_range), so every byte
# is copied from the page cache into user memory once, as kcb-inspect's read() does; cat then
# never looks at the bytes. The script prints cat's version; if a future cat copied in the
# kernel, the baseline would no longer be a read.
# Usage: bench/bench_inspect.sh [BUILD_DIR [SIZE_MB [REPEAT]]]   (defaults: build 1024 5)
set -eu
build=${1:-build}
size=${2:-1024}
repeat=${3:-5}
bin=$build/tools/kcb-inspect
dir=$(mktemp -d /tmp/kcb_bench_inspect.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/bench/bench_inspect_gen" "$dir" "$size"
mapfile -d '' files < <(find "$dir" -name '*tfevents*' -type f -print0 | sort -z)
bytes=$(cat "${files[@]}" | wc -c)
cat "${files[@]}" >/dev/null
cat "${files[@]}" >/dev/null

# The commands take turns (cat, validate, runs, ... then again) and each keeps its least wall
# time: on a shared machine a burst of other work then slows every command of a round, not all
# the runs of one command.
cmds=("cat ${files[*]@Q}"
      "${bin@Q} validate --quiet ${dir@Q}"
      "${bin@Q} runs ${dir@Q}"
      "${bin@Q} validate --quiet --jobs 1 ${dir@Q}"
      "${bin@Q} runs --jobs 1 ${dir@Q}")
best=("" "" "" "" "")
for _ in $(seq "$repeat"); do
  for i in "${!cmds[@]}"; do
    t0=$EPOCHREALTIME
    eval "${cmds[$i]}" >/dev/null
    t1=$EPOCHREALTIME
    best[$i]=$(awk -v a="$t0" -v z="$t1" -v b="${best[$i]}" 'BEGIN { t = z - a; if (b == "" || t < b) b = t; print b }')
  done
done
t_cat=${best[0]} t_val=${best[1]} t_runs=${best[2]} t_val1=${best[3]} t_runs1=${best[4]}
jobs=$(nproc)
[ "$jobs" -gt 8 ] && jobs=8
awk -v n="$bytes" -v c="$t_cat" -v v="$t_val" -v r="$t_runs" -v v1="$t_val1" -v r1="$t_runs1" -v j="$jobs" \
    -v files="${#files[@]}" -v catv="$(cat --version | head -1) >/dev/null" 'BEGIN {
  mb = n / 1e6
  printf "%d event files, %.0f MB, page cache warm, best of the runs; baseline: %s\n", files, mb, catv
  printf "cat                            %7.3f s  %7.0f MB/s\n", c, mb / c
  printf "kcb-inspect validate (jobs %d)  %7.3f s  %7.0f MB/s  %.2fx cat\n", j, v, mb / v, c / v
  printf "kcb-inspect validate (jobs 1)  %7.3f s  %7.0f MB/s  %.2fx cat\n", v1, mb / v1, c / v1
  printf "kcb-inspect runs (jobs %d)      %7.3f s  %7.0f MB/s  %.2fx cat\n", j, r, mb / r, c / r
  printf "kcb-inspect runs (jobs 1)      %7.3f s  %7.0f MB/s  %.2fx cat\n", r1, mb / r1, c / r1
}'
