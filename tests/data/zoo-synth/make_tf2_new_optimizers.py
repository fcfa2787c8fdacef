#!/usr/bin/python3
"""tf.keras 2.11-2.15 legacy .h5 (model.save) and save_weights .h5 of a CNN with BN + 2 Dense
(28x28x1,conv:4:3:relu,bn,maxpool,flatten,16:relu,10:softmax), with their new (non-legacy)
optimizers: "iteration:0" first, then the slots as build() makes them (SGD a momentum buffer even
at momentum 0), no learning rate. Layout from keras v2.11-v2.15 keras/saving/legacy/hdf5_format.py
and keras/optimizers/*.py. Slot value = BASE[kind] + 0.001*var_index + 1e-7*elem_index.
Usage: make_tf2_new_optimizers.py OUT.h5 VERSION Adam|AdamW|Nadam|SGD|RMSprop [momentum=F]
[nesterov=1] [centered=0|1] [amsgrad=1] [lr=F] [iters=N] [name=NAME] [weights_only=1]"""
import h5py, json, sys, numpy as np
out, ver, opt = sys.argv[1], sys.argv[2], sys.argv[3]
extra = dict(a.split('=') for a in sys.argv[4:])
ITERS = int(extra.get('iters', 37))
rng = np.random.default_rng(7)
newinit = tuple(int(x) for x in ver.split('.')[:2]) >= (2, 13)
def init(cls, cfg=None):
    d = {"class_name": cls, "config": cfg if cfg is not None else {}}
    if newinit: d = {"module": "keras.initializers", **d, "registered_name": None}
    return d
def conv(name, filters, act):
    return {"class_name": "Conv2D", "config": {"name": name, "trainable": True, "dtype": "float32", "filters": filters,
      "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
      "groups": 1, "activation": act, "use_bias": True, "kernel_initializer": init("GlorotUniform", {"seed": None}),
      "bias_initializer": init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
      "kernel_constraint": None, "bias_constraint": None}}
def dense(name, units, act):
    return {"class_name": "Dense", "config": {"name": name, "trainable": True, "dtype": "float32", "units": units,
      "activation": act, "use_bias": True, "kernel_initializer": init("GlorotUniform", {"seed": None}),
      "bias_initializer": init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
      "kernel_constraint": None, "bias_constraint": None}}
bn = {"class_name": "BatchNormalization", "config": {"name": "batch_normalization", "trainable": True, "dtype": "float32",
      "axis": [3], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": init("Zeros"),
      "gamma_initializer": init("Ones"), "moving_mean_initializer": init("Zeros"), "moving_variance_initializer": init("Ones"),
      "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}}
pool = {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32",
        "pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}}
flat = {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"}}
inp = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 28, 28, 1], "dtype": "float32", "sparse": False,
       "ragged": False, "name": "input_1"}}
layers = [conv("conv2d", 4, "relu"), bn, pool, flat, dense("dense", 16, "relu"), dense("dense_1", 10, "softmax")]
mc = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [inp] + layers}}
W = {"conv2d": [("kernel", (3, 3, 1, 4)), ("bias", (4,))],
     "batch_normalization": [("gamma", (4,)), ("beta", (4,)), ("moving_mean", (4,)), ("moving_variance", (4,))],
     "dense": [("kernel", (676, 16)), ("bias", (16,))], "dense_1": [("kernel", (16, 10)), ("bias", (10,))]}
vals = {}
for l, ws in W.items():
    for w, s in ws:
        v = rng.normal(0, 0.2, s).astype(np.float32)
        if w in ("gamma", "moving_variance"): v = np.abs(v) + 0.5
        vals[f"{l}/{w}"] = v
trainable = [f"{l}/{w}" for l, ws in W.items() for w, s in ws if w not in ("moving_mean", "moving_variance")]
BASE = {"m": 0.01, "v": 0.02, "vhat": 0.03, "velocity": 0.04, "momentum": 0.05, "average_gradient": 0.06}
def slot(kind, i, shape):
    n = int(np.prod(shape))
    return (BASE[kind] + 0.001 * i + 1e-7 * np.arange(n)).reshape(shape).astype(np.float32)
name = extra.get('name', opt)
cfg = {"name": name, "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
       "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False,
       "learning_rate": float(extra.get('lr', 0.0020000000949949026))}
if opt in ("Adam", "AdamW", "Nadam"):
    cfg.update({"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07})
    if opt != "Nadam": cfg["amsgrad"] = extra.get('amsgrad', '0') == '1'
    if opt == "AdamW": cfg["weight_decay"] = 0.004
    groups = [["m", "v"]] + ([["vhat"]] if cfg.get("amsgrad") else [])
elif opt == "SGD":
    mom = float(extra.get('momentum', 0.9)); cfg.update({"momentum": mom, "nesterov": extra.get('nesterov', '0') == '1'})
    groups = [["m"]]          # tf.keras 2.11+ SGD.build makes m always
elif opt == "RMSprop":
    mom = float(extra.get('momentum', 0.0)); cen = extra.get('centered', '1') == '1'
    cfg.update({"rho": 0.9, "momentum": mom, "epsilon": 1e-07, "centered": cen})
    groups = [["velocity"]] + ([["momentum"]] if mom > 0 else []) + ([["average_gradient"]] if cen else [])
opt_names, opt_vals = ["iteration:0"], [np.array(ITERS, dtype=np.int64)]
for g in groups:
    for i, p in enumerate(trainable):
        for kind in g:
            opt_names.append(f"{name}/{kind}/{p}:0"); opt_vals.append(slot(kind, i, vals[p].shape))
tc = {"loss": "sparse_categorical_crossentropy",
      "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32",
                   "fn": "sparse_categorical_accuracy"}}]], "weighted_metrics": None, "loss_weights": None,
      "optimizer_config": {"class_name": "Custom>" + opt, "config": cfg}}
def B(s): return s.encode("utf8")
def save_weights_group(f):
    f.attrs["layer_names"] = [B(l["config"]["name"]) for l in layers]
    f.attrs["backend"] = B("tensorflow"); f.attrs["keras_version"] = B(ver)
    for l in sorted(layers, key=lambda x: x["config"]["name"]):
        n = l["config"]["name"]; g = f.create_group(n)
        ws = W.get(n, [])
        names = [B(f"{n}/{w}:0") for w, s in ws]
        g.attrs["weight_names"] = names if names else np.asarray(names)
        for (w, s), wn in zip(ws, names):
            d = g.create_dataset(wn.decode(), s, dtype=np.float32); d[:] = vals[f"{n}/{w}"]
    g = f.create_group("top_level_model_weights"); g.attrs["weight_names"] = np.asarray([])
with h5py.File(out, "w") as f:
    if extra.get('weights_only') == '1':
        save_weights_group(f)
    else:
        f.attrs["keras_version"] = B(ver); f.attrs["backend"] = B("tensorflow")
        f.attrs["model_config"] = B(json.dumps(mc)); f.attrs["training_config"] = B(json.dumps(tc))
        save_weights_group(f.create_group("model_weights"))
        og = f.create_group("optimizer_weights")
        og.attrs["weight_names"] = [B(n) for n in opt_names]
        for n, v in zip(opt_names, opt_vals):
            d = og.create_dataset(n, v.shape, dtype=v.dtype)
            if v.shape: d[:] = v
            else: d[()] = v
