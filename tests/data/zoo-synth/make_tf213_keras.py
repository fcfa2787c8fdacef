#!/usr/bin/python3
"""A Keras 3 .keras archive laid out again as tf.keras 2.13-2.15 wrote theirs (keras v2.13.1
saving_lib._save_container_state over functional._layer_checkpoint_dependencies): the layers under
`_layer_checkpoint_dependencies`, each class's count taking two numbers for a layer with weights
(the dict holds it twice: weights in a nested model or a cell count), one for a layer without; no
`name` attributes; the optimizer's iteration
and slots without a learning rate; the compiled metrics' totals and counts under `metrics/`;
metadata.json's keras_version 2.13.1. Usage: make_tf213_keras.py IN.keras OUT.keras"""
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np

src, out = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(src)
config = json.loads(z.read("config.json"))
old = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
buf = io.BytesIO()
new = h5py.File(buf, "w")
new.create_group("vars")


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("2_d", "2d").replace("1_d", "1d")


keras3, tf213 = {}, {}  # per class: the next Keras 3 number, the next tf.keras 2.13 one
for entry in config["config"]["layers"]:
    cls = entry["class_name"]
    if cls == "InputLayer" and config["class_name"] == "Sequential":  # a Sequential's layers leave it out
        continue
    base = snake(cls)
    k3, k2 = keras3.get(base, 0), tf213.get(base, 0)
    name3 = base if k3 == 0 else "%s_%d" % (base, k3)
    name2 = base if k2 == 0 else "%s_%d" % (base, k2)
    if "layers/" + name3 in old:  # the layer's whole group: a nested model's or a cell's variables too
        old.copy(old["layers/" + name3], new, "_layer_checkpoint_dependencies/" + name2)
    else:
        new.create_group("_layer_checkpoint_dependencies/%s/vars" % name2)
    datasets = []
    new["_layer_checkpoint_dependencies/" + name2].visititems(
        lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
    keras3[base] = k3 + 1
    tf213[base] = k2 + (2 if datasets else 1)
new.visititems(lambda n, o: o.attrs.__delitem__("name") if "name" in o.attrs else None)
if "optimizer/vars" in old:
    opt = new.create_group("optimizer/vars")
    keys = sorted(old["optimizer/vars"], key=int)
    opt.create_dataset("0", data=old["optimizer/vars/0"][()])
    for k in keys[2:]:  # no learning rate: the slots follow the iteration
        opt.create_dataset(str(int(k) - 1), data=old["optimizer/vars/" + k][()])
for metric in ("mean", "mean_metric_wrapper"):
    m = new.create_group("metrics/%s/vars" % metric)
    m.create_dataset("0", data=np.float32(3.5))
    m.create_dataset("1", data=np.float32(7))
new.close()
with zipfile.ZipFile(out, "w") as w:
    w.writestr("metadata.json", json.dumps({"keras_version": "2.13.1", "date_saved": "2023-07-01@12:00:00"}))
    w.writestr("config.json", json.dumps(config))
    w.writestr("model.weights.h5", buf.getvalue())
