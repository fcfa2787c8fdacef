#!/usr/bin/python3
# quant_*.{keras,h5} (run in the directory it writes to): Keras 3.15.1 files of layers after
# model.quantize("int8"), laid out as variable_serialization_spec orders them (save_own_variables)
# and, in a legacy .h5, as _legacy_weights lists them (trainable first: the bias; then the int8
# kernel and its scale, which _int8_build makes with trainable=False).
#   quant_einsum.keras: Sequential([Input((4,)), EinsumDense("ab,bc->ac", (3,), bias_axes="c", name="e8"),
#                                   EinsumDense("ab,bc->ac", (2,), name="e8b")])  (no bias_axes: no bias)
#   quant_embed.keras:  Sequential([Input((5,)), Embedding(10, 4, name="emb")])
#   quant_dense.h5:     Sequential([Input((8,)), Dense(4, name="dense")]), legacy .h5
import h5py, json, numpy as np
from synth_archive import write_keras, legacy_model_weights
r = np.random.default_rng(8)
qpol = {"module": "keras", "class_name": "QuantizedDTypePolicy", "config": {"mode": "int8", "source_name": "float32"}, "registered_name": None}
def init(cls):
    return {"module": "keras.initializers", "class_name": cls, "config": {"seed": None} if cls != "Zeros" else {}, "registered_name": None}
def layer(cls, name, shape, **cfg):
    return {"module": "keras.layers", "class_name": cls, "config": dict(name=name, trainable=True, dtype=qpol, **cfg),
            "registered_name": None, "build_config": {"input_shape": shape}}
def sequential(shape, layers):
    inp = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": shape, "dtype": "float32", "sparse": False,
           "ragged": False, "name": "input_layer"}, "registered_name": None}
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True,
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None},
            "layers": [inp] + layers, "build_input_shape": shape}, "registered_name": None, "build_config": {"input_shape": shape}}
def einsum(name, units, bias_axes):
    return layer("EinsumDense", name, [None, 4], equation="ab,bc->ac", output_shape=[units], activation="linear", bias_axes=bias_axes,
                 kernel_initializer=init("GlorotUniform"), bias_initializer=init("Zeros"), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None)
def store_of(layers):
    def store(h):
        h.create_group("vars").attrs["name"] = "sequential"
        for path, name, values in layers:  # a Sequential's layers are stored by class (_save_container_state)
            g = h.create_group("layers/%s/vars" % path)
            g.attrs["name"] = name
            for i, v in enumerate(values):
                g[str(i)] = v
    return store
int8 = lambda *s: r.integers(-127, 127, s).astype(np.int8)
f32 = lambda *s: r.standard_normal(s).astype(np.float32)
# EinsumDense: kernel, bias (only with bias_axes), kernel_scale
cfg = sequential([None, 4], [einsum("e8", 3, "c"), einsum("e8b", 2, None)])
write_keras("quant_einsum.keras", cfg, store_of([("einsum_dense", "e8", [int8(4, 3), f32(3), f32(1, 3)]),
                                                    ("einsum_dense_1", "e8b", [int8(3, 2), f32(1, 2)])]))
# Embedding: embeddings, embeddings_scale
emb = layer("Embedding", "emb", [None, 5], input_dim=10, output_dim=4, embeddings_initializer=init("RandomUniform"),
            embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None, mask_zero=False,
            lora_rank=None, lora_alpha=None, quantization_config=None)
write_keras("quant_embed.keras", sequential([None, 5], [emb]), store_of([("embedding", "emb", [int8(10, 4), f32(10)])]))
# a legacy .h5 of an int8 Dense
dense = layer("Dense", "dense", [None, 8], units=4, activation="linear", use_bias=True, kernel_initializer=init("GlorotUniform"),
              bias_initializer=init("Zeros"), kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
              bias_constraint=None, lora_rank=None, lora_alpha=None, quantization_config=None)
with h5py.File("quant_dense.h5", "w") as h:
    mw = legacy_model_weights(h, sequential([None, 8], [dense]), ["dense"])
    g = mw.create_group("dense")
    names = ["sequential/dense/bias", "sequential/dense/kernel", "sequential/dense/kernel_scale"]
    g.attrs["weight_names"] = [n.encode() for n in names]
    for n, v in zip(names, [f32(4), int8(8, 4), f32(4)]):
        g[n] = v
    mw.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype=np.float64)
