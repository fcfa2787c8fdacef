#!/usr/bin/python3
"""Ctrl-C and resume, as a person does it: kcb-train runs on a pseudo-terminal and gets Ctrl-C
(the byte 0x03, which the terminal turns into SIGINT for the foreground process group) in the
middle of epoch 2. It must stop after the batch, close its logs (the cut epoch's batch points are
in the event file, the hparams session left open for the resume), keep a backup where it stopped, and
print the command that resumes. That command, run again, must say where it resumes, continue the
CSV log and the TensorBoard batch steps without a gap or a duplicate, and end with the same test
numbers as a run never interrupted (EarlyStopping restoring best weights included: an interrupted
run must back up the weights it was cut at). Running it once more says there is nothing to resume; a second
Ctrl-C quits at once.
Usage: interrupt_resume.py BIN_DIR"""
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

bin_dir = os.path.abspath(sys.argv[1])
train, inspect = os.path.join(bin_dir, "kcb-train"), os.path.join(bin_dir, "kcb-inspect")
if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    print("no Fashion-MNIST data: skipped")
    sys.exit(77)

failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    if not ok:
        failures += 1


def run_on_pty(argv, cwd, interrupts, after=rb"Epoch 2/4", batches_into=2, timeout=120, kill=False, delay=0.0):
    """Runs argv on a pty; once `after` has appeared and then `batches_into` more progress updates,
    writes Ctrl-C (with kill, sends SIGKILL instead); with interrupts=2, a second Ctrl-C once
    kcb-train says it is stopping (while it closes its files and writes its backup). Returns
    (output, exit status or -signal, seconds from the second Ctrl-C to the end). Waiting for
    progress updates rather than for a time keeps the cut inside the epoch however fast it runs;
    `delay` seconds more are waited after that (for a phase without progress updates)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execv(argv[0], argv)
    out, sent, seen_at, second_at = b"", 0, None, None
    deadline = time.time() + timeout
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.005)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if seen_at is None and after in out:
            seen_at, seen_time = len(out), time.time()
        if seen_at is not None and sent == 0 and out[seen_at:].count(b"\r") >= batches_into and \
                time.time() - seen_time >= delay:
            if kill:
                os.kill(pid, signal.SIGKILL)
            else:
                os.write(fd, b"\x03")
            sent = 1
        if sent == 1 and interrupts == 2 and b"stopping after this batch" in out:
            os.write(fd, b"\x03")
            second_at = time.time()
            sent = 2
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    return out.decode("utf-8", "replace").replace("\r\n", "\n"), code, (time.time() - second_at) if second_at else None


def batch_steps(logdir):
    got = subprocess.run([inspect, "scalars", logdir, "--tag", "batch_loss", "--json"], capture_output=True, text=True)
    points = json.loads(got.stdout)["runs"]["train"] if got.returncode == 0 else []
    return [p[0] for p in points]


def raw_batch_steps(logdir):
    """Every batch_loss point in every file, before any purge: duplicates would show here."""
    steps = []
    for f in sorted(os.listdir(os.path.join(logdir, "train"))):
        got = subprocess.run([inspect, "scalars", os.path.join(logdir, "train", f), "--tag", "batch_loss", "--json"],
                             capture_output=True, text=True)
        if got.returncode == 0:
            for run in json.loads(got.stdout)["runs"].values():
                steps += [p[0] for p in run]
    return steps


tmp = tempfile.mkdtemp()
try:
    args = ["--train-limit", "30000", "--batch-size", "8", "--epochs", "4", "--model", "flatten,256:relu,10:softmax",
            "--seed", "7", "--early-stopping", "10", "--restore-best-weights", "--lr-schedule", "cosine"]
    run_args = args + ["--logdir", "run/tb", "--update-freq", "batch", "--hparams", "--csv", "run/log.csv",
                       "--backup-dir", "run/backup", "--checkpoint", "run/ck/e{epoch}.keras"]

    # the reference: the same run, never interrupted
    ref = subprocess.run([train] + args + ["--verbose", "0"], cwd=tmp, capture_output=True, text=True)
    check("reference_run", ref.returncode == 0, ref.stderr)
    ref_line = ref.stdout.strip().splitlines()[-1] if ref.stdout.strip() else ""

    out, code, _ = run_on_pty([train] + run_args, tmp, 1)
    check("first_ctrl_c_exit_130", code == 130, f"exit {code}\n{out[-800:]}")
    check("says_stopping", "stopping after this batch (press Ctrl-C again to quit at once)" in out, out[-800:])
    check("says_stopped", re.search(r"kcb-train: stopped by SIGINT: fit: stopped on request after batch \d+ of epoch 2", out)
          is not None, out[-800:])
    check("lists_backup_kept", "backup       run/backup (kept: resume from it)" in out, out[-800:])
    check("lists_checkpoint", "checkpoint   run/ck/e1.keras" in out, out[-800:])
    m = re.search(r"To resume, run the same command again:\n  (.*)\n", out)
    check("prints_resume_command", m is not None, out[-800:])
    check("no_test_line", "test_loss=" not in out, out[-400:])
    cut = int(re.search(r"after batch (\d+) of epoch 2", out).group(1)) if "after batch" in out else -1
    steps_per_epoch = 27000 // 8  # 10 % validation split: 27000 training samples (epochs long enough to cut into)
    check("cut_mid_epoch", 0 < cut < steps_per_epoch, str(cut))

    # the logs were closed properly: the cut epoch's batch points reached the file, the hparams
    # session has its end record, the CSV has epoch 0 only
    steps = batch_steps(os.path.join(tmp, "run/tb"))
    check("cut_epoch_batches_written", steps and steps[-1] == steps_per_epoch + cut, f"last {steps[-1:]} want {steps_per_epoch + cut}")
    hp = subprocess.run([inspect, "hparams", os.path.join(tmp, "run/tb"), "--json"], capture_output=True, text=True)
    # a run the backup will resume has not ended: no FAILURE end, which TensorBoard (keeping a
    # run's first end record) would show even after the resumed run succeeds
    check("hparams_session_left_open", '"status": "-"' in hp.stdout and "failure" not in hp.stdout, hp.stdout[-300:] + hp.stderr)
    with open(os.path.join(tmp, "run/log.csv"), newline="") as f:
        rows = f.read().split("\r\n")
    check("csv_has_epoch_0_only", [r.split(",")[0] for r in rows if r] == ["epoch", "0"], repr(rows[:4]))
    check("backup_kept", os.path.exists(os.path.join(tmp, "run/backup/latest.weights.h5")))

    # a resume with other settings is refused before it touches anything (the rates compared are the
    # ones in effect: SGD's default is not Adam's); one that would end before the epoch it stopped in too
    other = subprocess.run([train] + run_args + ["--batch-size", "16", "--optimizer", "sgd", "--validation-split", "0.2"],
                           cwd=tmp, capture_output=True, text=True)
    check("resume_other_settings_refused", other.returncode == 2 and "holds a run trained with other settings: "
          "--optimizer sgd (the backed-up run: adam), --lr 0.01 (the backed-up run: 0.001), --batch-size 16 (the backed-up "
          "run: 8), --validation-split 0.2 (the backed-up run: 0.1)" in other.stderr,
          f"exit {other.returncode}\n{other.stderr[-500:]}")
    fewer = subprocess.run([train] + run_args + ["--epochs", "1"], cwd=tmp, capture_output=True, text=True)
    check("resume_fewer_epochs_refused", fewer.returncode == 2 and "--epochs 1: the backed-up run stopped in epoch 2"
          in fewer.stderr, f"exit {fewer.returncode}\n{fewer.stderr[-500:]}")
    # cosine decays over the epochs given: more of them would change the backed-up run's schedule
    longer = subprocess.run([train] + run_args + ["--epochs", "6"], cwd=tmp, capture_output=True, text=True)
    check("resume_other_cosine_length_refused", longer.returncode == 2 and
          "--lr-decay-epochs 6 (the backed-up run: 4)" in longer.stderr, f"exit {longer.returncode}\n{longer.stderr[-500:]}")
    check("refused_resumes_kept_backup", os.path.exists(os.path.join(tmp, "run/backup/latest.weights.h5")))

    # resume with the printed command, spelling the same settings otherwise (the optimizer's class
    # name, its default rate given, the default data directory given with a trailing '/', options
    # left out given as their defaults): still the same run
    cmd = shlex.split(m.group(1)) if m else [train] + run_args
    res = subprocess.run(cmd + ["--optimizer", "Adam", "--lr", "0.001", "--data", "/usr/share/datasets/fashion-mnist/",
                                "--monitor", "val_loss", "--mode", "auto", "--lr-alpha", "0", "--lr-warmup-epochs", "0"],
                         cwd=tmp, capture_output=True, text=True)
    check("resume_exit_0", res.returncode == 0, res.stderr[-500:])
    check("resume_says_where", f"Resuming from run/backup/latest.weights.h5 at epoch 2, batch {cut + 1} (continuing run/log.csv)"
          in res.stdout, res.stdout[:500])
    line = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
    check("same_numbers_as_uninterrupted", line == ref_line and line.startswith("test_loss="), f"{line!r} vs {ref_line!r}")
    with open(os.path.join(tmp, "run/log.csv"), newline="") as f:
        rows = [r for r in f.read().split("\r\n") if r]
    check("csv_continued_once_each", [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2", "3"], repr(rows))
    hp = subprocess.run([inspect, "hparams", os.path.join(tmp, "run/tb"), "--json"], capture_output=True, text=True)
    check("hparams_resumed_session_succeeded", '"status": "success"' in hp.stdout, hp.stdout[-300:] + hp.stderr)
    raw = raw_batch_steps(os.path.join(tmp, "run/tb"))
    check("batch_steps_continue_without_duplicates", sorted(raw) == list(range(1, 4 * steps_per_epoch + 1)),
          f"{len(raw)} points, {len(set(raw))} distinct, max {max(raw) if raw else None}")
    # the completion marker and the course record (which tells this command, run again, from another) stay
    check("backup_emptied", sorted(os.listdir(os.path.join(tmp, "run/backup"))) == ["completed.json", "kcb-train-course.txt"],
          str(os.listdir(os.path.join(tmp, "run/backup"))))

    again = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    check("finished_run_nothing_to_resume", again.returncode == 0 and
          "kcb-train: nothing to resume: the run backed up in run/backup completed (4 epochs)." in again.stdout,
          again.stdout + again.stderr)
    check("finished_run_not_retrained", len(os.listdir(os.path.join(tmp, "run/tb/train"))) == 2)
    # a kill between the completed run's last deletions leaves its position behind: tidied up
    with open(os.path.join(tmp, "run/backup/training_metadata.json"), "w") as f:
        f.write('{"epoch": 3}')
    again = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    check("finished_run_leftover_tidied", again.returncode == 0 and "nothing to resume" in again.stdout and
          sorted(os.listdir(os.path.join(tmp, "run/backup"))) == ["completed.json", "kcb-train-course.txt"],
          str(os.listdir(os.path.join(tmp, "run/backup"))))

    # SIGKILL in epoch 3 (nothing runs at the end): the resumed run restarts epoch 3 from the
    # epoch-end backup; the batch points logged after that backup are dropped by the SessionLog
    # START the resumed run writes, so the series read back has each step once
    kill_args = args + ["--logdir", "kill/tb", "--update-freq", "batch", "--csv", "kill/log.csv",
                        "--backup-dir", "kill/backup"]
    out, code, _ = run_on_pty([train] + kill_args, tmp, 1, after=b"Epoch 3/4", kill=True)
    # the same with a backup every 3 batches: the kill lands just after a mid-epoch backup, whose
    # step the resumed run does not train again, so its point must be in the files already
    mid_args = args + ["--logdir", "mid/tb", "--update-freq", "batch", "--backup-dir", "mid/backup", "--backup-freq", "3"]
    _, mid_code, _ = run_on_pty([train] + mid_args, tmp, 1, after=b"Epoch 3/4", kill=True)
    mid = subprocess.run([train] + mid_args, cwd=tmp, capture_output=True, text=True)
    mid_steps = batch_steps(os.path.join(tmp, "mid/tb"))
    check("sigkill_after_mid_epoch_backup_keeps_every_step",
          mid_code == -signal.SIGKILL and mid.returncode == 0 and mid_steps == list(range(1, 4 * steps_per_epoch + 1)),
          f"exit {mid_code}/{mid.returncode}; {len(mid_steps)} points, missing "
          f"{sorted(set(range(1, 4 * steps_per_epoch + 1)) - set(mid_steps))[:10]}")
    check("sigkill_mid_epoch_3", code == -signal.SIGKILL and "Epoch 3/4" in out and "Epoch 4/4" not in out,
          f"{code} {out[-300:]!r}")
    res = subprocess.run([train] + kill_args, cwd=tmp, capture_output=True, text=True)
    check("sigkill_resume_exit_0", res.returncode == 0, res.stderr[-400:])
    # the kill lands in epoch 3, or (on a fast machine) just after its end-of-epoch backup
    check("sigkill_resume_says_where",
          re.search(r"Resuming from kill/backup/latest\.weights\.h5 at epoch [34]\b[^\n]*\(continuing kill/log\.csv\)",
                    res.stdout) is not None, res.stdout[:300])
    line = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
    check("sigkill_same_numbers", line == ref_line, f"{line!r} vs {ref_line!r}")
    steps = batch_steps(os.path.join(tmp, "kill/tb"))
    check("sigkill_batch_steps_once_each", steps == list(range(1, 4 * steps_per_epoch + 1)),
          f"{len(steps)} points, {len(set(steps))} distinct, raw {len(raw_batch_steps(os.path.join(tmp, 'kill/tb')))}")
    with open(os.path.join(tmp, "kill/log.csv"), newline="") as f:
        rows = [r for r in f.read().split("\r\n") if r]
    check("sigkill_csv_once_each", [r.split(",")[0] for r in rows] == ["epoch", "0", "1", "2", "3"], repr(rows))

    # a second Ctrl-C quits at once, by the signal, without finishing the end hooks: here the first
    # one comes in epoch 1 of a wide model, whose backup takes a while to write
    shutil.rmtree(os.path.join(tmp, "run"))
    wide = ["--train-limit", "3000", "--batch-size", "8", "--epochs", "2", "--model", "flatten,3000:relu,10:softmax",
            "--backup-dir", "run/backup"]
    out, code, took = run_on_pty([train] + wide, tmp, 2, after=b"Epoch 1/2")
    check("second_ctrl_c_quits", code == -signal.SIGINT, f"exit {code}\n{out[-500:]}")
    check("second_ctrl_c_no_report", "To resume" not in out, out[-300:])

    # Ctrl-C during the final evaluation (epochs 0: the test pass of a slow conv model, several
    # seconds, comes right after the summary; 0.5 s after it fit has surely returned): said, with
    # the files the finished training wrote, and the signal's status
    slow = ["--epochs", "0", "--model", "28x28x1,conv:64:3:relu,conv:128:3:relu,flatten,10:softmax", "--save", "ev.keras"]
    out, code, _ = run_on_pty([train] + slow, tmp, 1, after=b"Non-trainable params", batches_into=0, delay=0.5)
    check("ctrl_c_in_final_evaluation", code == 130 and "stopped by SIGINT during the final evaluation on the test set" in out
          and "model        ev.keras" in out and "test_loss=" not in out
          and "to compute them, evaluate the saved model: kcb-train --epochs 0 --initial-weights ev.keras" in out,
          f"exit {code}\n{out[-500:]}")

    # killed (SIGKILL) in the final test pass of a run with --backup-dir: the backup is kept until
    # that pass is done, so the same command, run again, resumes, trains nothing, and prints the
    # test numbers an uninterrupted run prints; once more, it says there is nothing to resume
    fin = ["--train-limit", "2000", "--epochs", "1", "--verbose", "0", "--validation-split", "0",
           "--model", "28x28x1,conv:64:3:relu,conv:128:3:relu,flatten,10:softmax", "--save", "fin.keras",
           "--backup-dir", "finbk"]
    os.makedirs(os.path.join(tmp, "whole"))
    whole = subprocess.run([train] + fin, cwd=os.path.join(tmp, "whole"), capture_output=True, text=True, timeout=240)
    want = [l for l in whole.stdout.splitlines() if l.startswith("test_loss=")]
    job = subprocess.Popen([train] + fin, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not os.path.exists(os.path.join(tmp, "fin.keras")) and job.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    job.kill()  # fin.keras is written as fit ends, right before the test pass
    job.wait()
    check("final_pass_kill_keeps_backup", os.path.exists(os.path.join(tmp, "finbk", "latest.weights.h5"))
          and not os.path.exists(os.path.join(tmp, "finbk", "completed.json")), repr(os.listdir(os.path.join(tmp, "finbk"))))
    again = subprocess.run([train] + fin, cwd=tmp, capture_output=True, text=True, timeout=240)
    got = [l for l in again.stdout.splitlines() if l.startswith("test_loss=")]
    check("final_pass_rerun_evaluates", again.returncode == 0 and len(want) == 1 and got == want,
          f"exit {again.returncode}, {got} against {want}\n{again.stdout[-300:]}{again.stderr[-300:]}")
    once_more = subprocess.run([train] + fin, cwd=tmp, capture_output=True, text=True, timeout=240)
    check("final_pass_then_completed", once_more.returncode == 0 and "nothing to resume" in once_more.stdout,
          once_more.stdout[-300:] + once_more.stderr[-300:])

    # Ctrl-C in the last epoch's validation (one training batch, then seconds of validating): the
    # epoch ends, training completes with its files, the test pass is skipped, and it says so. The
    # bar's "1/1" is drawn once that batch is done, so the cut lands in validation at any speed
    val = ["--train-limit", "12000", "--validation-split", "0.97", "--epochs", "1", "--batch-size", "360",
           "--model", "28x28x1,conv:64:3:relu,conv:128:3:relu,flatten,10:softmax", "--save", "val.keras"]
    out, code, _ = run_on_pty([train] + val, tmp, 1, after=b"1/1\x1b", batches_into=0, delay=0.3)
    check("ctrl_c_in_last_validation", code == 130 and "stopped by SIGINT as training ended" in out
          and "val_loss" in out and "model        val.keras" in out and "test_loss=" not in out, f"exit {code}\n{out[-500:]}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"interrupt_resume: {failures} failed")
sys.exit(1 if failures else 0)
