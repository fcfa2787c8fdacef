#!/usr/bin/python3
"""Writes an event file, encoded here by hand as TensorFlow 2's writer encodes it, with the summaries
kcb-inspect must lay out well (issue 16, item 13): a rank-1 and a rank-2 text tensor, an empty
histogram (a [0,3] tensor: no values), an hparams experiment whose metric has a display name, two
labelled audio clips and a graph event; and a run for TensorBoard's data server rules (a SessionLog
START purges nothing, a tag keeps its first value's plugin). Then checks kcb-inspect's text,
histograms, hparams, audio (and the WAVs it extracts) and runs output.
Usage: odd_summaries.py KCB_INSPECT"""
import os
import re
import struct
import subprocess
import sys
import tempfile

from tfrecord_frames import field, record

inspect = sys.argv[1]

def tensor(dtype, dims, strings=()):
    shape = b"".join(field(2, 2, field(1, 0, d)) for d in dims)
    return field(1, 0, dtype) + field(2, 2, shape) + b"".join(field(8, 2, s) for s in strings)


def value(tag, plugin, t, content=b""):
    meta = field(1, 2, field(1, 2, plugin.encode()) + (field(2, 2, content) if content else b"")) + field(4, 0, 2)
    return field(1, 2, tag.encode()) + field(9, 2, meta) + field(8, 2, t)


def event(step, payload):
    return field(1, 1, 1.0e9 + step) + field(2, 0, step) + payload


