#!/usr/bin/python3
# Keras 3.15.1: two nested Functional models that each name a layer "proj" (Keras allows equal
# layer names in different models). Their layers were built when each graph was made, in no name
# scope, so both kernels have the path "proj/kernel".
#   e_in = Input((4,), name="e_in"); enc = Model(e_in, Dense(4, name="proj")(e_in), name="enc")
#   d_in = Input((4,), name="d_in"); dec = Model(d_in, Dense(4, name="proj")(d_in), name="dec")
#   x = Input((4,), name="x"); model = Model(x, dec(enc(x)), name="ae")
# Writes dup_names.keras, dup_names.h5 (Keras's legacy layout) and dup_names_changed.h5, where only
# dec's kernel differs, and dup_names_opt.keras. Usage: make_dup_names.py (in the directory it writes to)
import h5py, numpy as np
from synth_archive import write_keras, legacy_model_weights
r = np.random.default_rng(5)
ek, eb, dk, db = r.standard_normal((4, 4)).astype("f4"), r.standard_normal(4).astype("f4"), r.standard_normal((4, 4)).astype("f4"), r.standard_normal(4).astype("f4")
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
def kt(src): return {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [src, 0, 0]}}
def inp(name): return {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False, "name": name, "optional": False}, "registered_name": None, "name": name, "inbound_nodes": []}
def dense(name, src):
    return {"module": "keras.layers", "class_name": "Dense", "config": {"name": name, "trainable": True, "dtype": pol, "units": 4,
        "activation": "linear", "use_bias": True, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}, "registered_name": None,
        "build_config": {"input_shape": [None, 4]}, "name": name, "inbound_nodes": [{"args": [kt(src)], "kwargs": {}}]}
def sub(name, i, src):
    return {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": name, "trainable": True,
            "layers": [inp(i), dense("proj", i)], "input_layers": [[i, 0, 0]], "output_layers": [["proj", 0, 0]]},
            "registered_name": "Functional", "build_config": {"input_shape": None}, "name": name, "inbound_nodes": [{"args": [kt(src)], "kwargs": {}}]}
cfg = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "ae", "trainable": True,
       "layers": [inp("x"), sub("enc", "e_in", "x"), sub("dec", "d_in", "enc")], "input_layers": [["x", 0, 0]], "output_layers": [["dec", 0, 0]]},
       "registered_name": "Functional", "build_config": {"input_shape": None}}
def store(h):
    h.create_group("vars").attrs["name"] = "ae"
    h.create_group("layers/input_layer/vars").attrs["name"] = "x"
    for c, n, i, k, b in (("functional", "enc", "e_in", ek, eb), ("functional_1", "dec", "d_in", dk, db)):
        h.create_group("layers/%s/vars" % c).attrs["name"] = n
        h.create_group("layers/%s/layers/input_layer/vars" % c).attrs["name"] = i
        g = h.create_group("layers/%s/layers/dense/vars" % c); g.attrs["name"] = "proj"; g["0"] = k; g["1"] = b
write_keras("dup_names.keras", cfg, store)
def legacy(path, dk):
    with h5py.File(path, "w") as h:
        mw = legacy_model_weights(h, cfg, ("x", "enc", "dec"))
        for lname, ws in (("dec", [("proj/kernel", dk), ("proj/bias", db)]), ("enc", [("proj/kernel", ek), ("proj/bias", eb)]), ("x", [])):
            g = mw.create_group(lname)
            g.attrs["weight_names"] = [n.encode() for n, _ in ws] if ws else np.zeros((0,), np.float64)
            for n, d in ws: g.create_dataset(n, data=d)
        g = mw.create_group("top_level_model_weights"); g.attrs["weight_names"] = np.zeros((0,), np.float64)
legacy("dup_names.h5", dk)
legacy("dup_names_changed.h5", dk + 1.0)
# dup_names_opt.keras: the same model compiled with SGD(momentum=0.9), whose slot names collide
# ("sgd/proj_kernel_momentum" twice): no legacy .h5 can hold both (Keras cannot write one either)
cfg["compile_config"] = {"optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "sgd", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None, "momentum": 0.9, "nesterov": False}, "registered_name": None},
                         "loss": "mse", "loss_weights": None, "metrics": None, "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
def store_opt(h):
    store(h)
    g = h.create_group("optimizer/vars"); g.attrs["name"] = "sgd"
    for i, d in enumerate([np.int64(1), np.float32(0.01), np.full((4, 4), 1, "f4"), np.full(4, 2, "f4"), np.full((4, 4), 3, "f4"), np.full(4, 4, "f4")]): g[str(i)] = d
write_keras("dup_names_opt.keras", cfg, store_opt)
