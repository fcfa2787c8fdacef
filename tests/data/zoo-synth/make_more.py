#!/usr/bin/python3
"""More checkpoints in Keras 3.15.1's layouts (h5py + zipfile), built on make.py's writers:
layer names Keras allows and kcb must keep (':' inside, unicode, spaces), frozen layers inside a
nested model, more optimizers. Usage: make_more.py OUTDIR [MODEL...]"""
import io, json, os, sys, zipfile
import numpy as np, h5py
OUTDIR = sys.argv[1]  # make.py reads its output directory from sys.argv[1] too
os.makedirs(OUTDIR, exist_ok=True)
import make as S
from make import L, V, input_layer, rnn, lstm_cell, values, snake

LIMIT = 64512


def save_attr(group, name, data):
    """Keras's save_attributes_to_hdf5_group."""
    if not data:
        group.attrs[name] = np.zeros((0,), np.float64)  # h5py's value for []: Keras passes [] -> float64 (0,)
        return
    npy = np.asarray(data)
    k = 1
    chunks = np.array_split(npy, k)
    while any(x.nbytes > LIMIT for x in chunks):
        k += 1
        chunks = np.array_split(npy, k)
    if k > 1:
        for i, c in enumerate(chunks):
            group.attrs["%s%d" % (name, i)] = c
    else:
        group.attrs[name] = data


def write_legacy(root, model):
    layers = S.store_layers(model)
    save_attr(root, "layer_names", [c.name.encode("utf8") for c in layers])
    root.attrs["backend"] = b"tensorflow"
    root.attrs["keras_version"] = b"3.15.1"
    for c in sorted(layers, key=lambda c: c.name):
        g = root.create_group(c.name)
        ws = [v for v in c.weights() if v.tr] + [v for v in c.weights() if not v.tr]
        save_attr(g, "weight_names", [v.path.encode("utf8") for v in ws])
        for v in ws:
            g.create_dataset(v.path, data=v.data)
    g = root.create_group("top_level_model_weights")
    save_attr(g, "weight_names", [])


def write_legacy_opt(h5, opt_vars):
    g = h5.create_group("optimizer_weights")
    save_attr(g, "weight_names", [n.encode("utf8") for n, _, _ in opt_vars])
    for n, d, _ in opt_vars:
        g.create_dataset(n, data=d)


def slots_grouped(name, groups, trainable):
    out = []
    for group in groups:
        for v in trainable:
            for slot in group:
                d = values(v.shape, v.dtype)
                if slot in ("velocity", "accumulator", "norm", "accumulated_grad", "accumulated_delta_var"):
                    d = np.abs(d)
                out.append(("%s/%s_%s" % (name, v.path.replace("/", "_"), slot), d, v))
    return out