DT_STRING, DT_DOUBLE = 7, 2
with tempfile.TemporaryDirectory() as tmp:
    events = [event(0, field(3, 2, b"brain.Event:2"))]
    events.append(event(1, field(5, 2, field(1, 2, value("list", "text", tensor(DT_STRING, [2], [b"alpha", b"beta"]))))))
    events.append(event(1, field(5, 2, field(1, 2, value(
        "grid", "text", tensor(DT_STRING, [2, 2], [b"name", b"value", b"lr", b"0.001\nfloat32"]))))))
    events.append(event(2, field(5, 2, field(1, 2, value("empty", "histograms", tensor(DT_DOUBLE, [0, 3]))))))
    # hparams: an experiment whose metric "final_loss" is displayed as "Final loss", a session, the metric
    hp = lambda payload: field(1, 2, field(1, 2, b"hparams") + field(2, 2, payload))  # noqa: E731
    experiment = field(2, 2, field(4, 2, field(1, 2, b"lr") + field(4, 0, 3)) +
                       field(5, 2, field(1, 2, field(2, 2, b"final_loss")) + field(3, 2, b"Final loss")))
    start = field(3, 2, field(1, 2, field(1, 2, b"lr") + field(2, 2, field(2, 1, 0.01))))
    end = field(4, 2, field(1, 0, 1))
    for step, (tag, payload) in enumerate([("_hparams_/experiment", experiment), ("_hparams_/session_start_info", start),
                                           ("_hparams_/session_end_info", end)]):
        events.append(event(3 + step, field(5, 2, field(1, 2, field(1, 2, tag.encode()) + field(9, 2, hp(payload))))))
    events.append(event(6, field(5, 2, field(1, 2, field(1, 2, b"final_loss") + field(2, 5, 0.25)))))
    # audio as TF 2's tf.summary.audio writes it: a [k, 2] string tensor of (WAV, label) pairs
    def wav(rate, frames):
        data = struct.pack("<%dh" % frames, *[(i * 37) % 2000 - 1000 for i in range(frames)])
        fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
        return b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE" + b"fmt " + \
            struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    clips = [wav(8000, 800), wav(16000, 4000)]
    events.append(event(7, field(5, 2, field(1, 2, value("speech", "audio", tensor(
        DT_STRING, [2, 2], [clips[0], b"first clip", clips[1], b"second\nclip"]), field(2, 0, 11))))))
    events.append(event(0, field(4, 2, b"\n\x03\n\x01x")))  # a GraphDef (one node), as TF's trace export writes
    path = os.path.join(tmp, "events.out.tfevents.1.host.1.0.v2")
    with open(path, "wb") as f:
        f.write(b"".join(record(e) for e in events))
    text = subprocess.run([inspect, "text", path], capture_output=True, text=True)
    hist = subprocess.run([inspect, "histograms", path], capture_output=True, text=True)
    hparams = subprocess.run([inspect, "hparams", path], capture_output=True, text=True)
    runs = subprocess.run([inspect, "runs", path], capture_output=True, text=True)
    audio = subprocess.run([inspect, "audio", path, "-o", os.path.join(tmp, "wav")], capture_output=True, text=True)
    extracted = {}
    if os.path.isdir(os.path.join(tmp, "wav")):
        for name in os.listdir(os.path.join(tmp, "wav")):
            with open(os.path.join(tmp, "wav", name), "rb") as f:
                extracted[name] = f.read()

    # TensorBoard's data server rules: a SessionLog START (PyTorch's purge_step) evicts nothing by
    # itself, only a tag's own later points do; a tag keeps its first value's metadata, so a later
    # value naming another plugin is read as the first's (here: dropped, a [1,3] tensor is no scalar)
    def scalar(tag, v):
        return field(5, 2, field(1, 2, field(1, 2, tag.encode()) + field(2, 5, v)))
    one_bucket = tensor(DT_DOUBLE, [1, 3]) + field(4, 2, struct.pack("<3d", 0, 1, 5))
    rules = [event(0, field(3, 2, b"brain.Event:2"))]
    for step in range(4):
        rules.append(event(step, scalar("loss", 1.0 / (step + 1))))
        rules.append(event(step, field(5, 2, field(1, 2, value("w", "histograms", one_bucket)))))
        rules.append(event(step, field(5, 2, field(1, 2, value("note", "text", tensor(DT_STRING, [], [b"step %d" % step]))))))
    rules.append(event(2, field(7, 2, field(1, 0, 1))))  # SessionLog START at step 2
    rules.append(event(2, scalar("loss", 0.9)))
    rules.append(event(5, field(5, 2, field(1, 2, value("loss", "histograms", one_bucket)))))  # another plugin: dropped
    rules.append(event(5, field(5, 2, field(1, 2, value("note", "histograms", one_bucket)))))  # read as text: not a histogram
    # a first value without metadata (a simple_value) makes the tag a scalars one: a later float32
    # tensor with scalars metadata is a point of it; a first value of metadata alone (no value) is
    # no point, and decides the tag's plugin for the values after it
    f32 = lambda v: field(1, 0, 1) + field(2, 2, b"") + field(5, 5, v)  # noqa: E731 DT_FLOAT, shape [], float_val
    rules.append(event(1, scalar("mixed", 0.5)))
    rules.append(event(2, field(5, 2, field(1, 2, value("mixed", "scalars", f32(0.25))))))
    meta_only = field(1, 2, b"late") + field(9, 2, field(1, 2, field(1, 2, b"scalars")) + field(4, 0, 1))
    rules.append(event(0, field(5, 2, field(1, 2, meta_only))))
    for step in (1, 2, 3):
        rules.append(event(step, field(5, 2, field(1, 2, field(1, 2, b"late") + field(8, 2, f32(step / 4))))))
    rules.append(event(1, scalar("nan_only", float("nan"))))
    rules.append(event(2, scalar("nan_only", float("inf"))))
    rules_dir = os.path.join(tmp, "rules")
    os.makedirs(rules_dir)
    with open(os.path.join(rules_dir, "events.out.tfevents.2.host.1.0.v2"), "wb") as f:
        f.write(b"".join(record(e) for e in rules))
    # hparams without an experiment: the metrics are the scalars of the session runs and of the runs
    # below them (group: the path below); sessions sharing a group name are one row, metrics averaged
    def session_start(lr, group):
        info = field(1, 2, field(1, 2, b"lr") + field(2, 2, field(2, 1, lr))) + field(4, 2, group.encode())
        return event(1, field(5, 2, field(1, 2, field(1, 2, b"_hparams_/session_start_info") + field(9, 2, hp(field(3, 2, info))))))
    def write_run(path, evs):
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "events.out.tfevents.3.host.1.0.v2"), "wb") as f:
            f.write(b"".join(record(e) for e in [event(0, field(3, 2, b"brain.Event:2"))] + evs))
    hp_dir = os.path.join(tmp, "hp")
    for run, lr, group, loss in (("s1", 0.1, "trial-a", 0.25), ("s2", 0.1, "trial-a", 0.75), ("s3", 0.01, "", 0.5)):
        write_run(os.path.join(hp_dir, run), [session_start(lr, group)])
        write_run(os.path.join(hp_dir, run, "validation"), [event(2, scalar("loss", loss))])
    hp_rows = subprocess.run([inspect, "hparams", hp_dir], capture_output=True, text=True)
    hp_each = subprocess.run([inspect, "hparams", hp_dir, "--sessions"], capture_output=True, text=True)
    rules_hist = subprocess.run([inspect, "histograms", rules_dir], capture_output=True, text=True)
    rules_text = subprocess.run([inspect, "text", rules_dir], capture_output=True, text=True)
    rules_runs = subprocess.run([inspect, "runs", rules_dir], capture_output=True, text=True)
    nan_plot = subprocess.run([inspect, "plot", rules_dir, "--tag", "nan_only", "--term"], capture_output=True, text=True)

