#!/usr/bin/python3
"""Writes checkpoints of Keras models that the keras-zoo does not have, in Keras's own layouts,
with h5py (no Keras here), plus expected.json: every stored variable in the order Keras lists it
(path, Keras name, shape, dtype, sum, trainable, owning model variable for optimizer slots).

The layouts follow Keras 3's saving code (saving_lib `_save_state` / H5IOStore, legacy_h5_format)
and tf.keras 2's hdf5_format, as doc/checkpoint-layouts.md describes them:
  * store (.weights.h5 and the .keras member): `/vars` of the model first, then `layers/<snake
    class>[_k]` in model.layers order; per object its `vars` group (name attribute) and datasets
    0..n-1 (own trainable then non-trainable variables), then its sub-objects by attribute name in
    sorted order, private (`_x`) attributes last; nested models `layers` first; `optimizer/vars`.
  * legacy .h5: `model_weights/@layer_names` in model.layers order, groups created in sorted name
    order, per layer `weight_names` = trainable_weights + non_trainable_weights (sub-layers included).
  * Keras variable paths: the name scopes open when the variable was built: a Sequential's layers
    under its name, a Functional's layers under none (built when the graph was made), sub-layers
    under their parent layer.
Usage: make.py OUT_DIR   (run by hand; the files are committed)"""
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


SEED = [0]


def values(shape, dtype):
    SEED[0] += 1
    rng = np.random.default_rng(SEED[0])
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 9, size=shape).astype(dtype)
    return (rng.standard_normal(shape) * 0.1).astype(dtype)


class V:
    def __init__(self, name, shape, dtype="float32", trainable=True):
        self.n, self.shape, self.dtype, self.tr = name, tuple(shape), dtype, trainable
        self.data = values(self.shape, dtype)
        self.path = None  # Keras variable path
        self.k2name = None  # tf.keras 2 weight name


def flat_subs(l):
    """l.subs as (attr, L) pairs: an entry (attr, [L, ...]) is a list container, tracked in list order."""
    out = []
    for a, s in l.subs:
        if isinstance(s, list):
            out += [(a, x) for x in s]
        else:
            out.append((a, s))
    return out


class L:
    """A layer: own variables (trainable first), sub-layers in tracking order as (attr, L) or
    (attr, [L, ...])."""

    def __init__(self, name, cls, vars=(), subs=(), config=None, trainable=True, layers=None,
                 has_input=True, module="keras.layers", registered=None):
        self.name, self.cls, self.vars, self.subs = name, cls, list(vars), list(subs)
        self.config = dict(config or {})
        self.trainable = trainable
        self.layers = layers  # nested model: its layers (model.layers order)
        self.has_input = has_input
        self.module, self.registered = module, registered
        if not trainable:
            for v in self.all_vars():
                v.tr = False

    def all_vars(self):
        out = list(self.vars)
        for _, s in flat_subs(self):
            out += s.all_vars()
        for s in self.layers or []:
            out += s.all_vars()
        return out

    def weights(self):  # Layer.weights: own, then sub-layers' (tracking order)
        return self.all_vars()


def policy(dtype="float32"):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype}, "registered_name": None}


def entry(l, archive, functional_parent=False):
    cfg = {"name": l.name, "trainable": l.trainable,
           "dtype": l.config.get("_policy") or policy(l.config.get("_dtype", "float32"))}
    cfg.update({k: v for k, v in l.config.items() if not k.startswith("_")})
    if l.cls == "InputLayer":
        cfg = {"batch_shape": l.config["batch_shape"], "dtype": l.config.get("dtype", "float32"), "sparse": False,
               "ragged": False, "name": l.name, "optional": False}
    if l.layers is not None:
        cfg["layers"] = [entry(c, archive, l.cls == "Functional") for c in l.layers]
        if l.cls == "Functional":
            ins = [c.name for c in l.layers if c.cls == "InputLayer"]
            cfg["input_layers"] = [[n, 0, 0] for n in ins]
            cfg["output_layers"] = [[l.layers[-1].name, 0, 0]]
    e = {"class_name": l.cls, "config": cfg}
    if archive:
        e = {"module": l.module if l.cls not in ("Functional",) else "keras.src.models.functional", "class_name": l.cls,
             "config": cfg, "registered_name": l.registered}
    if functional_parent:
        e["name"] = l.name
        e["inbound_nodes"] = [] if l.cls == "InputLayer" else [{"args": [], "kwargs": {}}]
    return e


def legacy(e):
    """Keras 3's legacy model_config: the config.json entries without module, registered_name,
    build_config and compile_config (layer entries, recursively through `layers`); a registered
    class goes by its registered name (legacy serialization's get_registered_name)."""
    reg = e.get("registered_name")
    e = {k: v for k, v in e.items() if k not in ("module", "registered_name", "build_config", "compile_config")}
    if isinstance(reg, str):
        e["class_name"] = reg
    if "layers" in e.get("config", {}):
        e["config"] = dict(e["config"], layers=[legacy(c) for c in e["config"]["layers"]])
    return e