def opt_spec(kind, trainable):
    """-> (class_name, config, [(path, data, owner)], inner or None)"""
    head = lambda n, lr=True: [(n + "/iteration", np.array(3, np.int64), None)] + (
        [(n + "/learning_rate", np.array(0.01, np.float32), None)] if lr else [])
    if kind == "adafactor":
        n = "adafactor"
        out = head(n)
        for v in trainable:
            if len(v.shape) < 2:
                out += [(n + "/" + v.n, np.array(0.0, np.float32), None), (n + "/" + v.n, np.array(0.0, np.float32), None)]
            else:
                out += [(n + "/" + v.n, np.abs(values(v.shape[:-1], "float32")), v),
                        (n + "/" + v.n, np.abs(values(v.shape[:-2] + (v.shape[-1],), "float32")), v)]
            out.append(("%s/%s_velocity" % (n, v.path.replace("/", "_")), np.abs(values(v.shape, v.dtype)), v))
        return "Adafactor", {"name": n, "learning_rate": 0.01, "beta_2_decay": -0.8}, out, None
    if kind == "muon":
        n = "muon"
        out = head(n)
        for v in trainable:
            out.append(("%s/%s_momentum" % (n, v.path.replace("/", "_")), values(v.shape, v.dtype), v))
            if len(v.shape) != 2 or "embedding" in v.path.lower():
                out.append(("%s/%s_velocity" % (n, v.path.replace("/", "_")), np.abs(values(v.shape, v.dtype)), v))
        return "Muon", {"name": n, "learning_rate": 0.01}, out, None
    table = {"ftrl": ("Ftrl", [["accumulator", "linear"]]), "lion": ("Lion", [["momentum"]]),
             "adadelta": ("Adadelta", [["accumulated_grad", "accumulated_delta_var"]]),
             "lamb": ("Lamb", [["momentum", "velocity"]]), "adamax": ("Adamax", [["momentum", "norm"]]),
             "schedule_free_adam_w": ("ScheduleFreeAdamW", [["momentum", "velocity"]]),
             "adam": ("Adam", [["momentum", "velocity"]]),
             "adam_gacc": ("Adam", [["gradient_accumulator"], ["momentum", "velocity"]]),
             "adam_ema_gacc": ("Adam", [["average"], ["gradient_accumulator"], ["momentum", "velocity"]]),
             "sgd": ("SGD", [["momentum"]]),
             "rmsprop_c": ("RMSprop", [["velocity"], ["momentum"], ["average_gradient"]]),
             "adam_ams": ("Adam", [["momentum", "velocity"], ["velocity_hat"]]),
             }
    if kind.startswith("lso_"):
        cls, cfg, inner, _ = opt_spec(kind[4:], trainable)
        own = [("loss_scale_optimizer/iteration", np.array(3, np.int64), None),
               ("loss_scale_optimizer/learning_rate", np.array(0.0, np.float32), None),
               ("loss_scale_optimizer/step_counter", np.array(3, np.int64), None),
               ("loss_scale_optimizer/dynamic_scale", np.array(32768.0, np.float32), None)]
        return "LossScaleOptimizer", {"name": "loss_scale_optimizer", "learning_rate": 0.0, "initial_scale": 32768.0,
                                      "dynamic_growth_steps": 2000,
                                      "inner_optimizer": {"module": "keras.optimizers", "class_name": cls, "config": cfg,
                                                          "registered_name": None}}, own + inner, inner
    cls, groups = table[kind]
    n = snake(cls)
    cfg = {"name": n, "learning_rate": 0.01}
    if kind == "sgd":
        cfg["momentum"] = 0.9
    if kind == "rmsprop_c":
        cfg.update(momentum=0.9, centered=True)
    if kind == "adam_ams":
        cfg["amsgrad"] = True
    if "gacc" in kind:
        cfg["gradient_accumulation_steps"] = 2
    if "ema" in kind:
        cfg.update(use_ema=True, ema_momentum=0.99)
    return cls, cfg, head(n) + slots_grouped(n, groups, trainable), None


def write_all(tag, model, kind, fix_cfg=None):
    S.model_paths(model)
    trainable = [v for c in model.layers for v in c.weights() if v.tr]
    cls, ocfg, opt_vars, inner = opt_spec(kind, trainable)
    with h5py.File(os.path.join(OUTDIR, tag + ".weights.h5"), "w") as h5:
        S.write_store(h5, model, opt_vars, inner)
    cfg = archive_config(model, cls, ocfg, fix_cfg)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        S.write_store(h5, model, opt_vars, inner)
    with zipfile.ZipFile(os.path.join(OUTDIR, tag + ".keras"), "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-12-03@10:00:00"}))
        z.writestr("config.json", json.dumps(cfg))
        z.writestr("model.weights.h5", buf.getvalue())
    write_legacy_files(tag, model, cfg, cls, ocfg, opt_vars)
    return opt_vars


