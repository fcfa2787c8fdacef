#!/usr/bin/python3
"""kcb's checkpoint files against the files Keras 3.15.1 wrote for the same model and state,
read with independent tools: h5py (through h5_describe.py), h5dump, zipfile and numpy.

Usage: saving_structure.py SAVING_WRITE_FIXTURE DATA_DIR
The helper writes m.h5, w_legacy.h5, w.weights.h5 and m.keras from the fixture weights and Adam
state; every object, type, shape, attribute and value must then match Keras's files, except
kcb's own `kcb_*` root attributes and the formatting (not the content) of JSON attributes.
"""

import difflib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import h5py
import numpy as np

helper, data = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def describe(path):
    out = subprocess.run([sys.executable, os.path.join(data, "h5_describe.py"), path],
                         check=True, capture_output=True, text=True).stdout
    lines = []
    for line in out.splitlines()[1:]:  # the first line names the file
        if line.strip().startswith("@kcb_"):
            continue
        # JSON attributes are compared parsed, below
        line = re.sub(r"(@(model|training)_config: vlen-str\(ascii\) scalar) = .*", r"\1", line)
        lines.append(line)
    return lines


def same_lines(ours, theirs, what):
    if ours == theirs:
        check(True, what)
        return
    diff = "\n".join(difflib.unified_diff(theirs, ours, "keras", "kcb", lineterm="", n=1))
    print(diff)
    check(False, what)


def h5dump_header(path):
    out = subprocess.run(["h5dump", "-H", "-p", "-B", path], check=True, capture_output=True, text=True).stdout
    lines, skip_depth = [], None
    for line in out.splitlines()[1:]:
        if skip_depth is not None:
            skip_depth += line.count("{") - line.count("}")
            if skip_depth <= 0:
                skip_depth = None
            continue
        if re.match(r'\s*ATTRIBUTE "kcb_', line):
            skip_depth = line.count("{") - line.count("}")
            continue
        if re.match(r"\s*OFFSET \d+", line):
            continue
        lines.append(line)
    return lines


def strip_ids(obj):
    if isinstance(obj, dict):
        return {k: strip_ids(v) for k, v in obj.items() if k != "shared_object_id"}
    if isinstance(obj, list):
        return [strip_ids(v) for v in obj]
    return obj


with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([helper, data, tmp], check=True)

    for name in ["m.h5", "w_legacy.h5", "w.weights.h5"]:
        ours, theirs = os.path.join(tmp, name), os.path.join(data, name)
        same_lines(describe(ours), describe(theirs), name + ": h5py sees the same objects, types, shapes, attributes and values")
        same_lines(h5dump_header(ours), h5dump_header(theirs), name + ": h5dump -H -p -B matches (offsets aside)")
        with h5py.File(ours, "r") as f:
            check(f.attrs["kcb_monitor"] == "val_loss" and f.attrs["kcb_monitor_value"] == 0.5 and f.attrs["kcb_epoch"] == 3,
                  name + ": kcb metadata attributes readable by h5py")

    with h5py.File(os.path.join(tmp, "m.h5"), "r") as ours, h5py.File(os.path.join(data, "m.h5"), "r") as theirs:
        for attr in ["model_config", "training_config"]:
            check(json.loads(ours.attrs[attr]) == json.loads(theirs.attrs[attr]), "m.h5: " + attr + " JSON equals Keras's")
        # predictions computed by numpy from kcb's datasets match Keras's
        expected = json.load(open(os.path.join(data, "expected.json")))["models"]["main"]
        x = np.array([[i / 783 for i in range(784)], [0.5 + 0.5 * math.cos(i) for i in range(784)]]).astype(np.float32)
        mw = ours["model_weights"]
        h = x
        for layer, act in [("dense", "relu"), ("dense_1", "softmax")]:
            names = [n.decode() if isinstance(n, bytes) else n for n in mw[layer].attrs["weight_names"]]
            k, b = mw[layer][names[0]][()], mw[layer][names[1]][()]
            h = h.astype(np.float64) @ k.astype(np.float64) + b
            if act == "relu":
                h = np.maximum(h, 0)
            else:
                e = np.exp(h - h.max(axis=1, keepdims=True))
                h = e / e.sum(axis=1, keepdims=True)
        check(np.max(np.abs(h - np.array(expected["predictions"]))) < 1e-6, "m.h5: numpy predictions from kcb's weights equal Keras's")

    ours_zip, theirs_zip = zipfile.ZipFile(os.path.join(tmp, "m.keras")), zipfile.ZipFile(os.path.join(data, "m.keras"))
    check(ours_zip.testzip() is None, "m.keras: zipfile CRCs are valid")
    check(ours_zip.namelist() == theirs_zip.namelist(), "m.keras: members %s" % ours_zip.namelist())
    check(all(i.compress_type == zipfile.ZIP_STORED for i in ours_zip.infolist()), "m.keras: members stored uncompressed")
    check(strip_ids(json.loads(ours_zip.read("config.json"))) == strip_ids(json.loads(theirs_zip.read("config.json"))),
          "m.keras: config.json equals Keras's")
    meta = json.loads(ours_zip.read("metadata.json"))
    check(meta["keras_version"] == "3.15.1" and re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", meta["date_saved"]) is not None,
          "m.keras: metadata.json has keras_version and date_saved")
    for who, z in [("kcb", ours_zip), ("keras", theirs_zip)]:
        with open(os.path.join(tmp, who + "_member.weights.h5"), "wb") as f:
            f.write(z.read("model.weights.h5"))
    same_lines(describe(os.path.join(tmp, "kcb_member.weights.h5")), describe(os.path.join(tmp, "keras_member.weights.h5")),
               "m.keras: model.weights.h5 member matches Keras's")

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