def layer_cfg(cls, name, **kw):
    """A sub-layer's serialized config (Bidirectional's `layer`, TimeDistributed's `layer`)."""
    c = {"name": name, "trainable": True, "dtype": policy()}
    c.update(kw)
    return {"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None}


# ---- Keras variable paths -------------------------------------------------------------------

def assign_paths(l, scope):
    """scope: the name scope `l` was built in ("" or "a/b/")."""
    own = scope + l.name
    for v in l.vars:
        v.path = own + "/" + v.n
    for _, s in flat_subs(l):
        assign_paths(s, own + "/")
    if l.layers is not None:
        for c in l.layers:
            if l.cls == "Sequential":
                assign_paths(c, own + "/")
            else:  # a Functional's layers were built when its graph was made, in no scope
                assign_paths(c, "")


def model_paths(model):
    for c in model.layers or []:
        if model.cls == "Sequential":
            assign_paths(c, model.name + "/")
        else:
            assign_paths(c, "")
    # a nested Sequential with an Input was built when it was made, in no scope
    def fix(l):
        for c in l.layers or []:
            if c.cls == "Sequential" and c.has_input:
                for cc in c.layers:
                    assign_paths(cc, c.name + "/")
            fix(c)
        for _, s in flat_subs(l):
            fix(s)
    fix(model)


def store_layers(model):
    """model.layers as stored: a Sequential hides its InputLayer."""
    return [c for c in model.layers if not (model.cls == "Sequential" and c.cls == "InputLayer")]


# ---- optimizers (Keras 3): slot groups, each interleaved over the trainable variables --------

OPTIMIZERS = {
    "sgd": [["momentum"]],
    "rmsprop": [["velocity"], ["momentum"]],  # momentum > 0
    "adamw": [["momentum", "velocity"]],
    "adagrad": [["accumulator"]],
    "nadam": [["momentum", "velocity"]],  # then u_product, a scalar
    "adamax": [["momentum", "norm"]],
    "adam": [["momentum", "velocity"]],
}
NON_NEGATIVE_SLOTS = ("velocity", "accumulator", "norm")
OPT_CLASS = {"lso_adam": "LossScaleOptimizer", "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "adagrad": "Adagrad", "nadam": "Nadam",
             "adamax": "Adamax"}


# Keras up to 3.14 gave each optimizer a fixed default name
K314_NAME = {"sgd": "SGD", "rmsprop": "rmsprop", "adam": "adam", "adamw": "adamw", "adagrad": "adagrad", "nadam": "nadam",
             "adamax": "adamax"}


def keras_name(opt):
    """Keras 3.15's optimizers are named after their class in snake case, made unique per process
    ("rm_sprop", "adam_w", "adam_1"): the key's `_N` suffix asks for that uniquified name, `_k314`
    for the name Keras 3.14 gave."""
    base, _, variant = opt.partition("_")
    if variant == "k314":
        return K314_NAME[base]
    return snake(OPT_CLASS[base]) + ("_" + variant if variant.isdigit() else "")


def optimizer_vars(opt, trainable, it_dtype):
    if opt == "lso_adam":
        # mixed precision: compile wraps the optimizer in a LossScaleOptimizer, whose variables are
        # its own (iteration, learning_rate 0, step_counter, dynamic_scale) then its inner one's
        inner = optimizer_vars("adam", trainable, it_dtype)
        own = [("loss_scale_optimizer/iteration", np.array(3, dtype=it_dtype), None),
               ("loss_scale_optimizer/learning_rate", np.array(0.0, np.float32), None),
               ("loss_scale_optimizer/step_counter", np.array(3, dtype=it_dtype), None),
               ("loss_scale_optimizer/dynamic_scale", np.array(32768.0, np.float32), None)]
        return own + inner, inner
    name = keras_name(opt)
    opt, _, variant = opt.partition("_")
    out = [(name + "/iteration", np.array(3, dtype=it_dtype), None)]
    if variant != "schedule":  # a learning-rate schedule is no variable
        out.append((name + "/learning_rate", np.array(0.01, np.float32), None))
    # the base optimizer's moving averages (use_ema) come before the optimizer's own slots
    for group in ([["average"]] if variant == "ema" else []) + OPTIMIZERS[opt]:
        for v in trainable:
            for slot in group:
                data = values(v.shape, v.dtype)
                if slot in NON_NEGATIVE_SLOTS:  # running averages of squares, as a trained model holds
                    data = np.abs(data)
                out.append(("%s/%s_%s" % (name, v.path.replace("/", "_"), slot), data, v))
                if id(v) in UNKNOWN:
                    UNKNOWN_SLOTS.add(out[-1][0])
    if opt == "nadam":
        out.append((name + "/variable", np.array(0.97, np.float32), None))  # u_product: built unnamed in nadam's scope
    return out


KNOWN_NON_TRAINABLE = {"BatchNormalization": ("moving_mean", "moving_variance"), "Normalization": ("mean", "variance", "count")}


def knowable(recs, model, layout):
    """A weights-only file does not hold the config: a variable's trainable flag is knowable only
    from its dtype (integers take no gradient) or, where the file names the class (a store's
    container), the class's own non-trainable variables. Other flags become None (not checked)."""
    classes = {}

    def walk(l):
        for v in l.vars:
            classes[id(v)] = l.cls
        for _, s in l.subs:
            walk(s)
        for c in l.layers or []:
            walk(c)
    walk(model)
    if layout == "store":
        vs = [v for c in model.layers for v in c.weights()]
    else:
        vs = [v for c in store_layers(model) for v in [w for w in c.weights() if w.tr] + [w for w in c.weights() if not w.tr]]
    for r, v in zip(recs, vs):
        if np.dtype(v.dtype).kind in "iu":
            r["trainable"] = False
        elif layout == "store" and v.n in KNOWN_NON_TRAINABLE.get(classes[id(v)], ()):
            r["trainable"] = False
        elif not (layout == "store" and v.tr):
            r["trainable"] = None if not v.tr else True
    return recs


def ksum(a):
    return float(np.asarray(a, dtype=np.float64).sum())


WHERE = {}  # id(V) -> its dataset in the file being written


def record(path, name, data, trainable, owner=None, optimizer=False):
    return {"path": path, "name": name, "shape": list(np.shape(data)), "dtype": str(np.asarray(data).dtype),
            "sum": ksum(data), "trainable": bool(trainable), "optimizer": optimizer,
            "owner": WHERE[id(owner)] if owner is not None else None}


# ---- writers --------------------------------------------------------------------------------

def attr_key(a):
    return "~" + a if a.startswith("_") else a


UNKNOWN_SLOTS = set()  # their optimizer slots' names
UNKNOWN = set()  # ids of variables of classes a reader cannot know the variable names of (custom layers)


def write_store(h5, model, opt_vars, inner=None):
    """Returns the model variables' records in model.weights order and the optimizer's."""
    where = WHERE

    def save(l, path):
        g = h5.create_group(path + "/vars") if path else h5.create_group("vars")
        g.attrs["name"] = l.name
        for i, v in enumerate(l.vars):
            g[str(i)] = v.data
            where[id(v)] = "/%s/vars/%d" % (path, i)
        if l.layers is not None:
            container(l, path + "/layers")
        for attr, s in sorted(l.subs, key=lambda a: attr_key(a[0])):
            save(s, path + "/" + attr)

    def container(m, path):
        used = {}
        for c in store_layers(m):
            base = snake(c.cls)
            k = used.get(base, 0)
            used[base] = k + 1
            save(c, "%s/%s" % (path, base if k == 0 else "%s_%d" % (base, k)))

    root = h5.create_group("vars")
    root.attrs["name"] = model.name
    container(model, "layers")
    recs = [record(where[id(v)], v.path if id(v) not in UNKNOWN else None, v.data, v.tr) for c in model.layers for v in c.weights()]
    orecs = []
    if opt_vars:
        g = h5.create_group("optimizer/vars")
        g.attrs["name"] = opt_vars[0][0].split("/")[0]
        for i, (name, data, owner) in enumerate(opt_vars):
            g[str(i)] = data
            orecs.append(record("/optimizer/vars/%d" % i, name if name not in UNKNOWN_SLOTS else None, data, False, owner, True))
    if inner:  # the LossScaleOptimizer's inner optimizer, saved again as its attribute
        g = h5.create_group("optimizer/inner_optimizer/vars")
        g.attrs["name"] = inner[0][0].split("/")[0]
        for i, (name, data, owner) in enumerate(inner):
            g[str(i)] = data
            orecs.append(record("/optimizer/inner_optimizer/vars/%d" % i, name, data, False, owner, True))
    return recs, orecs


def strings(lst):
    return [s.encode("utf8") for s in lst] if lst else np.zeros((0,), np.float64)


def write_legacy(root, prefix, model, k2=False, version="3.15.1", backend="tensorflow"):
    layers = store_layers(model)
    names = [c.name for c in layers]
    root.attrs["layer_names"] = strings(names)
    root.attrs["backend"] = backend.encode()
    root.attrs["keras_version"] = version.encode()
    recs = {}
    for c in sorted(layers, key=lambda c: c.name):
        g = root.create_group(c.name)
        ws = [v for v in c.weights() if v.tr] + [v for v in c.weights() if not v.tr]
        wn = [v.k2name if k2 else v.path for v in ws]
        g.attrs["weight_names"] = strings(wn)
        recs[c.name] = []
        for v, n in zip(ws, wn):
            g.create_dataset(n, data=v.data)
            recs[c.name].append(record("%s/%s/%s" % (prefix, c.name, n), n, v.data, v.tr))
            WHERE[id(v)] = recs[c.name][-1]["path"]
    g = root.create_group("top_level_model_weights")
    g.attrs["weight_names"] = np.zeros((0,), np.float64)
    return [r for n in names for r in recs[n]]


def write_legacy_optimizer(h5, opt_vars, k2=False):
    g = h5.create_group("optimizer_weights")
    g.attrs["weight_names"] = strings([n for n, _, _ in opt_vars])
    out = []
    for name, data, owner in opt_vars:
        g.create_dataset(name, data=data)
        out.append(record("/optimizer_weights/" + name, name, data, False, owner, True))
    return out


def training_config(opt):
    return {"loss": "mean_squared_error", "loss_weights": None, "metrics": ["mae"], "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
            "optimizer_config": {"class_name": OPT_CLASS[opt if opt == "lso_adam" else opt.partition("_")[0]], "config": opt_config(opt)}}


def opt_config(opt):
    if opt == "lso_adam":
        return {"name": "loss_scale_optimizer", "learning_rate": 0.0, "initial_scale": 32768.0, "dynamic_growth_steps": 2000,
                "inner_optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                                    "config": {"name": "adam", "learning_rate": 0.01}, "registered_name": None}}
    name = keras_name(opt)
    opt, _, variant = opt.partition("_")
    # SGD's and RMSprop's momentum slots exist only with momentum
    cfg = dict({"name": name, "learning_rate": 0.01}, **({"momentum": 0.9} if opt in ("sgd", "rmsprop") else {}))
    if variant == "ema":
        cfg.update(use_ema=True, ema_momentum=0.99)
    if variant == "schedule":
        cfg["learning_rate"] = {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                                "config": {"initial_learning_rate": 0.01, "decay_steps": 100, "decay_rate": 0.9},
                                "registered_name": None}
    return cfg


def params(model):
    ws = [v for c in model.layers for v in c.weights()]
    n = lambda vs: int(sum(int(np.prod(v.shape)) for v in vs))
    return {"total": n(ws), "trainable": n([v for v in ws if v.tr]), "non_trainable": n([v for v in ws if not v.tr])}


def write_keras3(tag, model, opt, it_dtype, expected):
    model_paths(model)
    trainable = [v for c in model.layers for v in c.weights() if v.tr]
    opt_vars, inner = optimizer_vars(opt, trainable, it_dtype), None
    if opt == "lso_adam":
        opt_vars, inner = opt_vars
    top = [[c.name, c.cls] for c in store_layers(model)]
    base = {"model_class": model.cls, "model_name": model.name, "params": params(model), "layers": top,
            "n_layers_with_nesting": None}
    # .weights.h5
    with h5py.File(os.path.join(OUT, tag + ".weights.h5"), "w") as h5:
        recs, orecs = write_store(h5, model, opt_vars, inner)
    expected[tag + ".weights.h5"] = dict(base, layout="weights.h5", weights=knowable(json.loads(json.dumps(recs)), model, "store"),
                                         optimizer_weights=orecs)
    # .keras: metadata.json, config.json, model.weights.h5 (stored, Python's zipfile)
    cfg = entry(model, True)
    cfg["module"] = "keras" if model.cls == "Sequential" else "keras.src.models.functional"
    cfg["build_config"] = {"input_shape": None}
    cfg["compile_config"] = {"optimizer": {"module": "keras.optimizers", "class_name": OPT_CLASS[opt if opt == "lso_adam" else opt.partition("_")[0]],
                                           "config": opt_config(opt), "registered_name": None},
                             "loss": "mean_squared_error", "loss_weights": None, "metrics": ["mae"],
                             "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        write_store(h5, model, opt_vars, inner)
    # Keras writes its members stored; it reads deflated ones as well (archives re-zipped by other
    # tools), which all but one of these are, keeping the files small
    zmode = zipfile.ZIP_DEFLATED if tag not in ("mixed",) else zipfile.ZIP_STORED
    with zipfile.ZipFile(os.path.join(OUT, tag + ".keras"), "w", compression=zmode) as z:
        for name, data in [("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-12-03@10:00:00"})),
                           ("config.json", json.dumps(cfg)), ("model.weights.h5", buf.getvalue())]:
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 3, 10, 0, 0))  # reproducible files
            info.compress_type = zmode
            z.writestr(info, data)
    expected[tag + ".keras"] = dict(base, layout="keras", weights=recs, optimizer_weights=orecs)
    if expected[tag + ".weights.h5"]["weights"] == recs:  # the same listing: kept once
        expected[tag + ".keras"] = {"same_as": tag + ".weights.h5", "layout": "keras"}
    # legacy full .h5 (Keras 3)
    with h5py.File(os.path.join(OUT, tag + ".h5"), "w") as h5:
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["keras_version"] = "3.15.1"
        h5.attrs["model_config"] = json.dumps(legacy(entry(model, True))).encode()
        h5.attrs["training_config"] = json.dumps(training_config(opt)).encode()
        lrecs = write_legacy(h5.create_group("model_weights"), "/model_weights", model)
        lorecs = write_legacy_optimizer(h5, opt_vars)
    expected[tag + ".h5"] = dict(base, layout="h5", weights=lrecs, optimizer_weights=lorecs,
                                 layers=[[c.name, c.cls] for c in store_layers(model)])


