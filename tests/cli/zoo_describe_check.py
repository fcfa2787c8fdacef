#!/usr/bin/env python3
"""kcb's files of Keras's `cnn` model have the structure of Keras's own (keras-zoo): the same
groups, datasets, shapes, dtypes and attributes in h5_describe's listing, values aside (sums,
first values) and besides kcb's own kcb_* root attributes. For .keras, the archive's members and
its model.weights.h5. Usage: zoo_describe_check.py H5_DESCRIBE ZOO_DESCRIBE_DIR KCB_DIR"""
import os
import re
import subprocess
import sys
import tempfile
import zipfile

describe, zoo, ours = sys.argv[1:4]


def listing(path):
    out = subprocess.run([sys.executable, describe, path], check=True, capture_output=True, text=True).stdout
    lines = []
    for line in out.splitlines()[1:]:  # the first line names the file
        if "@kcb_" in line:
            continue
        line = re.sub(r" sum=.*| first=.*", "", line)
        # JSON attributes: kcb writes compact JSON; their content is checked by test_layers
        line = re.sub(r"(@(model|training)_config: vlen-str\(ascii\) scalar) = .*", r"\1", line)
        lines.append(line)
    return lines


failed = 0
for name, zoo_name in [("cnn.weights.h5", "cnn.weights.h5"), ("cnn.h5", "cnn.h5"), ("cnn.keras", "cnn.keras.model.weights.h5")]:
    path = os.path.join(ours, name)
    with tempfile.TemporaryDirectory() as tmp:
        if name.endswith(".keras"):
            with zipfile.ZipFile(path) as z:
                members = sorted(z.namelist())
                if members != ["config.json", "metadata.json", "model.weights.h5"]:
                    print(f"{name}: members {members}")
                    failed += 1
                z.extract("model.weights.h5", tmp)
            path = os.path.join(tmp, "model.weights.h5")
        got = listing(path)
    want = [re.sub(r" sum=.*| first=.*", "", l) for l in open(os.path.join(zoo, zoo_name + ".describe.txt")).read().splitlines()[1:]]
    want = [re.sub(r"(@(model|training)_config: vlen-str\(ascii\) scalar) = .*", r"\1", l) for l in want]
    if got != want:
        failed += 1
        print(f"{name}: structure differs from Keras's {zoo_name}:")
        import difflib
        for d in difflib.unified_diff(want, got, "keras", "kcb", lineterm="", n=1):
            print("  " + d)
    else:
        print(f"{name}: same structure as Keras's ({len(got)} lines)")
print(f"{3 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
