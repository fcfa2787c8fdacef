#!/usr/bin/env bash
# Fault injection: writes that fail with ENOSPC or EIO (an LD_PRELOAD library, tests/fault/kcb_fault.c),
# failing fsync and rename, a read-only directory and a really full disk (a 1 MiB tmpfs, when this runs
# as root). Each must give a clear error naming the file, and leave every earlier file as it was.
# Usage: tests/cli/fault_injection.sh BIN_DIR FAULT_LIB [MPIEXEC]
set -u
. "$(dirname "$0")/lib.sh"
bin=$1/kcb-train
fault=$2
mpiexec=${3:-}
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
  echo "SKIP: the Fashion-MNIST data set is not installed"; exit 77
fi
cleanup() { rm -f "$out"; mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"; mountpoint -q "$tmp/ro" 2>/dev/null && umount "$tmp/ro"; rm -rf "$tmp"; }
trap cleanup EXIT
small="--train-limit 500 --model flatten,16:relu,10:softmax --epochs 2 --verbose 0 --seed 1"
inject() { env KCB_FAULT_MATCH="$1" KCB_FAULT_ERRNO="${2:-ENOSPC}" KCB_FAULT_AFTER="${3:-0}" KCB_FAULT_OPS="${4:-write}" \
  LD_PRELOAD="$fault" "${@:5}"; }

# --save failing after the last epoch's backup (the disk full at the very end): the backup stays,
# and the same command, run again once there is room, finishes the run without training more
check save_fails_after_last_backup 1 "cannot save: writing: No space left on device" -- \
  inject final.weights.h5 ENOSPC 0 write "$bin" $small --backup-dir "$tmp/lastbk" --save "$tmp/final.weights.h5"
check last_backup_finishes 0 "^Resuming from $tmp/lastbk/latest\.weights\.h5: all 2 epochs were trained; finishing the run" -- \
  "$bin" $small --verbose 1 --backup-dir "$tmp/lastbk" --save "$tmp/final.weights.h5"
"$bin" $small --save "$tmp/uninterrupted.weights.h5" >/dev/null 2>&1
check last_backup_same_model 0 "every variable identical" -- "$(dirname "$bin")/kcb-inspect" diff "$tmp/final.weights.h5" "$tmp/uninterrupted.weights.h5"

# A log two runs share (--csv-append): run B, stopped in its first epoch after a mid-epoch backup
# (its first row failing to be written), resumes; the rows before B's (run A's epochs 0 and 1, the
# epochs B trains again) are A's and stay, B's own row follows them once
"$bin" $small --csv "$tmp/shared.csv" >/dev/null 2>&1 || { echo "FAIL setup shared.csv"; exit 1; }
cp "$tmp/shared.csv" "$tmp/shared_a.csv"
check shared_log_b_stops 1 "shared\.csv" -- inject shared.csv ENOSPC 0 write "$bin" $small --epochs 1 --batch-size 8 \
  --csv "$tmp/shared.csv" --csv-append --backup-dir "$tmp/sharedbk" --backup-freq 20
check shared_log_b_resumes 0 "^test_loss=" -- "$bin" $small --epochs 1 --batch-size 8 --csv "$tmp/shared.csv" --csv-append \
  --backup-dir "$tmp/sharedbk" --backup-freq 20
assert shared_log_a_rows_kept sh -c "head -3 '$tmp/shared.csv' | cmp -s - '$tmp/shared_a.csv' && [ \$(wc -l < '$tmp/shared.csv') -eq 4 ] \
  && tail -1 '$tmp/shared.csv' | grep -q '^0,'"

# Run B's own row written after its last backup (the next backup failing: it stops in epoch 2) is
# its own and goes when it resumes, whatever the path spelling; the row a run D appended after it
# meanwhile stays: A's two rows, D's, then B's epochs 0 and 1 once each
"$bin" $small --epochs 1 --save "$tmp/size.weights.h5" >/dev/null 2>&1
budget=$(( $(stat -c %s "$tmp/size.weights.h5") * 5 / 2 )) # two backups' bytes and half a third
cp "$tmp/shared_a.csv" "$tmp/shared2.csv"
check shared_log_b2_stops 1 "latest\.weights\.h5" -- inject latest.weights.h5 ENOSPC "$budget" write "$bin" $small --batch-size 8 \
  --csv "$tmp/shared2.csv" --csv-append --backup-dir "$tmp/sharedbk2" --backup-freq 20
assert shared_log_b2_row_written test "$(wc -l < "$tmp/shared2.csv")" -eq 4
"$bin" $small --epochs 1 --csv "$tmp/shared2.csv" --csv-append >/dev/null 2>&1 # run D
check shared_log_b2_resumes 0 "^test_loss=" -- sh -c "cd '$tmp' && '$bin' $small --batch-size 8 --csv ./shared2.csv --csv-append \
  --backup-dir '$tmp/sharedbk2' --backup-freq 20"
assert shared_log_b2_rows sh -c "head -3 '$tmp/shared2.csv' | cmp -s - '$tmp/shared_a.csv' && [ \$(wc -l < '$tmp/shared2.csv') -eq 6 ] \
  && [ \"\$(tail -n 3 '$tmp/shared2.csv' | cut -c1-2 | tr -d '\n')\" = '0,0,1,' ]"

# ... and a run that began its log (no --csv-append: the header is its own, written with its first
# row, after its backups of epoch 1 noted an empty log): its row 0, written after the last backup,
# is dropped once on resume, the header kept
check own_log_stops 1 "latest\.weights\.h5" -- inject latest.weights.h5 ENOSPC "$budget" write "$bin" $small --batch-size 8 \
  --csv "$tmp/own.csv" --backup-dir "$tmp/ownbk" --backup-freq 20
check own_log_resumes 0 "^test_loss=" -- "$bin" $small --batch-size 8 --csv "$tmp/own.csv" --backup-dir "$tmp/ownbk" --backup-freq 20
assert own_log_rows_once sh -c "[ \"\$(cut -c1-2 '$tmp/own.csv' | tr -d '\n')\" = 'ep0,1,' ]"
# ... also when the separator is a digit, and the csv module quotes the epoch holding it ("0"0...)
check own_log_sep0_stops 1 "latest\.weights\.h5" -- inject latest.weights.h5 ENOSPC "$budget" write "$bin" $small --batch-size 8 \
  --csv "$tmp/own0.csv" --csv-separator 0 --backup-dir "$tmp/own0bk" --backup-freq 20
check own_log_sep0_resumes 0 "^test_loss=" -- "$bin" $small --batch-size 8 --csv "$tmp/own0.csv" --csv-separator 0 \
  --backup-dir "$tmp/own0bk" --backup-freq 20
assert own_log_sep0_rows_once sh -c "[ \"\$(cut -c1-3 '$tmp/own0.csv' | tr -d '\r\n')\" = 'epo\"0\"10\"' ]"

# ... and the same when the log B appends to lacks its last line end (B writes one before its rows)
# or is a byte order mark alone (B writes the header after it): B's rows after its note still go
head -c -2 "$tmp/shared_a.csv" >"$tmp/unended.csv"
check unended_log_stops 1 "latest\.weights\.h5" -- inject latest.weights.h5 ENOSPC "$budget" write "$bin" $small --batch-size 8 \
  --csv "$tmp/unended.csv" --csv-append --backup-dir "$tmp/unendedbk" --backup-freq 20
check unended_log_resumes 0 "^test_loss=" -- "$bin" $small --batch-size 8 --csv "$tmp/unended.csv" --csv-append \
  --backup-dir "$tmp/unendedbk" --backup-freq 20
assert unended_log_rows_once sh -c "[ \"\$(cut -c1-2 '$tmp/unended.csv' | tr -d '\r\n')\" = 'ep0,1,0,1,' ]"
printf '\357\273\277' >"$tmp/bom.csv"
check bom_log_stops 1 "latest\.weights\.h5" -- inject latest.weights.h5 ENOSPC "$budget" write "$bin" $small --batch-size 8 \
  --csv "$tmp/bom.csv" --csv-append --backup-dir "$tmp/bombk" --backup-freq 20
check bom_log_resumes 0 "^test_loss=" -- "$bin" $small --batch-size 8 --csv "$tmp/bom.csv" --csv-append \
  --backup-dir "$tmp/bombk" --backup-freq 20
assert bom_log_rows_once sh -c "[ \"\$(tail -c +4 '$tmp/bom.csv' | cut -c1-2 | tr -d '\r\n')\" = 'ep0,1,' ]"

# A good checkpoint and CSV first: the faults below must leave them exactly as they are.
"$bin" $small --save "$tmp/good.weights.h5" --csv "$tmp/good.csv" >/dev/null 2>&1 || { echo "FAIL setup"; exit 1; }
cp "$tmp/good.weights.h5" "$tmp/before.weights.h5"
cp "$tmp/good.csv" "$tmp/before.csv"
row1=$(head -2 "$tmp/good.csv" | wc -c)

# Disk full while saving over a good checkpoint: clear error, old file intact and loadable, no temp left.
check save_enospc 1 "kcb-train: .*good\.weights\.h5: cannot save: writing: No space left on device \(KCB_ENOSPC\)" -- \
  inject good.weights.h5 ENOSPC 0 write "$bin" $small --save "$tmp/good.weights.h5"
assert save_enospc_old_file_intact cmp "$tmp/good.weights.h5" "$tmp/before.weights.h5"
assert save_enospc_no_temp_left bash -c "! ls '$tmp' | grep -q 'tmp-'"
check save_enospc_old_file_loads 0 '^test_loss=' -- "$bin" $small --epochs 0 --initial-weights "$tmp/good.weights.h5"
check save_eio 1 "good\.weights\.h5.*Input/output error \(KCB_EIO\)" -- \
  inject good.weights.h5 EIO 0 write "$bin" $small --save "$tmp/good.weights.h5"
check save_fsync_fails 1 "good\.weights\.h5.*fsync.*Input/output error|good\.weights\.h5.*Input/output error" -- \
  inject good.weights.h5 EIO 0 fsync "$bin" $small --save "$tmp/good.weights.h5"
check save_rename_fails 1 "good\.weights\.h5.*Input/output error" -- \
  inject good.weights.h5 EIO 0 rename "$bin" $small --save "$tmp/good.weights.h5"
assert save_faults_old_file_intact cmp "$tmp/good.weights.h5" "$tmp/before.weights.h5"
for layout in h5 keras; do
  check "save_${layout}_enospc" 1 "m\.$layout.*No space left on device \(KCB_ENOSPC\)" -- \
    inject "m.$layout" ENOSPC 100 write "$bin" $small --save "$tmp/m.$layout"
  assert "save_${layout}_nothing_left" bash -c "! ls '$tmp' | grep -q '^m\.$layout'"
done

# Disk full in the middle of the CSV log: the rows written before stay whole.
check csv_enospc 1 "kcb-train: CSV: cannot write to .*log\.csv: No space left on device \(KCB_ENOSPC\)" -- \
  inject log.csv ENOSPC "$((row1 + 7))" write "$bin" $small --csv "$tmp/log.csv"
assert csv_enospc_whole_rows bash -c "[ \"\$(head -2 '$tmp/log.csv' | wc -c)\" = $row1 ] && tail -c 2 '$tmp/log.csv' | od -c | grep -q '\\\\r  \\\\n'"

# Disk full while writing events: a clear error; what was written reads back whole.
check events_enospc 1 "events\.out\.tfevents\..*No space left on device \(KCB_ENOSPC\)" -- \
  inject events.out ENOSPC 300 write "$bin" $small --logdir "$tmp/tb"
# the write cut short is cut back to the last whole record: every file validates, none is empty
check events_enospc_whole_records 0 '^ok ' -- "$1/kcb-inspect" validate "$tmp/tb"
assert events_enospc_no_bad_file bash -c "! '$1/kcb-inspect' validate '$tmp/tb' | grep -q '^BAD'"
check events_eio 1 "events\.out\.tfevents\..*Input/output error \(KCB_EIO\)" -- \
  inject events.out EIO 0 write "$bin" $small --logdir "$tmp/tb2"

if [ "$(id -u)" = 0 ] && mkdir -p "$tmp/full" "$tmp/ro" && mount -t tmpfs -o size=1m tmpfs "$tmp/full" 2>/dev/null; then
  # A real full disk: the model with Adam's state (about 2.9 MB) does not fit in 1 MiB.
  "$bin" --train-limit 100 --model flatten,16:relu,10:softmax --epochs 1 --verbose 0 --save "$tmp/full/small.weights.h5" >/dev/null 2>&1
  cp "$tmp/full/small.weights.h5" "$tmp/small_before.weights.h5"
  check full_disk 1 "full/small\.weights\.h5: cannot save: writing: No space left on device \(KCB_ENOSPC\)" -- \
    "$bin" --train-limit 100 --epochs 1 --verbose 0 --save "$tmp/full/small.weights.h5"
  assert full_disk_old_file_intact cmp "$tmp/full/small.weights.h5" "$tmp/small_before.weights.h5"
  assert full_disk_no_temp_left bash -c "[ \"\$(ls '$tmp/full')\" = small.weights.h5 ]"
  check full_disk_csv 1 "full/log\.csv.*No space left on device \(KCB_ENOSPC\)" -- \
    bash -c "dd if=/dev/zero of='$tmp/full/filler' bs=4k count=1000 2>/dev/null; '$bin' $small --csv '$tmp/full/log.csv'"
  # A read-only directory.
  mount -t tmpfs -o size=1m,ro tmpfs "$tmp/ro"
  check readonly_save 1 "ro/m\.weights\.h5.*Read-only file system \(KCB_EIO\)|ro/m\.weights\.h5.*Read-only file system" -- \
    "$bin" $small --save "$tmp/ro/m.weights.h5"
  check readonly_csv 1 "ro/log\.csv.*Read-only file system" -- "$bin" $small --csv "$tmp/ro/log.csv"
  check readonly_logdir 1 "ro/tb.*Read-only file system" -- "$bin" $small --logdir "$tmp/ro/tb"
else
  echo "skip full_disk and readonly cases: mounting a tmpfs needs root"
fi
assert csv_old_file_intact cmp "$tmp/good.csv" "$tmp/before.csv"
# A backup that fails with --on-write-error warn is off for the rest of the run, which completes:
# the completion record counts the epochs fit ran, not those the backup saw
check backup_fails_warn 0 "Warning: BackupAndRestore failed and is off for the rest of this run" -- \
  inject latest.weights.h5 ENOSPC 0 write "$bin" $small --epochs 3 --backup-dir "$tmp/bkwarn" --on-write-error warn
check backup_fails_warn_completed 0 '^\{"epochs": 3\}$' -- cat "$tmp/bkwarn/completed.json"
# A backup that fails after TensorBoard flushed its epoch (the files first, then the backup): the
# rerun resumes from the backup before, trains that epoch again, and its epoch_* points, logged by
# the run that failed, are not logged twice
# (An earlier, finished run in the same log directory does not count: only the killed run's file.)
"$bin" $small --epochs 1 --save "$tmp/size.weights.h5" >/dev/null 2>&1
size=$(stat -c %s "$tmp/size.weights.h5")
"$bin" $small --epochs 3 --logdir "$tmp/tblog" >/dev/null 2>&1
check tb_backup_fails 1 "latest\.weights\.h5.*No space left on device" -- \
  inject latest.weights.h5 ENOSPC $((size * 3 / 2)) write "$bin" $small --epochs 3 --backup-dir "$tmp/tbk" --logdir "$tmp/tblog"
check tb_backup_fails_resumed 0 "^Resuming from .*tbk/latest\.weights\.h5 at epoch 2" -- \
  "$bin" $small --epochs 3 --verbose 1 --backup-dir "$tmp/tbk" --logdir "$tmp/tblog"
# (the records themselves are counted: a reader keeps one point a step either way)
check tb_epoch_points_once 0 '^6 6$' -- /usr/bin/python3 -c "
import glob
print(*[sum(open(f, 'rb').read().count(b'\\n\\nepoch_loss') for f in glob.glob('$tmp/tblog/%s/events.*' % r)) for r in ('train', 'validation')])"
# ... but a killed run that logged no epoch before failing leaves its epoch to the resumed run, even
# when an earlier run in the same log directory logged that epoch (the older run's value is not this run's)
"$bin" $small --epochs 1 --logdir "$tmp/tblog2" >/dev/null 2>&1
check tb_mid_epoch_backup_fails 1 "latest\.weights\.h5.*No space left on device" -- \
  inject latest.weights.h5 ENOSPC $((size * 3 / 2)) write "$bin" $small --epochs 2 --backup-dir "$tmp/tbk2" --backup-freq 5 --logdir "$tmp/tblog2"
check tb_mid_epoch_resumed 0 "^Resuming from .*tbk2/latest\.weights\.h5 at epoch 1, batch" -- \
  "$bin" $small --epochs 2 --verbose 1 --backup-dir "$tmp/tbk2" --backup-freq 5 --logdir "$tmp/tblog2"
check tb_resumed_epoch_logged 0 '^3$' -- /usr/bin/python3 -c "
import glob
print(sum(open(f, 'rb').read().count(b'\n\nepoch_loss') for f in glob.glob('$tmp/tblog2/train/events.*')))"
# A resume's settings are compared exactly: a seed past 2^53 is not a float equal to another
inject latest.weights.h5 ENOSPC $((size * 3 / 2)) write "$bin" $small --epochs 3 --seed 9007199254740993 \
  --backup-dir "$tmp/seedbk" >/dev/null 2>&1
check resume_other_big_seed_refused 2 "--seed 9007199254740992 \(the backed-up run: 9007199254740993\)" -- \
  "$bin" $small --epochs 3 --seed 9007199254740992 --backup-dir "$tmp/seedbk"
# A signal as the run ends (after its test pass, while completed.json is written): the run
# completes, prints its test metrics and says the signal came, with the signal's exit status
check signal_as_run_ends 143 "kcb-train: SIGTERM received as the run ended: it completed, and its files are written" -- \
  env KCB_FAULT_MATCH=completed.json KCB_FAULT_OPS=none KCB_FAULT_SIGNAL=15 LD_PRELOAD="$fault" "$bin" $small --backup-dir "$tmp/endbk"
cp "$out" "$tmp/end.out"
assert signal_as_run_ends_tested grep -q "^test_loss=" "$tmp/end.out"
assert signal_as_run_ends_completed test -f "$tmp/endbk/completed.json"
# ... under mpirun (the signal reaching rank 0 alone): every rank ends by itself, no MPI_Abort
if [ -n "$mpiexec" ]; then
  check signal_as_run_ends_mpi 143 "SIGTERM received as the run ended: it completed" -- \
    timeout 240 "$mpiexec" --oversubscribe --timeout 200 -np 2 -x LD_PRELOAD="$fault" -x KCB_FAULT_MATCH=completed.json \
    -x KCB_FAULT_OPS=none -x KCB_FAULT_SIGNAL=15 "$bin" $small --backup-dir "$tmp/endbk_mpi"
  cp "$out" "$tmp/end_mpi.out"
  assert signal_as_run_ends_mpi_no_abort sh -c "! grep -q MPI_ABORT '$tmp/end_mpi.out' && grep -q '^test_loss=' '$tmp/end_mpi.out'"
fi
finish fault_injection