# ---- the models ----------------------------------------------------------------------------

def lstm_cell(name, n_in, units, cls="LSTMCell", gates=4):
    return L(name, cls, [V("kernel", (n_in, gates * units)), V("recurrent_kernel", (units, gates * units)),
                         V("bias", (gates * units,))])


def rnn(cls, name, cell, **cfg):
    return L(name, cls, subs=[("cell", cell)], config=cfg)


def input_layer(name, shape, dtype="float32"):
    return L(name, "InputLayer", config={"batch_shape": [None] + list(shape), "dtype": dtype})


def seqmix():
    """Sequential: Conv1D, Bidirectional(LSTM), TimeDistributed(Dense), LayerNormalization,
    SimpleRNN, Dropout (weightless between weighted layers), Dense."""
    fwd = rnn("LSTM", "forward_lstm", lstm_cell("lstm_cell", 3, 3), units=3, return_sequences=True)
    bwd = rnn("LSTM", "backward_lstm", lstm_cell("lstm_cell", 3, 3), units=3, return_sequences=True, go_backwards=True)
    td_dense = L("dense", "Dense", [V("kernel", (6, 2)), V("bias", (2,))])
    layers = [
        input_layer("input_layer", (6, 4)),
        L("conv1d", "Conv1D", [V("kernel", (2, 4, 3)), V("bias", (3,))], config={"filters": 3, "kernel_size": [2]}),
        L("bidirectional", "Bidirectional", subs=[("forward_layer", fwd), ("backward_layer", bwd)],
          config={"merge_mode": "concat", "layer": layer_cfg("LSTM", "forward_lstm", units=3, return_sequences=True),
                  "backward_layer": layer_cfg("LSTM", "backward_lstm", units=3, return_sequences=True, go_backwards=True)}),
        L("time_distributed", "TimeDistributed", subs=[("layer", td_dense)], config={"layer": layer_cfg("Dense", "dense", units=2)}),
        L("layer_normalization", "LayerNormalization", [V("gamma", (2,)), V("beta", (2,))], config={"axis": [-1]}),
        rnn("SimpleRNN", "simple_rnn", lstm_cell("simple_rnn_cell", 2, 3, "SimpleRNNCell", 1), units=3),
        L("dropout", "Dropout", config={"rate": 0.1}),
        L("dense_1", "Dense", [V("kernel", (3, 2)), V("bias", (2,))], config={"units": 2}),
    ]
    return L("sequential", "Sequential", layers=layers)


