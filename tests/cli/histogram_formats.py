#!/usr/bin/python3
"""kcb-train's --histogram-format through kcb-inspect (issue 16, item 12). The default (proto)
writes HistogramProtos: `protoc --decode_raw` finds Summary.Value.histo (5) with fields 1..7, as in
the PyTorch SummaryWriter fixture; kcb-inspect histograms shows the exact mean and --json the exact
sum, both equal to what this script computes from the saved weights (read with h5py). --histogram-
format tensor writes Keras 3's [k,3] tensors: the mean is an estimate marked '~', no sum. The
fixture's own histograms read through kcb-inspect give expected.json's sums (TensorBoard's backend).
Exit 77 (skipped) without the Fashion-MNIST data set.
Usage: histogram_formats.py BIN_DIR SOURCE_DIR"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

bin_dir, source = sys.argv[1], sys.argv[2]
train, inspect = os.path.join(bin_dir, "kcb-train"), os.path.join(bin_dir, "kcb-inspect")
fixture = os.path.join(source, "tests", "data", "tfevents", "logdir")
if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    print("no Fashion-MNIST data set: skipped")
    sys.exit(77)
import h5py  # noqa: E402  (python3-h5py, in scripts/deps.sh --test)

failures = []
TAG = "sequential/dense/kernel/histogram"


def check(cond, what, out=""):
    if not cond:
        failures.append(what + ("\n" + out if out else ""))


def records(path):
    with open(path, "rb") as f:
        buf = f.read()
    off = 0
    while off < len(buf):
        (n,) = struct.unpack("<Q", buf[off:off + 8])
        yield buf[off + 12:off + 12 + n]
        off += 12 + n + 4


def histo_fields(run_dir, tag):
    """The field numbers under Summary.Value.histo of tag's first value, by protoc --decode_raw."""
    for name in sorted(os.listdir(run_dir)):
        if "tfevents" not in name:
            continue
        for rec in records(os.path.join(run_dir, name)):
            if tag.encode() not in rec:
                continue
            raw = subprocess.run(["protoc", "--decode_raw"], input=rec, capture_output=True, check=True).stdout.decode()
            m = re.search(r'^    1: "%s"\n((?:    .*\n)*)' % re.escape(tag), raw, re.M)
            if not m:
                continue
            body = m.group(1)
            h = re.search(r"^    5 \{\n((?:      .*\n)*)    \}", body, re.M)
            return (sorted(int(k) for k in re.findall(r"^      (\d+):", h.group(1), re.M)) if h else None,
                    re.search(r"^    8 \{", body, re.M) is not None)
    return None, None


def inspect_json(logdir):
    out = subprocess.run([inspect, "histograms", logdir, "--tag", TAG, "--json"], capture_output=True, text=True)
    return json.loads(out.stdout)["histograms"][0]


small = ["--train-limit", "500", "--model", "flatten,16:relu,10:softmax", "--verbose", "0", "--epochs", "1",
         "--histogram-freq", "1"]
with tempfile.TemporaryDirectory() as tmp:
    runs = {}
    for fmt in ("default", "proto", "tensor"):
        logdir = os.path.join(tmp, fmt)
        extra = [] if fmt == "default" else ["--histogram-format", fmt]
        r = subprocess.run([train, *small, *extra, "--logdir", logdir, "--save", os.path.join(logdir, "w.weights.h5")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"kcb-train {fmt} exited {r.returncode}", r.stderr[-2000:])
        runs[fmt] = logdir
    # the weights as saved after the one epoch: what the epoch-0 histograms describe
    with h5py.File(os.path.join(runs["default"], "w.weights.h5"), "r") as f:
        kernel = [float(v) for v in f["layers/dense/vars/0"][()].reshape(-1)]
    s = s2 = 0.0
    for v in kernel:  # in index order, in double, as the writer sums
        s += v
        s2 += v * v
    n = len(kernel)
    for fmt in ("default", "proto"):
        h = inspect_json(runs[fmt])
        check(h["count"] == n and h["sum"] == s and abs(h["sum_squares"] - s2) <= 1e-13 * s2
              and h["min"] == min(kernel) and h["max"] == max(kernel),
              f"{fmt}: kcb-inspect --json count/sum/sum_squares/min/max {h['count']} {h['sum']} {h['sum_squares']} "
              f"{h['min']} {h['max']} != {n} {s} {s2} {min(kernel)} {max(kernel)}")
        text = subprocess.run([inspect, "histograms", runs[fmt], "--tag", TAG], capture_output=True, text=True).stdout
        m = re.search(r"^train +%s +0 +%d +\S+ +\S+ +(\S+) " % (re.escape(TAG), n), text, re.M)
        check(m is not None and m.group(1) == "%.6g" % (s / n), f"{fmt}: the exact mean {'%.6g' % (s / n)}", text)
        fields, has_tensor = histo_fields(os.path.join(runs[fmt], "train"), TAG)
        check(fields == [1, 2, 3, 4, 5, 6, 7] and not has_tensor, f"{fmt}: decode_raw histo fields {fields}, tensor {has_tensor}")
    # tensor: Keras 3's format, an estimated mean, no sum, the same buckets
    h = inspect_json(runs["tensor"])
    check(h["sum"] is None and h["sum_squares"] is None and h["count"] == n, f"tensor: sum {h['sum']}")
    check(h["buckets"][-1][1] == max(kernel) and h["buckets"][0][0] == min(kernel), "tensor: bucket range")
    hp = inspect_json(runs["proto"])
    check([b for b in h["buckets"] if b[2]] == hp["buckets"], "proto and tensor hold different buckets")
    text = subprocess.run([inspect, "histograms", runs["tensor"], "--tag", TAG], capture_output=True, text=True).stdout
    check(re.search(r"^train +%s +0 +%d +\S+ +\S+ +~\S+ " % (re.escape(TAG), n), text, re.M) is not None,
          "tensor: the mean is not marked as an estimate", text)
    fields, has_tensor = histo_fields(os.path.join(runs["tensor"], "train"), TAG)
    check(fields is None and has_tensor, f"tensor: decode_raw finds histo fields {fields}")

# PyTorch's SummaryWriter fixture: the same fields, and kcb-inspect's sums equal TensorBoard's
fields, _ = histo_fields(os.path.join(fixture, "run_a"), "weights/layer0")
check(fields == [1, 2, 3, 4, 5, 6, 7], f"the PyTorch fixture's histo fields: {fields}")
with open(os.path.join(fixture, "expected.json")) as f:
    want = json.load(f)["runs"]["run_a"]["histograms"]["weights/layer0"]
out = subprocess.run([inspect, "histograms", fixture, "--tag", "weights/layer0", "--json"], capture_output=True, text=True)
got = {str(h["step"]): h for h in json.loads(out.stdout)["histograms"]}
for step, e in want.items():
    g = got.get(step)
    check(g is not None and (g["count"], g["sum"], g["min"], g["max"]) == (e["count"], e["sum"], e["min"], e["max"]),
          f"fixture step {step}: {g and (g['count'], g['sum'], g['min'], g['max'])} != {e}")
text = subprocess.run([inspect, "histograms", fixture, "--tag", "weights/layer0"], capture_output=True, text=True).stdout
check(re.search(r"^run_a +weights/layer0 +0 +1000 +\S+ +\S+ +%s " % re.escape("%.6g" % (want["0"]["sum"] / 1000)), text, re.M)
      is not None, "the fixture's exact mean", text)

for f in failures:
    print("FAIL " + f)
print(f"histogram_formats: {len(failures)} failed")
sys.exit(1 if failures else 0)
