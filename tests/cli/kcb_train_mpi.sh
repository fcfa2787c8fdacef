#!/usr/bin/env bash
# kcb-train under mpirun (2 and 3 processes) against one process: the same losses, weights and
# files, each file written once (by rank 0); a rank killed with SIGKILL mid-epoch ends the job within
# seconds and the same command run again resumes from the backup and ends as an uninterrupted run;
# a failure on rank 0 alone ends the job with its message; fewer samples than processes train;
# Ctrl-C to mpirun stops every rank and the rerun resumes; a stop in the final test pass skips it.
# Tolerance: float32 summation order (see tests/distributed/distributed_check.c): 1e-4 relative on
# logged values (CSV, TensorBoard, test_loss printed to 6 decimals), 2e-5 absolute on weights.
# Usage: tests/cli/kcb_train_mpi.sh BIN_DIR MPIEXEC   (ctest sets the OMPI_* variables CI needs)
set -u
bin=$1/kcb-train inspect=$1/kcb-inspect mpirun=$2
. "$(dirname "$0")/lib.sh"
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "skipped: no Fashion-MNIST in $data (dataset-fashion-mnist)"; exit 77; }
py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
# mpirun's own bound on a job, under ctest's: a hanging rank fails the case instead of CI.
mpi() { local np=$1; shift; timeout 240 "$mpirun" --oversubscribe --timeout 200 -np "$np" "$@"; }

# a rank exported by hand (or inherited from another MPI job) without mpirun: alone in its job, it
# is rank 0, which prints and writes (here, where Open MPI's leaks are suppressed under ASan)
check env_rank_alone_is_rank0 0 "^  CSV log +$tmp/envrank\.csv\$" -- env OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=2 \
  timeout 120 "$bin" --train-limit 500 --model flatten,16:relu,10:softmax --epochs 1 --verbose 1 --csv "$tmp/envrank.csv"
# find_ranks JOB: for a job started in the background as `timeout ... mpirun ...`, sets mpirun_pid
# and victim, the pid of its last kcb-train rank (empty when the job has ended)
find_ranks() {
  mpirun_pid=$(ps -o pid= --ppid "$1" | head -1 | tr -d ' ')
  victim=$(ps -o pid=,comm= --ppid "${mpirun_pid:-0}" | awk '$2 == "kcb-train" {p = $1} END {print p}')
}
# start_until_backup DIR ARGS...: `mpirun -np 2 kcb-train ARGS --backup-dir DIR/bk` in the
# background, its output in DIR/log, until its first backup is written (or the job ends); sets job
# (timeout, whose child is mpirun, whose children are the ranks), then find_ranks's variables
start_until_backup() {
  local dir=$1; shift
  timeout 240 "$mpirun" --oversubscribe --timeout 200 -np 2 "$bin" "$@" --backup-dir "$dir/bk" >"$dir/log" 2>&1 &
  job=$!
  for _ in $(seq 1800); do [ -f "$dir/bk/latest.weights.h5" ] && break; sleep 0.1; done
  find_ranks "$job"
}

args=(--train-limit 1500 --model flatten,32:relu,10:softmax --epochs 3 --batch-size 64 --seed 5 --verbose 1)
files() { # DIR: the files a run wrote, event files by directory (their names hold a pid and a time)
  (cd "$1" && find . -type f | sed -E 's/events\.out\.tfevents\..*/events.out.tfevents.*/' | sort)
}
for np in 1 2 3; do
  d=$tmp/np$np
  mkdir -p "$d"
  run=("$bin" "${args[@]}" --csv "$d/log.csv" --logdir "$d/tb" --histogram-freq 1 --pr-curves --checkpoint "$d/ck/e{epoch:02d}.weights.h5"
       --backup-dir "$d/bk" --save "$d/m.weights.h5")
  if [ "$np" = 1 ]; then check "one_process" 0 '^test_loss=' -- "${run[@]}"
  else check "np${np}_trains" 0 '^test_loss=' -- mpi "$np" "${run[@]}"; fi
  grep -E '^test_loss=' "$out" >"$d/result"
  grep -c 'Epoch 3/3' "$out" >"$d/epochs_printed"