def attn():
    """Functional, non-default and unicode names: Embedding(mask_zero), MultiHeadAttention (rank-3
    EinsumDense kernels; weightless _softmax/_dropout_layer sub-objects), a Dense used twice,
    GroupNormalization, a float16 Dense."""
    d = lambda n, i, o: L(n, "EinsumDense", [V("kernel", (i, 2, 4) if n != "attention_output" else (2, 4, i)),
                                             V("bias", (2, 4) if n != "attention_output" else (i,))])
    mha = L("mha", "MultiHeadAttention",
            subs=[("query_dense", d("query", 8, 0)), ("key_dense", d("key", 8, 0)), ("value_dense", d("value", 8, 0)),
                  ("_softmax", L("softmax", "Softmax")), ("_dropout_layer", L("dropout", "Dropout")),
                  ("output_dense", d("attention_output", 8, 0))],
            config={"num_heads": 2, "key_dim": 4})
    layers = [
        input_layer("tokens", (5,), "int32"),
        L("tok_emb", "Embedding", [V("embeddings", (20, 8))], config={"input_dim": 20, "output_dim": 8, "mask_zero": True}),
        mha,
        L("shared_proj", "Dense", [V("kernel", (8, 8)), V("bias", (8,))], config={"units": 8}),
        L("add", "Add"),
        L("gn", "GroupNormalization", [V("gamma", (8,)), V("beta", (8,))], config={"groups": 2}),
        L("global_average_pooling1d", "GlobalAveragePooling1D"),
        L("kopf_\u00fc", "Dense", [V("kernel", (8, 3), "float16"), V("bias", (3,), "float16")], config={"units": 3, "_dtype": "float16"}),
    ]
    return L("attn_model", "Functional", layers=layers)


