#!/usr/bin/python3
"""Writes cnn.k2_optimizer_v2.h5: the zoo's cnn.k2.h5 (tf.keras 2.15, whose Adam saves the
iteration count and the slots interleaved per variable, "Adam/m/conv2d/kernel:0") with its
optimizer state as tf.keras's older optimizer_v2 saved it: "Adam/iter:0", its hyperparameters in
name order ("Adam/beta_1:0", ..., "Adam/learning_rate:0"), then every variable's m
("Adam/conv2d/kernel/m:0"), then every variable's v. The values are the same, so a loader must
give the same state from both. Usage: k2_optimizer_v2_make.py ZOO_DIR OUT_DIR (run by hand)."""
import os
import shutil
import sys

import h5py
import numpy as np

src, dst = os.path.join(sys.argv[1], "cnn.k2.h5"), os.path.join(sys.argv[2], "cnn.k2_optimizer_v2.h5")
shutil.copy(src, dst)
with h5py.File(dst, "r+") as f:
    g = f["optimizer_weights"]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
    data = {n: np.array(g[n]) for n in names}
    del f["optimizer_weights"]
    g = f.create_group("optimizer_weights")

    def v2_name(name, slot):  # Adam/m/conv2d/kernel:0 -> Adam/conv2d/kernel/m:0
        return "Adam/%s/%s:0" % (name.split("/", 2)[2][:-2], slot)

    order = [("Adam/iter:0", data["iteration:0"].astype(np.int64))]
    for hp, value in (("beta_1", 0.9), ("beta_2", 0.999), ("decay", 0.0), ("learning_rate", 0.001)):
        order.append(("Adam/%s:0" % hp, np.array(value, np.float32)))
    for slot in ("m", "v"):
        order += [(v2_name(n, slot), data[n]) for n in names if "/%s/" % slot in n]
    g.attrs["weight_names"] = [n.encode() for n, _ in order]
    for n, d in order:
        g.create_dataset(n, data=d)
