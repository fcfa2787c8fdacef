#!/usr/bin/python3
"""Crash consistency: SIGKILL a training process at random moments while it writes event files, CSV,
checkpoints and backups, then check that nothing it had written is lost.

    crash_harness.py BIN_DIR [--runs N] [--seed S] [--resume-every K] [--keep DIR]

After each kill:
  - every event file reads back with at most its last record cut (framing and both CRCs checked by
    tests/data/tfevents/tfrecord_check.py, written apart from kcb);
  - every checkpoint and backup file in place (temp files aside) opens with h5py and all its
    datasets read, and the newest checkpoint loads into kcb-train;
  - the CSV log holds only whole rows (each ends in \\r\\n and has the header's column count);
  - every K-th run is started again with the same command and must end with weights identical, bit
    for bit, to those of a run that was never interrupted (BackupAndRestore resumes).
Prints a summary line 'crash: N passed, N failed'; exit status 0 when nothing was lost.
Needs /usr/bin/python3 with h5py (Debian python3-h5py) and the Fashion-MNIST data set.
"""
import csv
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TFRECORD_CHECK = os.path.join(HERE, "..", "data", "tfevents", "tfrecord_check.py")
DATA = "/usr/share/datasets/fashion-mnist"


def train_command(bin_dir, work):
    return [os.path.join(bin_dir, "kcb-train"), "--train-limit", "6000", "--model", "flatten,32:relu,10:softmax",
            "--epochs", "6", "--batch-size", "32", "--verbose", "0", "--seed", "7",
            "--logdir", os.path.join(work, "tb"), "--update-freq", "batch", "--histogram-freq", "1",
            "--csv", os.path.join(work, "log.csv"),
            "--checkpoint", os.path.join(work, "ckpt", "e{epoch:02d}-{val_loss:.4f}.weights.h5"),
            "--backup-dir", os.path.join(work, "backup"), "--backup-freq", "20",
            "--save", os.path.join(work, "final.weights.h5")]


def check_events(work, problems):
    sys.path.insert(0, os.path.dirname(TFRECORD_CHECK))
    import tfrecord_check
    for path in glob.glob(os.path.join(work, "tb", "**", "events.out.tfevents.*"), recursive=True):
        size = os.path.getsize(path)
        good_end = 0
        try:
            for off, data in tfrecord_check.records(path):
                good_end = off + 16 + len(data)
        except ValueError as e:
            # Only a cut last record is allowed: the problem must be a truncation reaching the end.
            if not str(e).startswith("truncated at offset"):
                problems.append(f"{path}: {e}")
            elif size - good_end > 16 + 64 * 1024 * 1024:
                problems.append(f"{path}: {e} (more than one record lost?)")


def check_h5(path, problems):
    import h5py
    try:
        with h5py.File(path, "r") as f:
            count = [0]

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    obj[()]
                    count[0] += 1
            f.visititems(visit)
            if count[0] == 0:
                problems.append(f"{path}: no datasets")
    except Exception as e:  # any failure to read is a lost file
        problems.append(f"{path}: unreadable: {e}")


def check_checkpoints(bin_dir, work, problems):
    files = [p for p in glob.glob(os.path.join(work, "ckpt", "*")) + glob.glob(os.path.join(work, "backup", "**", "*"),
             recursive=True) if os.path.isfile(p) and ".tmp-" not in os.path.basename(p)
             and p.endswith((".h5", ".keras"))]
    for p in files:
        check_h5(p, problems)
    ckpts = sorted((p for p in files if os.sep + "ckpt" + os.sep in p), key=os.path.getmtime)
    if ckpts:
        r = subprocess.run([os.path.join(bin_dir, "kcb-train"), "--train-limit", "100", "--model",
                            "flatten,32:relu,10:softmax", "--epochs", "0", "--verbose", "0",
                            "--initial-weights", ckpts[-1]], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{ckpts[-1]}: kcb-train cannot load it: {r.stderr.strip()}")
    return len(files)


def check_csv(work, problems):
    path = os.path.join(work, "log.csv")
    if not os.path.exists(path):
        return
    raw = open(path, "rb").read()
    if raw and not raw.endswith(b"\r\n"):
        problems.append(f"{path}: ends inside a row: {raw[-40:]!r}")
    rows = list(csv.reader(raw.decode().splitlines()))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            problems.append(f"{path}: line {i} has {len(row)} fields, the header {len(rows[0])}")


def weights_of(path):
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.startswith("layers"):
                out[name] = obj[()].tobytes()
        f.visititems(visit)
    return out


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    bin_dir, runs, seed, resume_every, keep = argv[0], 30, 1, 5, None
    i = 1
    while i < len(argv):
        if argv[i] == "--runs": runs = int(argv[i + 1])
        elif argv[i] == "--seed": seed = int(argv[i + 1])
        elif argv[i] == "--resume-every": resume_every = int(argv[i + 1])
        elif argv[i] == "--keep": keep = argv[i + 1]
        else:
            print(f"crash_harness.py: unknown option {argv[i]}", file=sys.stderr)
            return 2
        i += 2
    if not os.path.isdir(DATA):
        print("SKIP: the Fashion-MNIST data set is not installed")
        return 77
    rng = random.Random(seed)
    root = keep or tempfile.mkdtemp(prefix="kcb-crash-")
    # The run that is never interrupted: its length sets the kill window, its weights the reference.
    ref = os.path.join(root, "reference")
    os.makedirs(ref, exist_ok=True)
    t0 = time.monotonic()
    r = subprocess.run(train_command(bin_dir, ref), capture_output=True, text=True)
    duration = time.monotonic() - t0
    if r.returncode != 0:
        print(f"FAIL reference run: {r.stderr.strip()}")
        return 1
    reference = weights_of(os.path.join(ref, "final.weights.h5"))
    passed = failed = kills = files_checked = resumes = 0
    for run in range(runs):
        work = os.path.join(root, f"run{run:03d}")
        os.makedirs(work, exist_ok=True)
        delay = rng.uniform(0.05, duration * 0.95)
        p = subprocess.Popen(train_command(bin_dir, work), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        problems = []
        check_events(work, problems)
        files_checked += check_checkpoints(bin_dir, work, problems)
        check_csv(work, problems)
        if resume_every and run % resume_every == 0:
            resumes += 1
            r = subprocess.run(train_command(bin_dir, work), capture_output=True, text=True)
            if r.returncode != 0:
                problems.append(f"resume failed: {r.stderr.strip()}")
            elif weights_of(os.path.join(work, "final.weights.h5")) != reference:
                problems.append("resumed run ended with weights different from the uninterrupted run")
            check_csv(work, problems)
        if problems:
            failed += 1
            print(f"FAIL run {run} (killed after {delay:.2f}s):")
            for line in problems:
                print(f"  | {line}")
        else:
            passed += 1
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    print(f"crash: {runs} runs of {duration:.1f}s, {kills} killed mid-run, {files_checked} checkpoint/backup files "
          f"read, {resumes} resumed and compared bit for bit")
    print(f"crash: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