def convs():
    """Sequential: Conv2DTranspose, SeparableConv2D, DepthwiseConv2D, a frozen BatchNormalization
    (trainable=False), Flatten, Dense without bias."""
    layers = [
        input_layer("input_layer", (6, 6, 2)),
        L("conv2d_transpose", "Conv2DTranspose", [V("kernel", (3, 3, 2, 2)), V("bias", (2,))], config={"filters": 2}),
        L("separable_conv2d", "SeparableConv2D", [V("depthwise_kernel", (3, 3, 2, 1)), V("pointwise_kernel", (1, 1, 2, 3)), V("bias", (3,))],
          config={"filters": 3}),
        L("depthwise_conv2d", "DepthwiseConv2D", [V("kernel", (3, 3, 3, 1)), V("bias", (3,))], config={}),
        L("frozen_bn", "BatchNormalization", [V("gamma", (3,)), V("beta", (3,)), V("moving_mean", (3,), trainable=False),
                                              V("moving_variance", (3,), trainable=False)], trainable=False),
        L("flatten", "Flatten"),
        L("dense", "Dense", [V("kernel", (48, 2))], config={"units": 2, "use_bias": False}),
    ]
    return L("sequential", "Sequential", layers=layers)


def video():
    """Sequential: ConvLSTM2D (its cell ConvLSTMCell), Conv3D, GlobalAveragePooling3D, Dense."""
    cell = L("conv_lstm_cell", "ConvLSTMCell", [V("kernel", (3, 3, 2, 8)), V("recurrent_kernel", (3, 3, 2, 8)), V("bias", (8,))])
    layers = [
        input_layer("input_layer", (3, 6, 6, 2)),
        rnn("ConvLSTM2D", "conv_lstm2d", cell, filters=2, return_sequences=True),
        L("conv3d", "Conv3D", [V("kernel", (2, 2, 2, 2, 2)), V("bias", (2,))], config={"filters": 2}),
        L("global_average_pooling3d", "GlobalAveragePooling3D"),
        L("dense", "Dense", [V("kernel", (2, 1)), V("bias", (1,))], config={"units": 1}),
    ]
    return L("video", "Sequential", layers=layers)


