#!/usr/bin/python3
# Keras 3.15.1 files of layers whose variables are stored by rules of their own (run in the
# directory it writes to).
# quant_*.{keras,h5}: layers after
# model.quantize("int8"), laid out as variable_serialization_spec orders them (save_own_variables)
# and, in a legacy .h5, as _legacy_weights lists them (trainable first: the bias; then the int8
# kernel and its scale, which _int8_build makes with trainable=False).
#   quant_einsum.keras: Sequential([Input((4,)), EinsumDense("ab,bc->ac", (3,), bias_axes="c", name="e8"),
#                                   EinsumDense("ab,bc->ac", (2,), name="e8b")])  (no bias_axes: no bias)
#   quant_embed.keras:  Sequential([Input((5,)), Embedding(10, 4, name="emb")])
#   quant_dense.h5:     Sequential([Input((8,)), Dense(4, name="dense")]), legacy .h5
# rev_*.keras: ReversibleEmbedding(10, 4): tied (rev_tied: its embeddings alone) and, after
#   quantize("int8"), untied (rev_q8: embeddings, embeddings_scale, reverse_embeddings,
#   reverse_embeddings_scale, all frozen), saved uncompiled (no optimizer to tell frozen ones).
# lora_*: LoRA (lora_rank 2) freezes the kernel or embeddings (enable_lora: trainable = False) and
#   trains its two factors. A store holds the merged kernel alone (lora_emb.keras); a legacy .h5
#   lists the factors among the trainable weights, the frozen kernel after them (lora_dense.h5,
#   and lora_int8.h5 after quantize("int8"), whose kernel and scale are frozen anyway).
# gqa.keras: Sequential([Input((3, 6)), GroupedQueryAttention(head_dim=2, num_query_heads=4,
#   num_key_value_heads=2, name="gqa")]) called on (x, x): it has no public properties for its
#   projections, so all are saved under the private attributes (_query_dense, ..., _softmax,
#   _dropout_layer), which saving_lib walks last.
# bidi_rev.keras: Sequential([Input((5, 4)), Bidirectional(LSTM(3, name="fwd"),
#   backward_layer=GRU(2, go_backwards=True, name="rev_gru"), name="bidi")]): the forward copy is
#   renamed forward_fwd, the backward layer given keeps its own name.
# stacked.keras: Sequential([Input((5, 2)), RNN(StackedRNNCells([LSTMCell(3, name="zz"), GRUCell(2),
#   LSTMCell(2, name="aa")]))]): the cells list is a container, its items named by class and counted
#   per class under cell/cells (lstm_cell, gru_cell, lstm_cell_1), whatever the cells' own names.
import h5py, json, numpy as np
from synth_archive import write_keras, legacy_model_weights
r = np.random.default_rng(8)
qpol = {"module": "keras", "class_name": "QuantizedDTypePolicy", "config": {"mode": "int8", "source_name": "float32"}, "registered_name": None}
def init(cls):
    return {"module": "keras.initializers", "class_name": cls, "config": {"seed": None} if cls != "Zeros" else {}, "registered_name": None}
pol = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
def layer(cls, name, shape, dtype=qpol, **cfg):
    e = {"module": "keras.layers", "class_name": cls, "config": dict(name=name, trainable=True, dtype=dtype, **cfg), "registered_name": None}
    if shape:
        e["build_config"] = {"input_shape": shape}
    return e
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
            g = h.require_group("layers/%s/vars" % path)
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
def legacy_one_layer(path, entry, shape, named):
    """A Keras 3 legacy .h5 of a Sequential of one layer; named: [(leaf, value)] in _legacy_weights'
    order (trainable_weights, then non_trainable_weights)."""
    name = entry["config"]["name"]
    with h5py.File(path, "w") as h:
        mw = legacy_model_weights(h, sequential(shape, [entry]), [name])
        g = mw.create_group(name)
        names = ["sequential/%s/%s" % (name, leaf) for leaf, _ in named]
        g.attrs["weight_names"] = [n.encode() for n in names]
        for n, (_, v) in zip(names, named):
            g[n] = v
        mw.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype=np.float64)
def dense_entry(dtype=qpol, lora_rank=None):
    return layer("Dense", "dense", [None, 8], dtype=dtype, units=4, activation="linear", use_bias=True,
                 kernel_initializer=init("GlorotUniform"), bias_initializer=init("Zeros"), kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=lora_rank,
                 lora_alpha=lora_rank, quantization_config=None)
# a legacy .h5 of an int8 Dense
legacy_one_layer("quant_dense.h5", dense_entry(), [None, 8], [("bias", f32(4)), ("kernel", int8(8, 4)), ("kernel_scale", f32(4))])

# GroupedQueryAttention
gqa = layer("GroupedQueryAttention", "gqa", None, dtype=pol, head_dim=2, num_query_heads=4, num_key_value_heads=2, use_bias=True,
            dropout=0.0, use_gate=False, kernel_initializer=init("GlorotUniform"), bias_initializer=init("Zeros"), kernel_regularizer=None,
            bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, seed=None)