def archive_config(model, cls, ocfg, fix_cfg=None, build_config=True):
    """config.json of a model compiled with optimizer `cls` (its config ocfg), as Keras 3 writes it."""
    cfg = S.entry(model, True)
    cfg["module"] = "keras" if model.cls == "Sequential" else "keras.src.models.functional"
    if fix_cfg:
        fix_cfg(cfg)
    if build_config:
        cfg["build_config"] = {"input_shape": None}
    cfg["compile_config"] = {"optimizer": {"module": "keras.optimizers", "class_name": cls, "config": ocfg, "registered_name": None},
                             "loss": "mean_squared_error", "loss_weights": None, "metrics": None,
                             "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    return cfg


def write_legacy_files(tag, model, cfg, cls, ocfg, opt_vars):
    """The full .h5 (Keras 3's legacy writer) and the weights-only legacy file of a model."""
    dup = len({n for n, _, _ in opt_vars}) != len(opt_vars)
    with h5py.File(os.path.join(OUTDIR, tag + ".h5"), "w") as h5:
        h5.attrs["backend"] = "tensorflow"
        h5.attrs["keras_version"] = "3.15.1"
        lcfg = S.legacy(cfg)
        lcfg.pop("build_config", None)
        lcfg.pop("compile_config", None)
        h5.attrs["model_config"] = json.dumps(lcfg).encode()
        tc = {k: v for k, v in cfg["compile_config"].items() if k != "optimizer"}
        tc["optimizer_config"] = {"class_name": cls, "config": ocfg}
        h5.attrs["training_config"] = json.dumps(tc).encode()
        write_legacy(h5.create_group("model_weights"), model)
        if not dup:
            write_legacy_opt(h5, opt_vars)
        else:
            print(tag, ": duplicate optimizer weight names: Keras's .h5 writer would fail; .h5 written without optimizer")
    # legacy weights-only (Keras 2 save_weights layout = model_weights at root)
    with h5py.File(os.path.join(OUTDIR, tag + ".legacy_weights.h5"), "w") as h5:
        write_legacy(h5, model)


# ---- models ------------------------------------------------------------------------------

def gru_cell(name, n_in, u):
    return L(name, "GRUCell", [V("kernel", (n_in, 3 * u)), V("recurrent_kernel", (u, 3 * u)), V("bias", (2, 3 * u))])


def multio():
    shared = L("shared", "Dense", [V("kernel", (4, 5)), V("bias", (5,))], config={"units": 5})
    layers = [input_layer("in_a", (4,)), input_layer("in_b", (4,)), shared,
              L("concatenate", "Concatenate", config={"axis": -1}),
              L("dropout", "Dropout", config={"rate": 0.2}),
              L("head_reg", "Dense", [V("kernel", (10, 1))], config={"units": 1, "use_bias": False}),
              L("head_cls", "Dense", [V("kernel", (10, 3)), V("bias", (3,))], config={"units": 3}),
              L("activation", "Activation", config={"activation": "softmax"})]
    return L("two_heads", "Functional", layers=layers)


def fix_multio(cfg):
    c = cfg["config"]
    c["output_layers"] = [["head_reg", 0, 0], ["activation", 0, 0]]


def rnnmix():
    fwd = rnn("GRU", "forward_gru", gru_cell("gru_cell", 6, 4), units=4, return_sequences=True)
    bwd = rnn("GRU", "backward_gru", gru_cell("gru_cell", 6, 4), units=4, return_sequences=True, go_backwards=True)
    layers = [input_layer("input_layer", (7,), "int32"),
              L("embedding", "Embedding", [V("embeddings", (30, 6))], config={"input_dim": 30, "output_dim": 6}),
              L("bidirectional", "Bidirectional", subs=[("forward_layer", fwd), ("backward_layer", bwd)],
                config={"merge_mode": "concat", "layer": S.layer_cfg("GRU", "forward_gru", units=4, return_sequences=True),
                        "backward_layer": S.layer_cfg("GRU", "backward_gru", units=4, return_sequences=True, go_backwards=True)}),
              rnn("GRU", "gru", gru_cell("gru_cell", 8, 3), units=3, return_sequences=True),
              rnn("SimpleRNN", "simple_rnn", L("simple_rnn_cell", "SimpleRNNCell", [V("kernel", (3, 2)), V("recurrent_kernel", (2, 2)), V("bias", (2,))]), units=2),
              L("dense", "Dense", [V("kernel", (2, 1)), V("bias", (1,))], config={"units": 1})]
    return L("sequential", "Sequential", layers=layers)


def names():
    long = "l" * 300
    layers = [input_layer("eingabe ü", (4,)),
              L("my dense", "Dense", [V("kernel", (4, 3)), V("bias", (3,))], config={"units": 3}),
              L("Ω-层", "Dense", [V("kernel", (3, 3)), V("bias", (3,))], config={"units": 3}),
              L(long, "Dense", [V("kernel", (3, 2)), V("bias", (2,))], config={"units": 2}),
              L("dense.v2:x", "Dense", [V("kernel", (2, 2)), V("bias", (2,))], config={"units": 2})]
    return L("mödel x", "Functional", layers=layers)


def mlp(n=2, name="sequential"):
    layers = [input_layer("input_layer", (5,))]
    for i in range(n):
        layers.append(L("dense" if i == 0 else "dense_%d" % i, "Dense", [V("kernel", (5 if i == 0 else 4, 4)), V("bias", (4,))], config={"units": 4}))
    return L(name, "Sequential", layers=layers)


def deep(n):
    layers = [input_layer("input_layer", (1,))]
    for i in range(n):
        layers.append(L("dense" if i == 0 else "dense_%d" % i, "Dense", [V("kernel", (1, 1)), V("bias", (1,))], config={"units": 1}))
    return L("sequential", "Sequential", layers=layers)


def bn_mlp():
    layers = [input_layer("input_layer", (5,)),
              L("dense", "Dense", [V("kernel", (5, 4))], config={"units": 4, "use_bias": False}),
              L("batch_normalization", "BatchNormalization", [V("gamma", (4,)), V("beta", (4,)), V("moving_mean", (4,), trainable=False),
                                                              V("moving_variance", (4,), trainable=False)]),
              L("dense_1", "Dense", [V("kernel", (4, 2)), V("bias", (2,))], config={"units": 2})]
    return L("sequential", "Sequential", layers=layers)


MODELS = {
    "multio_adafactor": lambda: write_all("multio_adafactor", multio(), "adafactor", fix_multio),
    "multio_ftrl": lambda: write_all("multio_ftrl", multio(), "ftrl", fix_multio),
    "rnnmix_ftrl": lambda: write_all("rnnmix_ftrl", rnnmix(), "ftrl"),
    "names_adadelta": lambda: write_all("names_adadelta", names(), "adadelta"),
    "mlp_lion": lambda: write_all("mlp_lion", mlp(), "lion"),
    "mlp_lamb": lambda: write_all("mlp_lamb", mlp(), "lamb"),
    "mlp_muon": lambda: write_all("mlp_muon", mlp(), "muon"),
    "mlp_sfadamw": lambda: write_all("mlp_sfadamw", mlp(), "schedule_free_adam_w"),
    "mlp_gacc": lambda: write_all("mlp_gacc", mlp(), "adam_gacc"),
    "mlp_emagacc": lambda: write_all("mlp_emagacc", mlp(), "adam_ema_gacc"),
    "mlp_lsosgd": lambda: write_all("mlp_lsosgd", mlp(), "lso_sgd"),
    "mlp_amsgrad": lambda: write_all("mlp_amsgrad", mlp(), "adam_ams"),
    "bn_rmsc": lambda: write_all("bn_rmsc", bn_mlp(), "rmsprop_c"),
    "bn_adamax": lambda: write_all("bn_adamax", bn_mlp(), "adamax"),
    "deep": lambda: write_all("deep", deep(int(os.environ.get("DEEP", "7000"))), "lion"),
}

def frozen():
    inner = L("inner", "Sequential", layers=[
        L("a", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4}, trainable=False),
        L("bn", "BatchNormalization", [V("gamma", (4,)), V("beta", (4,)), V("moving_mean", (4,), trainable=False),
                                        V("moving_variance", (4,), trainable=False)]),
        L("b", "Dense", [V("kernel", (4, 3)), V("bias", (3,))], config={"units": 3})], has_input=False)
    layers = [input_layer("input_layer", (5,)),
              L("d0", "Dense", [V("kernel", (5, 4)), V("bias", (4,))], config={"units": 4}),
              inner,
              L("bn_top", "BatchNormalization", [V("gamma", (3,)), V("beta", (3,)), V("moving_mean", (3,), trainable=False),
                                                 V("moving_variance", (3,), trainable=False)], trainable=False),
              L("out", "Dense", [V("kernel", (3, 2)), V("bias", (2,))], config={"units": 2})]
    return L("sequential", "Sequential", layers=layers)