def nested():
    """Sequential 'outer' > Functional 'mid' > Sequential 'inner' (no Input: built inside 'mid'),
    a custom class MyCounter (float32 and int64 variables in vars/0, vars/1) and Normalization
    (mean, variance, int64 count)."""
    inner = L("inner", "Sequential", layers=[L("dense", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4}),
                                             L("dense_1", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4})],
              has_input=False)
    counter = L("counter", "MyCounter", [V("scale", (4,)), V("hits", (), "int64", trainable=False)], module="my_layers",
                registered="Custom>MyCounter")
    UNKNOWN.update(id(v) for v in counter.vars)
    mid = L("mid", "Functional", layers=[
        input_layer("mid_in", (4,)),
        L("d_in", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4}),
        inner,
        counter,
        L("d_out", "Dense", [V("kernel", (4, 3)), V("bias", (3,))], config={"units": 3}),
    ])
    layers = [
        input_layer("input_layer", (4,)),
        L("normalization", "Normalization", [V("mean", (4,), trainable=False), V("variance", (4,), trainable=False),
                                             V("count", (), "int64", trainable=False)], config={"axis": -1}),
        mid,
        L("top", "Dense", [V("kernel", (3, 2)), V("bias", (2,))], config={"units": 2}),
    ]
    return L("outer", "Sequential", layers=layers)


def encoder():
    """Functional 'model' > Functional 'encoder' (Input, LSTM) > Dense; and Sequential 'deep' >
    Sequential 'mid' > Functional 'inner' > frozen Dense: a Functional builds its layers in no
    name scope, so the legacy weight names skip the models between ('lstm/lstm_cell/kernel' in the
    group 'encoder', 'dense_1/kernel' in the group 'mid')."""
    enc = L("encoder", "Functional", layers=[input_layer("enc_in", (5, 3)),
                                             rnn("LSTM", "lstm", lstm_cell("lstm_cell", 3, 2), units=2)])
    inner = L("inner", "Functional", layers=[input_layer("inner_in", (4,)),
                                             L("dense_1", "Dense", [V("kernel", (4, 2)), V("bias", (2,))], config={"units": 2},
                                               trainable=False)])
    mid = L("mid", "Sequential", layers=[L("scale", "Dense", [V("kernel", (2, 4)), V("bias", (4,))], config={"units": 4}),
                                         inner], has_input=False)
    return L("model", "Functional", layers=[input_layer("model_in", (5, 3)), enc, mid,
                                            L("dense", "Dense", [V("kernel", (2, 1)), V("bias", (1,))], config={"units": 1})])


def custom_state():
    """Sequential > Sequential 'block' [a custom class with a trainable and a non-trainable
    variable of one size, LayerNormalization of that size]: the store does not say which of the
    custom layer's variables is frozen, its optimizer's slots do; Keras's legacy layout lists it last."""
    gate = L("gate", "MyGate", [V("w", (3,)), V("s", (3,), trainable=False)], module="my_layers", registered="Custom>MyGate")
    UNKNOWN.update(id(v) for v in gate.vars)
    block = L("block", "Sequential", layers=[gate, L("layer_normalization", "LayerNormalization",
                                                     [V("gamma", (3,)), V("beta", (3,))], config={"axis": -1})],
              has_input=False)
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (3,)), block,
                                                 L("dense", "Dense", [V("kernel", (3, 2)), V("bias", (2,))], config={"units": 2})])