gqa["build_config"] = {"shapes_dict": {"query_shape": [None, 3, 6], "value_shape": [None, 3, 6], "key_shape": None}}
g = "grouped_query_attention"
write_keras("gqa.keras", sequential([None, 3, 6], [gqa]), store_of([
    (g, "gqa", []), (g + "/_dropout_layer", "dropout", []), (g + "/_softmax", "softmax", []),
    (g + "/_query_dense", "query", [f32(6, 4, 2), f32(4, 2)]), (g + "/_key_dense", "key", [f32(6, 2, 2), f32(2, 2)]),
    (g + "/_value_dense", "value", [f32(6, 2, 2), f32(2, 2)]), (g + "/_output_dense", "attention_output", [f32(4, 2, 6), f32(6)])]))
# Bidirectional with a backward layer of its own
def rnn(cls, name, units, **kw):
    return layer(cls, name, None, dtype=pol, units=units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer=init("GlorotUniform"), recurrent_initializer=init("Orthogonal"), bias_initializer=init("Zeros"),
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, stateful=False, unroll=False, zero_output_for_mask=False, use_cudnn="auto", **kw)
bidi = layer("Bidirectional", "bidi", [None, 5, 4], dtype=pol, merge_mode="concat",
             layer=rnn("LSTM", "forward_fwd", 3, go_backwards=False, unit_forget_bias=True),
             backward_layer=rnn("GRU", "rev_gru", 2, go_backwards=True, reset_after=True))
b = "bidirectional"
write_keras("bidi_rev.keras", sequential([None, 5, 4], [bidi]), store_of([
    (b, "bidi", []), (b + "/backward_layer", "rev_gru", []), (b + "/backward_layer/cell", "gru_cell", [f32(4, 6), f32(2, 6), f32(2, 6)]),
    (b + "/forward_layer", "forward_fwd", []), (b + "/forward_layer/cell", "lstm_cell", [f32(4, 12), f32(3, 12), f32(12)])]))
# RNN(StackedRNNCells)
def cell(cls, name, units, **kw):
    e = rnn(cls, name, units, **kw)
    for k in ("return_sequences", "return_state", "stateful", "unroll", "zero_output_for_mask", "use_cudnn", "activity_regularizer"):
        del e["config"][k]
    return e
stack = layer("StackedRNNCells", "stacked_rnn_cells", None, dtype=pol,
              cells=[cell("LSTMCell", "zz", 3, unit_forget_bias=True), cell("GRUCell", "gru_cell", 2, reset_after=True),
                     cell("LSTMCell", "aa", 2, unit_forget_bias=True)])
rnn_layer = layer("RNN", "rnn", [None, 5, 2], dtype=pol, cell=stack, return_sequences=False, return_state=False, go_backwards=False,
                  stateful=False, unroll=False, zero_output_for_mask=False)
s_ = "rnn"
write_keras("stacked.keras", sequential([None, 5, 2], [rnn_layer]), store_of([
    (s_, "rnn", []), (s_ + "/cell", "stacked_rnn_cells", []),
    (s_ + "/cell/cells/lstm_cell", "zz", [f32(2, 12), f32(3, 12), f32(12)]),
    (s_ + "/cell/cells/gru_cell", "gru_cell", [f32(3, 6), f32(2, 6), f32(2, 6)]),
    (s_ + "/cell/cells/lstm_cell_1", "aa", [f32(2, 8), f32(2, 8), f32(8)])]))
# LoRA
emb_lora = layer("Embedding", "emb", [None, 5], dtype=pol, input_dim=10, output_dim=4, embeddings_initializer=init("RandomUniform"),
                 embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 lora_rank=2, lora_alpha=2, quantization_config=None)
write_keras("lora_emb.keras", sequential([None, 5], [emb_lora]), store_of([("embedding", "emb", [f32(10, 4)])]))
legacy_one_layer("lora_dense.h5", dense_entry(pol, 2), [None, 8],
                 [("bias", f32(4)), ("lora_kernel_a", f32(8, 2)), ("lora_kernel_b", np.zeros((2, 4), "f4")), ("kernel", f32(8, 4))])
legacy_one_layer("lora_int8.h5", dense_entry(qpol, 2), [None, 8],
                 [("bias", f32(4)), ("lora_kernel_a", f32(8, 2)), ("lora_kernel_b", np.zeros((2, 4), "f4")), ("kernel", int8(8, 4)),
                  ("kernel_scale", f32(4))])
# ReversibleEmbedding
def rev(tied, dtype):
    return layer("ReversibleEmbedding", "rev", [None, 5], dtype=dtype, input_dim=10, output_dim=4,
                 embeddings_initializer=init("RandomUniform"), embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, lora_rank=None, lora_alpha=None, quantization_config=None,
                 tie_weights=tied, reverse_dtype=None, logit_soft_cap=None)
write_keras("rev_tied.keras", sequential([None, 5], [rev(True, pol)]), store_of([("reversible_embedding", "rev", [f32(10, 4)])]))
write_keras("rev_q8.keras", sequential([None, 5], [rev(False, qpol)]),
            store_of([("reversible_embedding", "rev", [int8(10, 4), f32(10), int8(4, 10), f32(10)])]))
