#!/usr/bin/python3
"""Crash and resume test of ModelCheckpoint + BackupAndRestore through kcb-train.

Runs kcb-train with --checkpoint (top-k 2, last) and --backup-dir (a backup every 5 batches) on a
small subset, SIGKILLs it at random moments, and after every kill checks, with h5py (an independent
reader) and with kcb-restore --list --json, that every checkpoint file and the backup present are
whole and loadable. The killed run is then started again with the same arguments, which resumes
from the backup; once a run completes, its final weights must equal, bit for bit, those of a run
never interrupted. Repeats until --runs kills were made (default 50; --long: 500).

Usage: checkpoint_crash.py BIN_DIR [--runs N] [--long] [--seed S]"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("bin_dir")
ap.add_argument("--runs", type=int, default=50)
ap.add_argument("--long", action="store_true")
ap.add_argument("--seed", type=int, default=None)
opt = ap.parse_args()
runs = 500 if opt.long else opt.runs
seed = opt.seed if opt.seed is not None else int(time.time())
rng = random.Random(seed)
train = os.path.join(opt.bin_dir, "kcb-train")
restore = os.path.join(opt.bin_dir, "kcb-restore")
if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    print("skip: no /usr/share/datasets/fashion-mnist")
    sys.exit(0)

common = ["--train-limit", "2000", "--model", "flatten,16:relu,dropout:0.1,10:softmax", "--epochs", "6",
          "--verbose", "0", "--batch-size", "32", "--seed", "7"]


def weights(path):
    """Every dataset of an HDF5 file, read in full (fails on a cut or corrupt file)."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
        f.visititems(visit)
    return out


def same(a, b):
    return sorted(a) == sorted(b) and all(np.array_equal(a[k], b[k]) for k in a)


work = tempfile.mkdtemp(prefix="kcb-crash-")
failures = []
try:
    ref_path = os.path.join(work, "ref.weights.h5")
    subprocess.run([train] + common + ["--save", ref_path], check=True, stdout=subprocess.DEVNULL)
    ref = weights(ref_path)
    t0 = time.monotonic()
    subprocess.run([train] + common, check=True, stdout=subprocess.DEVNULL)
    duration = time.monotonic() - t0

    run_dir = os.path.join(work, "run")
    args = [train] + common + [
        "--checkpoint", os.path.join(run_dir, "ck", "w.{epoch:02d}-{val_loss:.4f}.weights.h5"),
        "--save-weights-only", "--save-top-k", "2", "--save-last",
        "--backup-dir", os.path.join(run_dir, "backup"), "--backup-freq", "5",
        "--save", os.path.join(run_dir, "final.weights.h5")]
    kills = completed = resumed_completions = checked_files = backups_seen = 0
    total_runs = 0
    killed_in_cycle = 0
    os.makedirs(run_dir)
    while kills < runs:
        total_runs += 1
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0, duration * 1.1))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stderr.close()
            kills += 1
            killed_in_cycle += 1
        else:
            err = p.stderr.read().decode()
            p.stderr.close()
            if p.returncode != 0:
                failures.append(f"run {total_runs} exited {p.returncode}: {err.strip()}")
                break
        # every file present must be whole: h5py reads all of it, kcb-restore finds none unreadable
        files = glob.glob(os.path.join(run_dir, "ck", "*.weights.h5"))
        backup = os.path.join(run_dir, "backup", "latest.weights.h5")
        for path in files + ([backup] if os.path.exists(backup) else []):
            try:
                weights(path)
                checked_files += 1
            except Exception as e:  # noqa: BLE001 - any read failure is a finding
                failures.append(f"after kill {kills}: {path} unreadable by h5py: {e}")
        backups_seen += os.path.exists(backup)
        for d in ("ck", "backup"):
            if not os.path.isdir(os.path.join(run_dir, d)):
                continue
            r = subprocess.run([restore, "--list", "--json", os.path.join(run_dir, d)], capture_output=True, text=True)
            if r.returncode not in (0, 1):
                failures.append(f"kcb-restore exit {r.returncode} on {d}: {r.stderr.strip()}")
                continue
            listing = json.loads(r.stdout)
            bad = [c for c in listing["checkpoints"] if not c["readable"]]
            if bad:
                failures.append(f"after kill {kills}: kcb-restore cannot read {bad}")
            if d == "ck" and listing["checkpoints"] and not listing["ranked"]:
                failures.append(f"after kill {kills}: no rankable checkpoint in {listing}")
        ranked = [f for f in files if not os.path.basename(f).startswith("last.")]
        if len(ranked) > 3:  # top 2, plus one written just before the kill could delete the worst
            failures.append(f"after kill {kills}: {len(ranked)} checkpoint files kept with save_top_k 2")
        if p.returncode == 0:
            completed += 1
            if len(ranked) > 2:
                failures.append(f"completed run keeps {len(ranked)} files with save_top_k 2")
            if not same(ref, weights(os.path.join(run_dir, "final.weights.h5"))):
                failures.append(f"cycle {completed} ({killed_in_cycle} kills): final weights differ from the uninterrupted run")
            elif killed_in_cycle:
                resumed_completions += 1
            left = sorted(os.listdir(os.path.join(run_dir, "backup"))) if os.path.isdir(os.path.join(run_dir, "backup")) else []
            # the mark that makes running it again say "nothing to resume", and the course record that
            # tells that command from another
            if sorted(left) != ["completed.json", "kcb-train-course.txt"]:
                failures.append(f"the backup directory holds {left} after a completed run, not completed.json and "
                                "the course record alone")
            shutil.rmtree(run_dir)
            os.makedirs(run_dir)
            killed_in_cycle = 0
        if len(failures) > 10:
            break
    # finish the last cycle, so its resume is checked too
    if not failures and killed_in_cycle:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        if same(ref, weights(os.path.join(run_dir, "final.weights.h5"))):
            resumed_completions += 1
        else:
            failures.append(f"last cycle ({killed_in_cycle} kills): final weights differ from the uninterrupted run")
        completed += 1
    print(f"seed {seed}: {total_runs} runs, {kills} killed (run time {duration:.2f} s), {backups_seen} kills left a "
          f"backup, {checked_files} files read back whole, {completed} runs completed, {resumed_completions} of them "
          f"resumed after kills with weights identical to the uninterrupted run; {len(failures)} failures")
    for f in failures:
        print("FAIL", f)
finally:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if failures else 0)