def k2mix(expected):
    """tf.keras 2.10 full .h5 and weights .h5: Normalization (int64 count), Bidirectional(LSTM),
    TimeDistributed(Dense), SimpleRNN, a Dense named 'head/out'; optimizer_v2 RMSprop(momentum) weights (iter, hyper
    parameters, then every variable's `rms`, then every `momentum`)."""
    m = L("sequential", "Sequential", layers=[
        input_layer("input_1", (5, 3)),
        L("normalization", "Normalization", [V("mean", (3,), trainable=False), V("variance", (3,), trainable=False),
                                             V("count", (), "int64", trainable=False)]),
        L("bidirectional", "Bidirectional", subs=[("forward_layer", L("forward_lstm", "LSTM", subs=[("cell", lstm_cell("lstm_cell", 3, 2))])),
                                                  ("backward_layer", L("backward_lstm", "LSTM", subs=[("cell", lstm_cell("lstm_cell", 3, 2))]))],
          config={"merge_mode": "concat", "layer": {"class_name": "LSTM", "config": {"name": "lstm", "units": 2}}}),
        L("time_distributed", "TimeDistributed", subs=[("layer", L("dense", "Dense", [V("kernel", (4, 2)), V("bias", (2,))]))],
          config={"layer": {"class_name": "Dense", "config": {"name": "dense", "units": 2}}}),
        rnn("SimpleRNN", "simple_rnn", lstm_cell("simple_rnn_cell", 2, 2, "SimpleRNNCell", 1), units=2),
        # tf.keras 2 took '/' in layer names: its group is model_weights/head/out
        L("head/out", "Dense", [V("kernel", (2, 1)), V("bias", (1,))], config={"units": 1}),
    ])
    # tf.keras 2 weight names: layer name scopes, no model prefix; TimeDistributed's inner layer
    # is built in the wrapper's scope under no name of its own
    for c in m.layers:
        if c.cls == "TimeDistributed":
            for v in c.all_vars():
                v.k2name = "time_distributed/%s:0" % v.n
            continue

        def walk(l, scope):
            for v in l.vars:
                v.k2name = "%s%s/%s:0" % (scope, l.name, v.n)
            for _, s in l.subs:
                walk(s, scope + l.name + "/")
        walk(c, "")
    for c in m.layers:
        for v in c.all_vars():
            v.path = v.k2name  # owners are named by it in the expected listing
    tr = [v for c in m.layers for v in c.weights() if v.tr]
    opt = [("RMSprop/iter:0", np.array(7, np.int64), None)]
    opt += [("RMSprop/%s:0" % h, np.array(x, np.float32), None) for h, x in
            [("decay", 0.0), ("learning_rate", 0.001), ("momentum", 0.9), ("rho", 0.9)]]
    for slot in ("rms", "momentum"):
        opt += [("RMSprop/%s/%s:0" % (v.k2name[:-2], slot), values(v.shape, v.dtype), v) for v in tr]
    cfg = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5, 3], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}}] + [
        {"class_name": c.cls, "config": dict({"name": c.name, "trainable": True, "dtype": "float32"}, **c.config)} for c in m.layers[1:]]}}
    tc = {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
          "weighted_metrics": None, "loss_weights": None,
          "optimizer_config": {"class_name": "RMSprop", "config": {"name": "RMSprop", "learning_rate": 0.001, "decay": 0.0, "rho": 0.9,
                                                                   "momentum": 0.9, "epsilon": 1e-07, "centered": False}}}
    with h5py.File(os.path.join(OUT, "k2mix.h5"), "w") as h5:
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["keras_version"] = "2.10.0"
        h5.attrs["model_config"] = json.dumps(cfg).encode()
        h5.attrs["training_config"] = json.dumps(tc).encode()
        recs = write_legacy(h5.create_group("model_weights"), "/model_weights", m, k2=True, version="2.10.0")
        h5["model_weights"].attrs["keras_version"] = b"2.10.0"
        orecs = write_legacy_optimizer(h5, opt)
    base = {"model_class": "Sequential", "model_name": "sequential", "params": params(m),
            "layers": [[c.name, c.cls] for c in m.layers[1:]]}
    expected["k2mix.h5"] = dict(base, layout="h5", weights=recs, optimizer_weights=orecs)
    with h5py.File(os.path.join(OUT, "k2mix.legacy_weights.h5"), "w") as h5:
        recs = write_legacy(h5, "", m, k2=True, version="2.10.0")
    expected["k2mix.legacy_weights.h5"] = dict(base, layout="legacy_weights.h5", model_name=None, weights=knowable(recs, m, "legacy"),
                                               optimizer_weights=[])
    # what Keras 3 would write for this model and optimizer state (kcb-restore k2mix.h5 ->
    # .weights.h5): Keras 3 paths, the store layout, RMSprop's iteration, learning rate, every
    # velocity then every momentum (optimizer_v2's other hyperparameters have no Keras 3 variable)
    model_paths(m)
    by_k2 = {v.k2name: v for c in m.layers for v in c.all_vars()}
    slots = [(n, d, o) for n, d, o in opt if o is not None]
    store_opt = [("rmsprop/iteration", opt[0][1], None), ("rmsprop/learning_rate", opt[2][1], None)]
    for slot in ("rms", "momentum"):
        for n, d, o in slots:
            if n.endswith("/%s:0" % slot):
                store_opt.append(("rmsprop/%s_%s" % (o.path.replace("/", "_"), "velocity" if slot == "rms" else "momentum"), d, o))
    with h5py.File(io.BytesIO(), "w") as h5:
        srecs, sorecs = write_store(h5, m, store_opt)
    expected["k2mix.h5>weights.h5"] = dict(base, layout="weights.h5", weights=knowable(srecs, m, "store"), optimizer_weights=sorecs)
    assert len(by_k2) == len(srecs)


def mixed():
    """Sequential under the mixed_float16 policy (float32 variables), compiled: the optimizer is a
    LossScaleOptimizer around Adam."""
    layers = [
        input_layer("input_layer", (5,)),
        L("dense", "Dense", [V("kernel", (5, 4)), V("bias", (4,))], config={"units": 4, "_dtype": "mixed_float16"}),
        L("dense_1", "Dense", [V("kernel", (4, 2)), V("bias", (2,))], config={"units": 2, "_dtype": "mixed_float16"}),
    ]
    return L("sequential", "Sequential", layers=layers)