MODELS["frozen_adam"] = lambda: write_all("frozen_adam", frozen(), "adam")
MODELS["frozen_sgd"] = lambda: write_all("frozen_sgd", frozen(), "sgd")
def finetune():
    """Functional 'classifier' with a nested base Sequential whose first layer is frozen
    (Keras's fine-tuning recipe: base.trainable = True; base.layers[0].trainable = False)."""
    base = L("base", "Sequential", layers=[
        L("a", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4}, trainable=False),
        L("c", "Dense", [V("kernel", (4, 4)), V("bias", (4,))], config={"units": 4})], has_input=False)
    layers = [input_layer("x", (4,)), base, L("head", "Dense", [V("kernel", (4, 1)), V("bias", (1,))], config={"units": 1})]
    return L("classifier", "Functional", layers=layers)


MODELS["frozen_finetune"] = lambda: write_all("frozen_finetune", finetune(), "adam")

def norm_model(norm):
    def dense(name, i, o):
        return L(name, "Dense", [V("kernel", (i, o)), V("bias", (o,))], config={"units": o})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4), norm, dense("dense_1", 4, 2)])


def bn_renorm():
    """BatchNormalization(renorm=True): three more statistics after the moving ones."""
    stats = [V(n, (4,), trainable=False) for n in ("moving_mean", "moving_variance", "moving_stddev", "renorm_mean", "renorm_stddev")]
    return norm_model(L("batch_normalization", "BatchNormalization", [V("gamma", (4,)), V("beta", (4,))] + stats,
                        config={"renorm": True, "renorm_clipping": {}, "renorm_momentum": 0.99}))


def ln_rms():
    """LayerNormalization(rms_scaling=True): gamma alone, whatever scale and center say."""
    return norm_model(L("layer_normalization", "LayerNormalization", [V("gamma", (4,))],
                        config={"rms_scaling": True, "scale": False, "center": True, "axis": [-1]}))


MODELS["bn_renorm"] = lambda: write_all("bn_renorm", bn_renorm(), "adam")
MODELS["ln_rms"] = lambda: write_all("ln_rms", ln_rms(), "adam")

if __name__ == "__main__":
    which = sys.argv[2:] or [k for k in MODELS if k != "deep"]
    for k in which:
        MODELS[k]()
        print("wrote", k)
