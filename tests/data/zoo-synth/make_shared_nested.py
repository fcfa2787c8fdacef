#!/usr/bin/python3
# shared_nested.{keras,weights.h5,h5} (run in the directory it writes to): Keras 3.15.1 layouts for a layer shared between a nested model and the outer one:
#   shared = Dense(4, name="dense")
#   inner = Sequential([Input((4,)), shared], name="sequential")
#   inp = Input((4,)); x = inner(inp); y = shared(x); out = Dense(2, name="dense_1")(y)
#   model = Model(inp, out)   # model.layers = [input_layer, sequential, dense, dense_1]
# saving_lib: `dense` is saved at layers/sequential/layers/dense; at layers/dense it is already
# visited (visited_saveables) and gets no group. legacy_h5_format: each of model.layers gets its
# group with _legacy_weights(layer): sequential's and dense's hold the same two variables.
import h5py, numpy as np
from synth_archive import write_keras, legacy_model_weights
r = np.random.default_rng(1)
k, b = r.standard_normal((4, 4)).astype("f4"), r.standard_normal(4).astype("f4")
k1, b1 = r.standard_normal((4, 2)).astype("f4"), r.standard_normal(2).astype("f4")
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
def dense(name, units, functional=True, inbound=None):
    e = {"module": "keras.layers", "class_name": "Dense", "config": {"name": name, "trainable": True, "dtype": pol, "units": units,
        "activation": "linear", "use_bias": True, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}, "registered_name": None,
        "build_config": {"input_shape": [None, 4]}}
    if functional:
        e["name"] = name
        e["inbound_nodes"] = inbound or []
    return e
def node(src):
    return [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32", "keras_history": [src, 0, 0]}}], "kwargs": {}}]
inp = lambda name, functional: dict({"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False, "name": name, "optional": False}, "registered_name": None}, **({"name": name, "inbound_nodes": []} if functional else {}))
inner = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "dtype": pol,
         "layers": [inp("input_layer_1", False), dense("dense", 4, False)], "build_input_shape": [None, 4]}, "registered_name": None,
         "build_config": {"input_shape": [None, 4]}, "name": "sequential", "inbound_nodes": node("input_layer")}
cfg = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": True,
       "layers": [inp("input_layer", True), inner, dense("dense", 4, True, node("sequential")), dict(dense("dense_1", 2, True, node("dense")))],
       "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "registered_name": "Functional",
       "build_config": {"input_shape": None},
       "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "SGD", "config": {"name": "sgd", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None, "momentum": 0.9, "nesterov": False}, "registered_name": None},
                          "loss": "mean_squared_error", "loss_weights": None, "metrics": None, "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}}
mom = [np.full(v.shape, t, "f4") for v, t in ((k, 1), (b, 2), (k1, 3), (b1, 4))]
def store(h):
    h.create_group("vars").attrs["name"] = "functional"
    h.create_group("layers/input_layer/vars").attrs["name"] = "input_layer"
    h.create_group("layers/sequential/vars").attrs["name"] = "sequential"
    g = h.create_group("layers/sequential/layers/dense/vars"); g.attrs["name"] = "dense"; g["0"] = k; g["1"] = b
    g = h.create_group("layers/dense_1/vars"); g.attrs["name"] = "dense_1"; g["0"] = k1; g["1"] = b1
    g = h.create_group("optimizer/vars"); g.attrs["name"] = "sgd"
    for i, d in enumerate([np.int64(3), np.float32(0.01)] + mom): g[str(i)] = d
# NB: layers/dense is visited already when layers/sequential/layers/dense was saved: no group
with h5py.File("shared_nested.weights.h5", "w") as h: store(h)
write_keras("shared_nested.keras", cfg, store)
with h5py.File("shared_nested.h5", "w") as h:
    mw = legacy_model_weights(h, cfg, ("input_layer", "sequential", "dense", "dense_1"))
    for lname, ws in (("dense", [("sequential/dense/kernel", k), ("sequential/dense/bias", b)]),
                      ("dense_1", [("dense_1/kernel", k1), ("dense_1/bias", b1)]),
                      ("input_layer", []),
                      ("sequential", [("sequential/dense/kernel", k), ("sequential/dense/bias", b)])):
        g = mw.create_group(lname)
        g.attrs["weight_names"] = [n.encode() for n, _ in ws] if ws else np.zeros((0,), np.float64)
        for n, d in ws: g.create_dataset(n, data=d)
    g = mw.create_group("top_level_model_weights"); g.attrs["weight_names"] = np.zeros((0,), np.float64)
    og = h.create_group("optimizer_weights")
    onames = ["sgd/iteration", "sgd/learning_rate", "sgd/sequential_dense_kernel_momentum", "sgd/sequential_dense_bias_momentum", "sgd/dense_1_kernel_momentum", "sgd/dense_1_bias_momentum"]
    og.attrs["weight_names"] = [n.encode() for n in onames]
    for n, d in zip(onames, [np.int64(3), np.float32(0.01)] + mom): og.create_dataset(n, data=d)

# shared_rev.keras: the same layer, the outer model's call first:
#   inp = Input((4,)); x = shared(inp); y = inner(x); z = shared(y); out = Dense(2, name="dense_1")(z)
#   model.layers = [input_layer, dense, sequential, dense_1]
# saving_lib saves `dense` at layers/dense; layers/sequential keeps only its own (empty) vars.
rev_inner = dict(inner, inbound_nodes=node("dense"))
rev = {"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "functional", "trainable": True,
       "layers": [inp("input_layer", True), dense("dense", 4, True, node("input_layer") + node("sequential")), rev_inner,
                  dense("dense_1", 2, True, [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32", "keras_history": ["dense", 1, 0]}}], "kwargs": {}}])],
       "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense_1", 0, 0]]}, "registered_name": "Functional",
       "build_config": {"input_shape": None}, "compile_config": cfg["compile_config"]}
def rev_store(h):
    h.create_group("vars").attrs["name"] = "functional"
    for path, name, vs in (("layers/input_layer", "input_layer", []), ("layers/dense", "dense", [k, b]),
                           ("layers/sequential", "sequential", []), ("layers/dense_1", "dense_1", [k1, b1])):
        g = h.create_group(path + "/vars"); g.attrs["name"] = name
        for i, v in enumerate(vs): g[str(i)] = v
    g = h.create_group("optimizer/vars"); g.attrs["name"] = "sgd"
    for i, d in enumerate([np.int64(3), np.float32(0.01)] + mom): g[str(i)] = d
write_keras("shared_rev.keras", rev, rev_store)
