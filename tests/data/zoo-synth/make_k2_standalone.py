#!/usr/bin/python3
"""A full-model .h5 of standalone Keras 2.2.4 or 2.3.1 (before tf.keras), laid out as its
engine/saving.py wrote them: no InputLayer in a Sequential (the first layer carries
batch_input_shape), layers numbered from 1 (dense_1, dense_2), optimizer weights
[iterations] + slots made under "training/" (2.2.4: "training/SGD/Variable_1:0", 2.3.1:
"training/SGD/moment_1:0"; Adam: m, v and a vhat of shape (1,) each). Every weight and slot is
a seeded random value. Usage: make_k2_standalone.py OUT.h5 --version 2.2.4|2.3.1 --model mlp|cnn
--opt Adam|SGD"""
import argparse
import json

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--version", default="2.2.4")
ap.add_argument("--model", default="mlp")
ap.add_argument("--opt", default="SGD")
a = ap.parse_args()
rng = np.random.RandomState(7)


def rnd(shape, scale=0.1):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def entry(cls, name, **config):
    return {"class_name": cls, "config": dict({"name": name, "trainable": True}, **config)}


if a.model == "mlp":
    layers = [("dense_1", [("kernel", rnd((784, 16))), ("bias", rnd((16,)))]),
              ("dense_2", [("kernel", rnd((16, 10))), ("bias", rnd((10,)))])]
    configs = [entry("Dense", "dense_1", batch_input_shape=[None, 784], dtype="float32", units=16, activation="relu",
                     use_bias=True),
               entry("Dense", "dense_2", units=10, activation="softmax", use_bias=True)]
else:
    layers = [("conv2d_1", [("kernel", rnd((3, 3, 1, 4))), ("bias", rnd((4,)))]),
              ("batch_normalization_1", [("gamma", 1 + rnd((4,))), ("beta", rnd((4,))), ("moving_mean", rnd((4,))),
                                         ("moving_variance", np.abs(rnd((4,), 1.0)) + 0.5)]),
              ("max_pooling2d_1", []), ("flatten_1", []),
              ("dense_1", [("kernel", rnd((676, 10))), ("bias", rnd((10,)))])]
    configs = [entry("Conv2D", "conv2d_1", batch_input_shape=[None, 28, 28, 1], dtype="float32", filters=4,
                     kernel_size=[3, 3], strides=[1, 1], padding="valid", data_format="channels_last",
                     dilation_rate=[1, 1], activation="relu", use_bias=True),
               entry("BatchNormalization", "batch_normalization_1", axis=-1, momentum=0.99, epsilon=0.001, center=True,
                     scale=True),
               entry("MaxPooling2D", "max_pooling2d_1", pool_size=[2, 2], padding="valid", strides=[2, 2],
                     data_format="channels_last"),
               entry("Flatten", "flatten_1", data_format="channels_last"),
               entry("Dense", "dense_1", units=10, activation="softmax", use_bias=True)]

trainable = [v for _, ws in layers for n, v in ws if not n.startswith("moving_")]
old = a.version == "2.2.4"
slots = []
if a.opt == "Adam":
    slots = [rnd(v.shape, 0.01) for v in trainable] + [np.abs(rnd(v.shape, 0.001)) for v in trainable] + \
            [np.zeros((1,), np.float32) for _ in trainable]
    names = ["training/Adam/Variable%s:0" % ("_%d" % i if i else "") for i in range(len(slots))] if old else \
        ["training/Adam/%s_%d:0" % (k, i) for k in ("m", "v", "vhat") for i in range(len(trainable))]
    optimizer_config = {"beta_1": 0.9, "beta_2": 0.999, "decay": 0.0, "epsilon": 1e-07, "amsgrad": False}
else:
    slots = [rnd(v.shape, 0.01) for v in trainable]
    names = ["training/SGD/Variable%s:0" % ("_%d" % i if i else "") for i in range(len(slots))] if old else \
        ["training/SGD/moment_%d:0" % i for i in range(len(slots))]
    optimizer_config = {"momentum": 0.9, "decay": 0.0, "nesterov": False}
optimizer_config["lr" if old else "learning_rate"] = 0.01 if a.opt == "SGD" else 0.001
training = {"optimizer_config": {"class_name": a.opt, "config": optimizer_config}, "loss": "categorical_crossentropy",
            "metrics": ["accuracy"], "sample_weight_mode": None, "loss_weights": None}

with h5py.File(a.out, "w") as f:  # h5py 2 wrote the attributes as bytes
    f.attrs["keras_version"] = a.version.encode()
    f.attrs["backend"] = b"tensorflow"
    f.attrs["model_config"] = json.dumps({"class_name": "Sequential",
                                          "config": {"name": "sequential_1", "layers": configs}}).encode()
    f.attrs["training_config"] = json.dumps(training).encode()
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = [n.encode() for n, _ in layers]
    g.attrs["backend"] = b"tensorflow"
    g.attrs["keras_version"] = a.version.encode()
    for lname, ws in layers:
        lg = g.create_group(lname)
        lg.attrs["weight_names"] = [("%s/%s:0" % (lname, n)).encode() for n, _ in ws] if ws else np.array([], np.float64)
        for n, v in ws:
            lg.create_dataset("%s/%s:0" % (lname, n), data=v)
    og = f.create_group("optimizer_weights")
    all_names = ["%s/iterations:0" % a.opt] + names
    og.attrs["weight_names"] = [n.encode() for n in all_names]
    og.create_dataset(all_names[0], data=np.array(37, np.int64))
    for n, v in zip(names, slots):
        og.create_dataset(n, data=v)