def dense_mlp():
    """Sequential 5 -> relu 4 -> 2."""
    layers = [
        input_layer("input_layer", (5,)),
        L("dense", "Dense", [V("kernel", (5, 4)), V("bias", (4,))], config={"units": 4, "activation": "relu"}),
        L("dense_1", "Dense", [V("kernel", (4, 2)), V("bias", (2,))], config={"units": 2}),
    ]
    return L("sequential", "Sequential", layers=layers)


def block():
    """Functional with a custom layer holding two Dense sub-layers as attributes (`proj_a`, `proj_b`,
    named 'expand' and 'squeeze') and an own variable: a store files them under the attribute names,
    a legacy .h5 under the layer names only, so the legacy file cannot become a store."""
    expand = L("expand", "Dense", [V("kernel", (4, 6)), V("bias", (6,))])
    squeeze = L("squeeze", "Dense", [V("kernel", (6, 4)), V("bias", (4,))])
    res = L("res_block", "ResidualBlock", [V("gate", (4,))], subs=[("proj_a", expand), ("proj_b", squeeze)],
            module="my_blocks", registered="Custom>ResidualBlock")
    UNKNOWN.update(id(v) for v in res.all_vars())  # its sub-layers' classes are not in the file either
    layers = [input_layer("x", (4,)), res, L("out", "Dense", [V("kernel", (4, 1)), V("bias", (1,))], config={"units": 1})]
    return L("functional", "Functional", layers=layers)


def subcls(expected):
    """A subclassed model 'my_model' (a class of its own, not Sequential or Functional) with a
    variable of its own and three Dense layers assigned as attributes encoder, head, proj. Keras
    walks a subclassed model's attributes in sorted order, `layers` (model.layers) among them:
    encoder and head sort before "layers" and are saved under their attribute names, proj in
    `layers` as dense_2 (the container's count includes the layers saved already). The model's
    own variable is in the root `vars`. Layers are built in the model's scope when it is called."""
    temp = V("temperature", ())
    UNKNOWN.add(id(temp))
    enc, head, proj = (L(n, "Dense", [V("kernel", (3, 3)), V("bias", (3,))]) for n in ("dense", "dense_1", "dense_2"))
    for l in (enc, head, proj):
        assign_paths(l, "my_model/")
    temp.path = "my_model/temperature"
    weights = [temp] + enc.vars + head.vars + proj.vars
    opt = optimizer_vars("adam", weights, np.int64)
    recs_by_id = {}
    with h5py.File(os.path.join(OUT, "subcls.weights.h5"), "w") as h5:
        g = h5.create_group("vars")
        g.attrs["name"] = "my_model"
        g["0"] = temp.data
        WHERE[id(temp)] = "/vars/0"
        for path, l in (("encoder", enc), ("head", head), ("layers/dense_2", proj)):
            g = h5.create_group(path + "/vars")
            g.attrs["name"] = l.name
            for i, v in enumerate(l.vars):
                g[str(i)] = v.data
                WHERE[id(v)] = "/%s/vars/%d" % (path, i)
        g = h5.create_group("optimizer/vars")
        g.attrs["name"] = "adam"
        orecs = []
        for i, (name, data, owner) in enumerate(opt):
            g[str(i)] = data
            orecs.append(record("/optimizer/vars/%d" % i, name if name not in UNKNOWN_SLOTS else None, data, False, owner, True))
    recs = [record(WHERE[id(v)], v.path if id(v) not in UNKNOWN else None, v.data, v.tr) for v in weights]
    n = sum(int(np.prod(v.shape)) for v in weights)
    expected["subcls.weights.h5"] = {"model_class": "", "model_name": "my_model", "layout": "weights.h5",
                                     "params": {"total": n, "trainable": n, "non_trainable": 0}, "layers": None,
                                     "weights": recs, "optimizer_weights": orecs}


def main():
    expected = {}
    write_keras3("seqmix", seqmix(), "rmsprop", np.int64, expected)
    write_keras3("attn", attn(), "adamw", np.int32, expected)
    write_keras3("convs", convs(), "sgd_ema", np.int64, expected)
    write_keras3("video", video(), "nadam_schedule", np.int32, expected)
    write_keras3("nested", nested(), "adagrad", np.int64, expected)
    write_keras3("mixed", mixed(), "lso_adam", np.int64, expected)
    write_keras3("block", block(), "sgd_1", np.int64, expected)
    k2mix(expected)
    subcls(expected)
    # one optimizer under the names Keras gives it, on a model kcb trains
    for opt in ("rmsprop", "rmsprop_k314", "adamw_2", "sgd_k314", "adam_1"):
        write_keras3("dense_" + opt, dense_mlp(), opt, np.int64, expected)
    write_keras3("encoder", encoder(), "adam", np.int64, expected)
    write_keras3("custom_state", custom_state(), "adam", np.int64, expected)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"files": expected}, f, indent=None, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
