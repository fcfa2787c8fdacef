#!/usr/bin/python3
# spectral.{keras,weights.h5,h5} (run in the directory it writes to).
# Keras 3.15.1: Sequential([Input((4,)), SpectralNormalization(Dense(3)), Dense(2)]), Adam.
# SpectralNormalization.build sets self.kernel = self.layer.kernel (tracked again as the wrapper's
# own trainable variable) then adds vector_u (trainable=False): the wrapper's save_own_variables
# writes [kernel, vector_u]; its `layer` attribute writes the Dense's [kernel, bias].
# layer.weights = [kernel, vector_u, bias] (dedup by id); model.trainable_variables = [kernel, bias, dense_1 k, b]
import h5py, numpy as np
from synth_archive import write_keras, legacy_model_weights
r = np.random.default_rng(3)
k, b, u = r.standard_normal((4, 3)).astype("f4"), r.standard_normal(3).astype("f4"), r.standard_normal((1, 3)).astype("f4")
k1, b1 = r.standard_normal((3, 2)).astype("f4"), r.standard_normal(2).astype("f4")
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
def dense(name, units, inp):
    return {"module": "keras.layers", "class_name": "Dense", "config": {"name": name, "trainable": True, "dtype": pol, "units": units,
        "activation": "linear", "use_bias": True, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}, "registered_name": None,
        "build_config": {"input_shape": [None, inp]}}
sn = {"module": "keras.layers", "class_name": "SpectralNormalization", "config": {"name": "spectral_normalization", "trainable": True, "dtype": pol,
      "layer": dense("dense", 3, 4), "power_iterations": 1}, "registered_name": None, "build_config": {"input_shape": [None, 4]}}
cfg = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "dtype": pol,
    "layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_layer", "optional": False}, "registered_name": None},
               sn, dense("dense_1", 2, 3)], "build_input_shape": [None, 4]}, "registered_name": None, "build_config": {"input_shape": [None, 4]},
    "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.001, "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}, "registered_name": None},
      "loss": "mean_squared_error", "loss_weights": None, "metrics": None, "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}}
def store(h):
    h.create_group("vars").attrs["name"] = "sequential"
    g = h.create_group("layers/spectral_normalization/vars"); g.attrs["name"] = "spectral_normalization"; g["0"] = k; g["1"] = u
    g = h.create_group("layers/spectral_normalization/layer/vars"); g.attrs["name"] = "dense"; g["0"] = k; g["1"] = b
    g = h.create_group("layers/dense/vars"); g.attrs["name"] = "dense_1"; g["0"] = k1; g["1"] = b1
    g = h.create_group("optimizer/vars"); g.attrs["name"] = "adam"
    vals = [np.int64(2), np.float32(0.001)]
    for v, t in ((k, 1), (b, 2), (k1, 3), (b1, 4)):
        vals += [np.full(v.shape, t, "f4"), np.full(v.shape, t + 0.5, "f4")]
    for i, d in enumerate(vals): g[str(i)] = d
with h5py.File("spectral.weights.h5", "w") as h: store(h)
write_keras("spectral.keras", cfg, store)
# Keras's own legacy .h5 of the same model: _legacy_weights = trainable_weights + non_trainable_weights
with h5py.File("spectral.h5", "w") as h:
    mw = legacy_model_weights(h, cfg, ("spectral_normalization", "dense_1"))
    for lname, ws in (("dense_1", [("sequential/dense_1/kernel", k1), ("sequential/dense_1/bias", b1)]),
                      ("spectral_normalization", [("sequential/spectral_normalization/dense/kernel", k), ("sequential/spectral_normalization/dense/bias", b), ("sequential/spectral_normalization/vector_u", u)])):
        g = mw.create_group(lname)
        g.attrs["weight_names"] = [n.encode() for n, _ in ws]
        for n, d in ws: g.create_dataset(n, data=d)
    g = mw.create_group("top_level_model_weights"); g.attrs["weight_names"] = np.zeros((0,), np.float64)
