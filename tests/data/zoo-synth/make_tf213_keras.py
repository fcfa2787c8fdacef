#!/usr/bin/python3
"""A Keras 3 .keras archive laid out again as tf.keras 2.13-2.15 wrote theirs (keras v2.13.1..v2.15.0
saving_lib.py):
  * 2.13: the layers under `_layer_checkpoint_dependencies` (functional.py), each class's count
    taking two numbers for a layer with weights (the dict holds it twice: weights in a nested model
    or a cell count), one for a layer without;
  * 2.14: the same container, a number per layer (visited objects are skipped before counting);
  * 2.15: that container in ATTR_SKIPLIST, the layers under `layers/` with Keras 3's names.
Every version: no `name` attributes; the optimizer's iteration and slots without a learning rate;
the compiled metrics' totals and counts under `metrics/`; metadata.json's keras_version.
--lso: compiled under the mixed_float16 policy, whose LossScaleOptimizer's `variables` are its inner
optimizer's and whose inner optimizer is walked again as an attribute (`_optimizer`, or in 2.15's
reversed walk `inner_optimizer`): the same variables stored twice (loss_scale_optimizer.py).
--lso-explicit: compiled with LossScaleOptimizer(Adam()) itself, which the compile config names as
tf.keras 2.11+ serializes it: class LossScaleOptimizerV3 around the inner optimizer's config.
--lr F: the compile config's learning rate (the file holds none of its own).
--weights-only: write save_weights' file (the store alone, no metadata) instead of an archive.
Usage: make_tf213_keras.py IN.keras OUT [--version 2.13.1|2.14.0|2.15.0] [--lso [--lso-explicit]] [--lr F]
[--weights-only]"""
import argparse
import io
import json
import re
import zipfile

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("src")
ap.add_argument("out")
ap.add_argument("--version", default="2.13.1")
ap.add_argument("--lso", action="store_true")
ap.add_argument("--lso-explicit", action="store_true")
ap.add_argument("--lr", type=float)
ap.add_argument("--weights-only", action="store_true")
a = ap.parse_args()
doubled = a.version.startswith("2.13")
container = "layers" if a.version.startswith("2.15") else "_layer_checkpoint_dependencies"

z = zipfile.ZipFile(a.src)
config = json.loads(z.read("config.json"))
if a.lr is not None:
    config["compile_config"]["optimizer"]["config"]["learning_rate"] = a.lr
if config.get("compile_config"):  # tf.keras 2.11+'s own settings
    config["compile_config"]["optimizer"]["config"].update(jit_compile=True, is_legacy_optimizer=False)
if a.lso_explicit:
    config["compile_config"]["optimizer"] = {
        "module": "keras.mixed_precision.loss_scale_optimizer", "class_name": "LossScaleOptimizerV3",
        "registered_name": "LossScaleOptimizerV3", "config": {"inner_optimizer": config["compile_config"]["optimizer"],
                                                              "dynamic": True, "initial_scale": 32768.0,
                                                              "dynamic_growth_steps": 2000}}
old = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
buf = io.BytesIO()
new = h5py.File(buf, "w")
new.create_group("vars")


def snake(name):  # tf.keras's generic_utils.to_snake_case
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


keras3, tf2 = {}, {}  # per class: the next Keras 3 number, the next tf.keras one
for entry in config["config"]["layers"]:
    cls = entry["class_name"]
    if cls == "InputLayer" and config["class_name"] == "Sequential":  # a Sequential's layers leave it out
        continue
    base = snake(cls)
    k3, k2 = keras3.get(base, 0), tf2.get(base, 0)
    name3 = base if k3 == 0 else "%s_%d" % (base, k3)
    name2 = base if k2 == 0 else "%s_%d" % (base, k2)
    if container == "layers":
        name2 = name3
    where = container + "/" + name2
    if "layers/" + name3 in old:  # the layer's whole group: a nested model's or a cell's variables too
        old.copy(old["layers/" + name3], new, where)
    else:
        new.create_group(where + "/vars")
    datasets = []
    new[where].visititems(lambda n, o: datasets.append(n) if isinstance(o, h5py.Dataset) else None)
    keras3[base] = k3 + 1
    tf2[base] = k2 + (2 if datasets and doubled else 1)
new.visititems(lambda n, o: o.attrs.__delitem__("name") if "name" in o.attrs else None)
if "optimizer/vars" in old:
    keys = sorted(old["optimizer/vars"], key=int)
    inner = "inner_optimizer" if container == "layers" else "_optimizer"
    for at in ["optimizer/vars"] + (["optimizer/%s/vars" % inner] if a.lso else []):
        opt = new.create_group(at)
        opt.create_dataset("0", data=old["optimizer/vars/0"][()])
        for k in keys[2:]:  # no learning rate: the slots follow the iteration
            opt.create_dataset(str(int(k) - 1), data=old["optimizer/vars/" + k][()])
for metric in ("mean", "mean_metric_wrapper"):
    m = new.create_group("metrics/%s/vars" % metric)
    m.create_dataset("0", data=np.float32(3.5))
    m.create_dataset("1", data=np.float32(7))
new.close()
if a.weights_only:
    with open(a.out, "wb") as w:
        w.write(buf.getvalue())
else:
    with zipfile.ZipFile(a.out, "w") as w:
        w.writestr("metadata.json", json.dumps({"keras_version": a.version, "date_saved": "2023-07-01@12:00:00"}))
        w.writestr("config.json", json.dumps(config))
        w.writestr("model.weights.h5", buf.getvalue())