failures = []
if nan_plot.returncode != 1 or "'nan_only' in " not in nan_plot.stderr or "has no finite value to draw" not in nan_plot.stderr:
    failures.append(f"a plot of a tag with no finite value does not say so for the tag:\n{nan_plot.stderr}")
if hp_rows.returncode != 0 or not re.search(r"^group +sessions +lr +validation/loss +status\n"
                                           r"s3 +1 +0\.01 +0\.5 +- *\ntrial-a +2 +0\.1 +0\.5 +- *$", hp_rows.stdout, re.M):
    failures.append(f"hparams: child runs' metrics or session groups not as TensorBoard shows them:\n{hp_rows.stdout}{hp_rows.stderr}")
if hp_each.returncode != 0 or not re.search(r"^s2 +0\.1 +0\.75 ", hp_each.stdout, re.M):
    failures.append(f"hparams --sessions: not a row per session:\n{hp_each.stdout}{hp_each.stderr}")
hist_steps = re.findall(r"^\S+ +(\S+) +(\d+) ", rules_hist.stdout, re.M)
if rules_hist.returncode != 0 or hist_steps != [("w", str(s)) for s in range(4)]:
    failures.append(f"a START purged histograms, or another plugin's value was read as one: {hist_steps}\n{rules_hist.stderr}")
if rules_text.returncode != 0 or [f"step {s}" for s in range(4)] != re.findall(r"^  (step \d)$", rules_text.stdout, re.M):
    failures.append(f"a START purged text:\n{rules_text.stdout}{rules_text.stderr}")
if rules_runs.returncode != 0 or not re.search(r"^  scalars +late +scalar +3 +1\.\.3 ", rules_runs.stdout, re.M) or \
        not re.search(r"^  scalars +mixed +scalar +2 +1\.\.2 ", rules_runs.stdout, re.M):
    failures.append(f"a first value without metadata, or of metadata alone, not read as TensorBoard reads it:\n{rules_runs.stdout}")
if rules_runs.returncode != 0 or not re.search(r"^  scalars +loss +scalar +3 +0\.\.2 ", rules_runs.stdout, re.M):
    failures.append(f"loss: the value of another plugin counted, or the relogged step not replacing:\n{rules_runs.stdout}")
if text.returncode != 0:
    failures.append(f"text exited {text.returncode}: {text.stderr}")
if "  [0]\n  alpha\n  [1]\n  beta\n" not in text.stdout:
    failures.append("rank-1 text: the elements are not apart:\n" + text.stdout)
if not re.search(r"^  name  value\n  lr    0\.001 float32\n", text.stdout, re.M):
    failures.append("rank-2 text is not a table:\n" + text.stdout)
if hist.returncode != 0 or not re.search(r"^\S+ +empty +2 +0 +- +- +- +\(empty\)$", hist.stdout, re.M):
    failures.append(f"an empty histogram is not shown as (empty):\n{hist.stdout}{hist.stderr}")
if hparams.returncode != 0 or not re.search(r"^run +lr +Final loss +status\n\S+ +0\.01 +0\.25 +success$", hparams.stdout, re.M):
    failures.append(f"hparams does not show the metric's display name:\n{hparams.stdout}{hparams.stderr}")
if runs.returncode != 0 or not re.search(r"^\S+  \(1 file, \d+ events, \d+ bytes, 1 graph\)$", runs.stdout, re.M):
    failures.append(f"runs does not list the graph event:\n{runs.stdout}{runs.stderr}")
if audio.returncode != 0 or not re.search(r"^\S+ +speech +7 +0 +8000 +1 +0\.1 +1644 +first clip +\S+__speech__7_0\.wav$", audio.stdout, re.M) \
        or not re.search(r"^\S+ +speech +7 +1 +16000 +1 +0\.25 +8044 +second clip +\S+__speech__7_1\.wav$", audio.stdout, re.M):
    failures.append(f"audio does not list the clips:\n{audio.stdout}{audio.stderr}")
wav_names = sorted(n for n in extracted if n.endswith(".wav"))
if [extracted.get(n) for n in wav_names] != clips:
    failures.append(f"audio -o did not extract the clips byte for byte: {sorted(extracted)}")
for f in failures:
    print("FAIL " + f)
print(f"odd_summaries: {len(failures)} failed")
sys.exit(1 if failures else 0)