done
# a profile of a distributed step shows its exchanges, not a gap between backward and optimizer
check np2_profile_exchanges 0 '^gradient allreduce metrics allreduce$' -- sh -c "mpi() { timeout 240 '$mpirun' --oversubscribe \
  --timeout 200 -np \"\$@\"; }; mpi 2 '$bin' ${args[*]} --logdir '$tmp/prof' --profile-batch 2,3 >/dev/null 2>&1 && \
  zcat '$tmp'/prof/train/plugins/profile/*/*.trace.json.gz | $py -c '
import json, sys
names = {e.get(\"name\") for e in json.load(sys.stdin)[\"traceEvents\"]}
print(\" \".join(n for n in (\"gradient allreduce\", \"metrics allreduce\") if n in names))'"
for np in 2 3; do
  d=$tmp/np$np
  assert "np${np}_prints_once" test "$(wc -l <"$d/result")" = 1 -a "$(cat "$d/epochs_printed")" = 1
  assert "np${np}_same_test_loss" $py -c "
import sys
a = dict(kv.split('=') for kv in open('$tmp/np1/result').read().split())
b = dict(kv.split('=') for kv in open('$d/result').read().split())
assert a.keys() == b.keys(), (a, b)
for k in a: assert abs(float(a[k]) - float(b[k])) <= 1e-4 * max(1, abs(float(a[k]))), (k, a[k], b[k])"
  assert "np${np}_same_files_once" diff <(files "$tmp/np1") <(files "$d")
  # PR curves from the whole validation set (each batch gathered from every rank), not rank 0's share
  assert "np${np}_same_pr_curves" $py -c "
import json, subprocess
def curves(d):
    runs = json.loads(subprocess.run(['$inspect', 'plugins', d, '--json'], check=True, capture_output=True,
                                     text=True).stdout)['runs']
    return {c['tag']: c for r in runs if r['run'] == 'validation' for c in r['pr_curves']}
a, b = curves('$tmp/np1/tb'), curves('$d/tb')
assert len(a) == 10 and a.keys() == b.keys(), (a.keys(), b.keys())
for t in a:
    assert a[t]['points'] == b[t]['points'] == 3, (a[t], b[t])
    assert abs(a[t]['auc'] - b[t]['auc']) <= 1e-3, (t, a[t], b[t])"
  assert "np${np}_csv_rows" $py -c "
import csv
a = list(csv.reader(open('$tmp/np1/log.csv'))); b = list(csv.reader(open('$d/log.csv')))
assert a[0] == b[0] and len(a) == len(b) == 4, (a, b)
for ra, rb in zip(a[1:], b[1:]):
    assert ra[0] == rb[0]
    for x, y in zip(ra[1:], rb[1:]): assert abs(float(x) - float(y)) <= 1e-4 * max(1, abs(float(x))), (ra, rb)"
  for tag in epoch_loss epoch_accuracy; do
    assert "np${np}_tensorboard_$tag" $py -c "
import json, subprocess
def series(d):
    return json.loads(subprocess.run(['$inspect', 'scalars', d, '--tag', '$tag', '--json'], check=True,
                                     capture_output=True, text=True).stdout)['runs']
a, b = series('$tmp/np1/tb'), series('$d/tb')
assert a.keys() == b.keys() == {'train', 'validation'}, (a.keys(), b.keys())
for run in a:
    assert [s[0] for s in a[run]] == [s[0] for s in b[run]] == [0, 1, 2], (a[run], b[run])  # no step twice
    for x, y in zip(a[run], b[run]): assert abs(x[2] - y[2]) <= 1e-4 * max(1, abs(x[2])), (run, x, y)"
  done
  assert "np${np}_same_weights" $py -c "
import h5py, numpy as np
def weights(p):
    out = []
    with h5py.File(p) as f:
        f.visititems(lambda n, o: out.append((n, o[()])) if isinstance(o, h5py.Dataset) and o.dtype.kind == 'f' else None)
    return out
for f in ['m.weights.h5', 'ck/e01.weights.h5', 'ck/e02.weights.h5', 'ck/e03.weights.h5']:  # --save, ModelCheckpoint
    a, b = weights('$tmp/np1/' + f), weights('$d/' + f)
    assert [n for n, _ in a] == [n for n, _ in b] and len(a) > 0, f
    for (n, x), (_, y) in zip(a, b): assert np.max(np.abs(x.astype(np.float64) - y), initial=0) <= 2e-5, (f, n)"
done

# The warm-up schedule reaches lr x processes: 0.001, 0.0015, 0.002 with 2 processes over 2 epochs.
d=$tmp/warmup
mkdir -p "$d"
check warmup_schedule 0 '^test_loss=' -- mpi 2 "$bin" "${args[@]}" --verbose 0 --lr 0.001 --lr-schedule warmup \
  --lr-warmup-epochs 2 --csv "$d/log.csv"
assert warmup_rates $py -c "
import csv
rows = list(csv.DictReader(open('$d/log.csv')))
assert [round(float(r['learning_rate']), 7) for r in rows] == [0.001, 0.0015, 0.002], rows"

# Fewer samples than processes, a batch of 2 over 3: a rank with no sample still takes part.
check fewer_samples_than_ranks 0 '^test_loss=' -- mpi 3 "$bin" --train-limit 2 --validation-split 0 --batch-size 2 \
  --epochs 2 --model flatten,8:relu,10:softmax --verbose 0

# A file rank 0 alone cannot write: its message, and the whole job ends (MPI_Abort), no hang.
start=$(date +%s)
touch "$tmp/notadir"
check rank0_write_error 1 'kcb-train \(rank 0 of 2\): CSVLogger: .*notadir exists and is not a directory' -- \
  mpi 2 "$bin" "${args[@]}" --verbose 0 --csv "$tmp/notadir/log.csv"
assert rank0_write_error_quick test $(($(date +%s) - start)) -lt 30

# SIGKILL one rank mid-epoch: the job ends within seconds with a message naming the signal; the
# same command again resumes from rank 0's backup and ends with an uninterrupted run's weights.
# (with dropout: every rank's masks come back from rank 0's backup too)
kargs=(--train-limit 8000 --epochs 3 --batch-size 32 --seed 9 --verbose 0 --validation-split 0.1
       --model flatten,64:relu,dropout:0.3,10:softmax)
ref=$tmp/ref k=$tmp/kill
mkdir -p "$ref" "$k"
check uninterrupted 0 '^test_loss=' -- mpi 2 "$bin" "${kargs[@]}" --save "$ref/m.weights.h5"
grep -E '^test_loss=' "$out" >"$ref/result"
kill_run=(mpi 2 "$bin" "${kargs[@]}" --backup-dir "$k/bk" --backup-freq 25 --save "$k/m.weights.h5")
start_until_backup "$k" "${kargs[@]}" --backup-freq 25 --save "$k/m.weights.h5"
if [ -f "$k/bk/latest.weights.h5" ] && [ -n "$victim" ]; then
  killed_at=$(date +%s.%N)
  kill -KILL "$victim"
  wait "$job"
  status=$?
  took=$(echo "$(date +%s.%N) - $killed_at" | bc)
  echo "     (job ended ${took}s after the SIGKILL, exit $status; mpirun said:)"
  grep -E 'signal|rank' "$k/log" | head -3 | sed 's/^/     | /'
  assert kill_ends_job test "$status" -ne 0 -a "$status" -ne 124
  assert kill_ends_job_quickly test "$(echo "$took < 10" | bc)" = 1
  assert kill_message grep -Eq 'exited on signal 9' "$k/log"
  assert kill_left_backup test -f "$k/bk/latest.weights.h5"
  check kill_rerun_resumes 0 '^test_loss=' -- "${kill_run[@]}"
  grep -E '^test_loss=' "$out" >"$k/result"
  assert kill_rerun_same_result diff "$k/result" "$ref/result"
  assert kill_rerun_same_weights $py -c "
import h5py, numpy as np
def weights(p):
    out = []
    with h5py.File(p) as f:
        f.visititems(lambda n, o: out.append(o[()]) if isinstance(o, h5py.Dataset) and o.dtype.kind == 'f' else None)
    return out
for x, y in zip(weights('$ref/m.weights.h5'), weights('$k/m.weights.h5')):
    assert np.array_equal(x, y)"
  assert kill_backup_removed test ! -e "$k/bk/latest.weights.h5"
else
  wait "$job"
  echo "FAIL kill: the run ended before its first backup, or no rank was found"; failed=$((failed + 1))
fi

# usage errors: the same one on every rank is said once (by rank 0); one on rank 1 alone is said too
# Open MPI gives each rank a pseudo-terminal even when mpirun writes to a file: the progress goes
# as plain lines (no carriage returns, no colours), as into any file
check plain_progress_under_mpirun 0 '^0 2$' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 2 '$bin' \
  --train-limit 600 --epochs 2 --model flatten,16:relu,10:softmax --verbose 1 >'$tmp/plain.log' 2>&1;
  echo \$(tr -cd '\r\033' <'$tmp/plain.log' | wc -c) \$(grep -c '^9/9 ' '$tmp/plain.log')"
check usage_error_once 0 '^1$' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 3 '$bin' --epoch 3 2>&1 |
  grep -c \"unknown option '--epoch'\""
# ... and every rank ends by itself, without MPI_Abort's banner and Open MPI's internal errors
check usage_error_no_abort 0 '^0$' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 3 '$bin' --epoch 3 2>&1 |
  grep -c 'MPI_ABORT\|ORTE_ERROR_LOG' || true"
check usage_error_rank1_alone 2 "^kcb-train \\(rank 1 of 2\\): unknown option '--bogus'" -- sh -c "timeout 120 '$mpirun' --oversubscribe \
  --timeout 100 -np 1 '$bin' --train-limit 300 --epochs 1 --verbose 0 : -np 1 '$bin' --train-limit 300 --epochs 1 --bogus 2>&1"
# --version (or --help) on one rank alone: that rank would leave while the others wait for it
check version_rank1_alone 2 "^kcb-train: the processes were given different command lines \\(a usage error, --help or --version on some ranks only\\)" -- sh -c "timeout 120 '$mpirun' --oversubscribe \
  --timeout 100 -np 1 '$bin' --train-limit 300 --epochs 1 --verbose 0 : -np 1 '$bin' --train-limit 300 --epochs 1 --version 2>&1"
# an optimizer setting given on one rank as Keras's default is the same setting
check default_given_rank0_alone 0 "^test_loss=" -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 1 '$bin' \
  --train-limit 300 --epochs 1 --verbose 0 --beta-1 0.9 --epsilon 1e-7 : -np 1 '$bin' --train-limit 300 --epochs 1 --verbose 0 2>&1"
check model_error_rank1_alone 2 "the processes were given different --model \\(rank 0: flatten,256:relu" -- sh -c "timeout 120 '$mpirun' --oversubscribe \
  --timeout 100 -np 1 '$bin' --train-limit 300 --epochs 1 --verbose 0 : -np 1 '$bin' --train-limit 300 --epochs 1 \
  --model 'flatten,conv:2:3,10:softmax' 2>&1"

# a failure every rank meets in its set-up is said once, by rank 0, and the job ends without
# MPI_Abort's noise (no ORTE error log)
check setup_error_once 0 '^1 0$' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 2 '$bin' \
  --train-limit 300 --epochs 1 --verbose 0 --initial-weights /nonexistent.h5 >'$tmp/setup.log' 2>&1;
  echo \$(grep -c 'nonexistent.h5: No such file' '$tmp/setup.log') \$(grep -c 'ORTE_ERROR_LOG\|MPI_ABORT' '$tmp/setup.log')"

# Ranks that see different --backup-dir states (node-local directories): rank 0's decides for the
# job, which neither hangs nor half-starts. Here rank 1's directory holds a completed run.
b=$tmp/bstate
small=(--train-limit 300 --epochs 1 --batch-size 64 --verbose 0)
check bstate_completed_made 0 '^test_loss=' -- "$bin" "${small[@]}" --backup-dir "$b/done"
check bstate_rank0_fresh_trains 0 '^test_loss=' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 \
  -np 1 '$bin' ${small[*]} --backup-dir '$b/fresh' : -np 1 '$bin' ${small[*]} --backup-dir '$b/done' 2>&1"
check bstate_rank0_completed_says_so 0 'nothing to resume' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 \
  -np 1 '$bin' ${small[*]} --backup-dir '$b/done' : -np 1 '$bin' ${small[*]} --backup-dir '$b/fresh2' 2>&1"
assert bstate_rank1_dir_untouched test ! -e "$b/fresh2"

# Ranks given different training options (here by mpirun's MPMD form): refused at the start, naming
# the option, instead of one rank's early stopping ending everyone's run unannounced; the same
# value spelt another way (--lr given as Adam's default, any option given as its default) agrees
check ranks_other_option 0 '^1 0$' -- sh -c "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 1 '$bin' ${small[*]} : \
  -np 1 '$bin' ${small[*]} --early-stopping 1 >'$tmp/ranks.log' 2>&1; echo \$? >'$tmp/ranks.rc';
  echo \$(grep -c 'the processes were given different --early-stopping (rank 0: not given)' '$tmp/ranks.log') \
    \$(grep -c 'ORTE_ERROR_LOG\|MPI_ABORT' '$tmp/ranks.log')"
assert ranks_other_option_exit_2 grep -qx 2 "$tmp/ranks.rc"
# --backup-dir on one rank only: its path is rank 0's, but whether there is one sets the steps the
# ranks take together before training; refused at once (it hung before)
check ranks_backup_dir_one_rank 2 'the processes were given different --backup-dir \(rank 0: given\)' -- sh -c \
  "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 1 '$bin' ${small[*]} --backup-dir '$tmp/one_bk' : \
  -np 1 '$bin' ${small[*]} 2>&1"
check ranks_same_option_spelt_otherwise 0 '^test_loss=' -- sh -c \
  "timeout 120 '$mpirun' --oversubscribe --timeout 100 -np 1 '$bin' ${small[*]} --reduce-lr-on-plateau --lr-schedule warmup : \
  -np 1 '$bin' ${small[*]} --lr 0.001 --optimizer Adam --monitor val_loss --mode auto --reduce-lr-on-plateau --factor 0.1 \
  --lr-patience 10 --lr-schedule warmup --lr-warmup-epochs 5 2>&1"

# SIGTERM to rank 1 alone: every rank stops after the same batch, rank 0 reports SIGTERM (not its own
# missing signal) with the mpirun command that resumes, and the job ends with 143
t=$tmp/term
mkdir -p "$t"
start_until_backup "$t" "${kargs[@]}" --lr-schedule warmup --backup-freq 25
if [ -f "$t/bk/latest.weights.h5" ] && [ -n "$victim" ]; then
  kill -TERM "$victim"
  wait "$job"
  status=$?
  assert term_exit_143 test "$status" = 143
  assert term_reported_once test "$(grep -c 'stopped by SIGTERM' "$t/log")" = 1
  assert term_resume_command grep -q '^  mpirun -np 2 \[your mpirun options\] .*kcb-train' "$t/log"
  # the warm-up's target rate is the rate times the processes: one process cannot resume it
  check term_resume_other_process_count_refused 2 'mpirun -np 1 \(the backed-up run: 2\)' -- "$bin" "${kargs[@]}" \
    --lr-schedule warmup --backup-dir "$t/bk" --backup-freq 25
else
  wait "$job"
  echo "FAIL term: the run ended before its first backup, or no rank was found"; failed=$((failed + 1))
fi
# Ctrl-C at the terminal reaches mpirun alone (each rank has its own process group); Open MPI sends
# the ranks SIGTERM: they stop after the same batch, keep the backup and say so once, and the same
# command again ends as the uninterrupted run did
# (a run of several seconds: mpirun takes a moment to pass the signal on)
c=$tmp/ctrlc
mkdir -p "$c"
cargs=(--train-limit 15000 --epochs 5 --batch-size 16 --seed 4 --verbose 0 --model flatten,256:relu,10:softmax)
check ctrl_c_mpirun_reference 0 '^test_loss=' -- mpi 2 "$bin" "${cargs[@]}"
grep -E '^test_loss=' "$out" >"$c/ref_result"
start_until_backup "$c" "${cargs[@]}" --backup-freq 200
if [ -f "$c/bk/latest.weights.h5" ] && [ -n "$mpirun_pid" ]; then
  kill -INT "$mpirun_pid"
  wait "$job"
  status=$?
  assert ctrl_c_mpirun_ends_job test "$status" -ne 0 -a "$status" -ne 124
  assert ctrl_c_mpirun_said_once test "$(grep -c 'stopped by SIGTERM' "$c/log")" = 1
  assert ctrl_c_mpirun_says_sigterm grep -q 'SIGTERM received: stopping after this batch' "$c/log"
  assert ctrl_c_mpirun_kept_backup grep -q 'bk (kept: resume from it)' "$c/log"
  check ctrl_c_mpirun_rerun_resumes 0 'Resuming from .*bk/latest\.weights\.h5' -- mpi 2 "$bin" "${cargs[@]}" \
    --backup-dir "$c/bk" --backup-freq 200 --verbose 1
  grep -E '^test_loss=' "$out" >"$c/result"
  assert ctrl_c_mpirun_same_result diff "$c/result" "$c/ref_result"
else
  wait "$job"
  echo "FAIL ctrl_c_mpirun: the run ended before its first backup, or mpirun was not found"; failed=$((failed + 1))
fi

# a stop during the final test pass (epochs 0: a slow conv model's evaluation of the test set comes
# right after the summary) reaching one rank: every rank skips the test metrics, rank 0 says so once
# and lists the files the finished training wrote
e=$tmp/final
mkdir -p "$e"
timeout 240 "$mpirun" --oversubscribe --timeout 200 -np 2 "$bin" --epochs 0 --save "$e/ev.keras" \
  --model 28x28x1,conv:64:3:relu,conv:128:3:relu,flatten,10:softmax >"$e/log" 2>&1 &
job=$!
# --save's file is written as fit ends (on_train_end), right before the test pass, which takes
# seconds a rank: half a second after the file appears, the pass runs, however slow the machine
for _ in $(seq 1800); do [ -e "$e/ev.keras" ] && break; sleep 0.1; done
sleep 0.5
find_ranks "$job"
if [ -n "$victim" ]; then
  kill -TERM "$victim"
  wait "$job"
  status=$?
  assert final_stop_exit_143 test "$status" = 143
  assert final_stop_said_once test "$(grep -c 'stopped by SIGTERM' "$e/log")" = 1
  assert final_stop_in_test_pass grep -q 'stopped by SIGTERM during the final evaluation on the test set' "$e/log"
  assert final_stop_files_listed_once test "$(grep -c "model        $e/ev.keras" "$e/log")" = 1
  assert final_stop_no_test_metrics test "$(grep -c '^test_loss=' "$e/log")" = 0
  assert final_stop_model_saved test -s "$e/ev.keras"
else
  wait "$job"
  echo "FAIL final_stop: no rank was found"; failed=$((failed + 1))
fi

finish kcb_train_mpi
