#!/usr/bin/python3
"""Keras 3.15.1 layouts for what make.py and make_more.py do not write: lists of a layer's
sub-layers (Keras's _save_container_state, items named in list order), sub-layers tracked in an
order the layer chose, bfloat16 and keyed variables. Built on make.py's writers, which it extends.
Usage: make_lists.py OUTDIR [MODEL...]"""
import io, json, os, sys, zipfile
import numpy as np, h5py
OUTDIR = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make as S
import make_more as M
from make import L, V, flat_subs, input_layer, snake

def attr_key(a):
    return "~" + a if a.startswith("_") else a


def write_store(h5, model, opt_vars, inner=None):
    def save(l, path):
        g = h5.create_group(path + "/vars") if path else h5.create_group("vars")
        g.attrs["name"] = l.name
        for i, v in enumerate(l.vars):
            if v.dtype == "bfloat16":
                ds = g.create_dataset(str(i), data=bf16(v.shape))  # opaque 2-byte, as Keras/h5py write ml_dtypes bf16
                ds.attrs["dtype"] = "bfloat16"
            elif v.n == "idf_weights":
                g["idf_weights"] = v.data
            else:
                g[str(i)] = v.data
        if l.layers is not None:
            container(S.store_layers(l), path + "/layers")
        for attr, s in sorted(l.subs, key=lambda a: attr_key(a[0])):
            if isinstance(s, list):
                container(s, path + "/" + attr)
            else:
                save(s, path + "/" + attr)

    def container(items, path):
        used = {}
        for c in items:
            base = snake(c.cls)
            k = used.get(base, 0)
            used[base] = k + 1
            save(c, "%s/%s" % (path, base if k == 0 else "%s_%d" % (base, k)))

    if model.vars or model.cls not in ("Sequential", "Functional"):
        pass
    root = h5.create_group("vars")
    root.attrs["name"] = model.name
    for i, v in enumerate(model.vars):
        root[str(i)] = v.data
    if model.cls in ("Sequential", "Functional"):
        container(S.store_layers(model), "layers")
    else:
        for attr, s in sorted(model.subs, key=lambda a: attr_key(a[0])):
            if isinstance(s, list): container(s, attr)
            else: save(s, attr)
    if opt_vars:
        g = h5.create_group("optimizer/vars")
        g.attrs["name"] = opt_vars[0][0].split("/")[0]
        for i, (name, data, owner) in enumerate(opt_vars):
            g[str(i)] = data
    return None, None
S.write_store = write_store

def bf16(shape):
    a = S.values(shape, "float32")
    u = (a.view(np.uint32) >> 16).astype(np.uint16)
    return u.view(np.dtype("V2"))

def write_all(tag, model, kind, fix_cfg=None, zmembers=(), zip64=False, build_config=True, legacy=True, unstored=None):
    """unstored(trainable): the model's trainable variables when some are not in the store."""
    S.model_paths(model)
    trainable = [v for c in model.layers for v in c.weights() if v.tr] if model.layers is not None else [v for v in model.all_vars() if v.tr]
    if unstored:
        trainable = unstored(trainable)
    cls, ocfg, opt_vars, inner = M.opt_spec(kind, trainable)
    with h5py.File(os.path.join(OUTDIR, tag + ".weights.h5"), "w") as h5:
        write_store(h5, model, opt_vars, inner)
    cfg = M.archive_config(model, cls, ocfg, fix_cfg, build_config)
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        write_store(h5, model, opt_vars, inner)
    with zipfile.ZipFile(os.path.join(OUTDIR, tag + ".keras"), "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-12-03@10:00:00"}))
        z.writestr("config.json", json.dumps(cfg))
        if zip64:
            with z.open("model.weights.h5", "w", force_zip64=True) as w:
                w.write(buf.getvalue())
        else:
            z.writestr("model.weights.h5", buf.getvalue())
        for n, d in zmembers:
            z.writestr(n, d)
    if not legacy:
        return cfg
    M.write_legacy_files(tag, model, cfg, cls, ocfg, opt_vars)
    return cfg

def dense(name, i, o, bias=True, **kw):
    return L(name, "Dense", [V("kernel", (i, o))] + ([V("bias", (o,))] if bias else []), config=dict({"units": o, "use_bias": bias}, **kw))

# ---------------------------------------------------------------- models
def bnrenorm():
    bn = L("batch_normalization", "BatchNormalization",
           [V("gamma", (4,)), V("beta", (4,)), V("moving_mean", (4,), trainable=False), V("moving_variance", (4,), trainable=False),
            V("moving_stddev", (4,), trainable=False), V("renorm_mean", (4,), trainable=False), V("renorm_stddev", (4,), trainable=False)],
           config={"renorm": True, "renorm_clipping": {}, "renorm_momentum": 0.99, "synchronized": True})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4), bn, dense("dense_1", 4, 2)])

def bnrenorm_noscale():
    bn = L("batch_normalization", "BatchNormalization",
           [V("beta", (4,)), V("moving_mean", (4,), trainable=False), V("moving_variance", (4,), trainable=False),
            V("moving_stddev", (4,), trainable=False), V("renorm_mean", (4,), trainable=False), V("renorm_stddev", (4,), trainable=False)],
           config={"renorm": True, "scale": False})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4), bn, dense("dense_1", 4, 2)])

def lnrms():
    ln = L("layer_normalization", "LayerNormalization", [V("gamma", (4,))], config={"rms_scaling": True, "scale": False, "center": True, "axis": [-1]})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4), ln, dense("dense_1", 4, 2)])

def stack():
    blocks = [dense("dense_%d" % i if i else "dense", 3 + i, 4 + i) for i in range(12)]
    st = L("stack", "MyStack", [], subs=[("blocks", blocks)], module="my_layers", registered="Custom>MyStack")
    return L("functional", "Functional", layers=[input_layer("input_layer", (3,)), st, dense("out", 15, 1)])

def tblock():
    norm = L("layer_normalization", "LayerNormalization", [V("gamma", (4,)), V("beta", (4,))])
    attn = dense("attn_proj", 4, 8)
    ffn = dense("ffn_proj", 8, 4)
    blk = L("tblock", "TBlock", [], subs=[("norm", norm), ("attn", attn), ("ffn", ffn)], module="my_layers", registered="Custom>TBlock")
    return L("functional", "Functional", layers=[input_layer("input_layer", (4,)), blk, dense("out", 4, 1)])

def gqa():
    ed = lambda n, shp, bshp: L(n, "EinsumDense", [V("kernel", shp), V("bias", bshp)])
    g = L("gqa", "GroupedQueryAttention", [], subs=[
        ("_query_dense", ed("query", (8, 4, 2), (4, 2))), ("_key_dense", ed("key", (8, 2, 2), (2, 2))),
        ("_value_dense", ed("value", (8, 2, 2), (2, 2))), ("_softmax", L("softmax", "Softmax")),
        ("_dropout_layer", L("dropout", "Dropout")), ("_output_dense", ed("attention_output", (4, 2, 8), (8,)))],
        config={"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2})
    return L("functional", "Functional", layers=[input_layer("input_layer", (5, 8)), g, dense("dense", 8, 1)])

def seqfunc():
    enc = L("encoder", "Functional", layers=[input_layer("enc_in", (4,)), dense("d1", 4, 6), dense("d2", 6, 3)])
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (4,)), enc, dense("head", 3, 2)])

def mixdt():
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (4,)),
        L("dense", "Dense", [V("kernel", (4, 3), "float16"), V("bias", (3,), "float16")], config={"units": 3, "_dtype": "float16"}),
        L("dense_1", "Dense", [V("kernel", (3, 2), "float64"), V("bias", (2,), "float64")], config={"units": 2, "_dtype": "float64"})])

def empty():
    return L("sequential", "Sequential", layers=[])

def unbuilt():
    return L("sequential", "Sequential", layers=[L("dense", "Dense", [], config={"units": 4}), L("dense_1", "Dense", [], config={"units": 2})])

def lnrms2():
    ln = L("layer_normalization", "LayerNormalization", [V("gamma", (4,))], config={"rms_scaling": True, "axis": [-1]})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4), ln, dense("dense_1", 4, 2)])

def bnnoscale():
    bn = L("batch_normalization", "BatchNormalization", [V("beta", (4,)), V("moving_mean", (4,), trainable=False), V("moving_variance", (4,), trainable=False)], config={"scale": False})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (5,)), dense("dense", 5, 4, bias=False), bn, dense("dense_1", 4, 2)])

def kio_transformer():
    """keras.io 'Text classification with Transformer' (Keras 3): TokenAndPositionEmbedding assigns
    token_emb then pos_emb; TransformerBlock att, ffn, layernorm1, layernorm2, dropout1, dropout2."""
    V_, M_, D_ = 50, 10, 8
    tpe = L("token_and_position_embedding", "TokenAndPositionEmbedding", [], subs=[
        ("token_emb", L("embedding", "Embedding", [V("embeddings", (V_, D_))], config={"input_dim": V_, "output_dim": D_})),
        ("pos_emb", L("embedding_1", "Embedding", [V("embeddings", (M_, D_))], config={"input_dim": M_, "output_dim": D_}))],
        module=None, registered="TokenAndPositionEmbedding")
    ed = lambda n, shp, bshp: L(n, "EinsumDense", [V("kernel", shp), V("bias", bshp)])
    mha = L("multi_head_attention", "MultiHeadAttention", subs=[
        ("query_dense", ed("query", (D_, 2, D_), (2, D_))), ("key_dense", ed("key", (D_, 2, D_), (2, D_))),
        ("value_dense", ed("value", (D_, 2, D_), (2, D_))), ("output_dense", ed("attention_output", (2, D_, D_), (D_,))),
        ("_softmax", L("softmax", "Softmax")), ("_dropout_layer", L("dropout", "Dropout"))], config={"num_heads": 2, "key_dim": D_})
    ffn = L("sequential", "Sequential", layers=[dense("dense", D_, 16), dense("dense_1", 16, D_)], has_input=False)
    ln = lambda n: L(n, "LayerNormalization", [V("gamma", (D_,)), V("beta", (D_,))], config={"epsilon": 1e-6})
    tb = L("transformer_block", "TransformerBlock", [], subs=[("att", mha), ("ffn", ffn), ("layernorm1", ln("layer_normalization")),
        ("layernorm2", ln("layer_normalization_1")), ("dropout1", L("dropout_1", "Dropout")), ("dropout2", L("dropout_2", "Dropout"))],
        module=None, registered="TransformerBlock")
    return L("functional", "Functional", layers=[input_layer("input_layer", (M_,), "int32"), tpe, tb,
        L("global_average_pooling1d", "GlobalAveragePooling1D"), L("dropout_3", "Dropout", config={"rate": 0.1}),
        dense("dense_2", D_, 20), L("dropout_4", "Dropout", config={"rate": 0.1}), dense("dense_3", 20, 2)])

def stack_same():
    blocks = [dense("dense_%d" % i if i else "dense", 4, 4) for i in range(12)]
    st = L("stack", "MyStack", [], subs=[("blocks", blocks)], module="my_layers", registered="Custom>MyStack")
    return L("functional", "Functional", layers=[input_layer("input_layer", (4,)), st, dense("out", 4, 1)])

def lookup():
    sl = L("string_lookup", "StringLookup", [], config={"max_tokens": None, "num_oov_indices": 1, "vocabulary": None, "output_mode": "int", "vocabulary_dtype": "string", "mask_token": None, "oov_token": "[UNK]"})
    tv = L("text_vectorization", "TextVectorization", [V("idf_weights", (6,), trainable=False)], subs=[
            ("_lookup_layer", L("string_lookup_1", "StringLookup", [V("idf_weights", (6,), trainable=False)]))],
           config={"output_mode": "tf_idf", "max_tokens": 6, "vocabulary": None})
    il = L("integer_lookup", "IntegerLookup", [], config={"vocabulary": None, "output_mode": "int"})
    disc = L("discretization", "Discretization", [], config={"bin_boundaries": [0.0, 1.0, 2.0]})
    norm = L("normalization", "Normalization", [V("mean", (3,), trainable=False), V("variance", (3,), trainable=False), V("count", (), "int64", trainable=False)], config={"axis": -1})
    flip = L("random_flip", "RandomFlip", [], config={"mode": "horizontal", "seed": 7})
    noise = L("gaussian_noise", "GaussianNoise", [], config={"stddev": 0.1, "seed": 3})
    drop = L("dropout", "Dropout", [], config={"rate": 0.5, "seed": 1})
    return L("functional", "Functional", layers=[input_layer("words", (1,), "string"), input_layer("text", (1,), "string"),
        input_layer("ids", (1,), "int64"), input_layer("num", (3,)), sl, tv, il, disc, norm, flip, noise, drop, dense("dense", 3, 2)])

def bf():
    S.values_orig = S.values
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (4,)),
        L("dense", "Dense", [V("kernel", (4, 3), "bfloat16"), V("bias", (3,), "bfloat16")], config={"units": 3, "_dtype": "bfloat16"}),
        dense("dense_1", 3, 2)])

def q8():
    """model.quantize("int8") in Keras 3.15: a QuantizedDTypePolicy ({"mode", "source_name"}, no
    "name"), the store in variable_serialization_spec order (kernel, bias, kernel_scale), the int8
    kernel and its scale frozen (Dense._int8_build), so the optimizer has slots for the bias only."""
    pol = {"module": "keras", "class_name": "QuantizedDTypePolicy", "config": {"mode": "int8", "source_name": "float32"},
           "registered_name": None}
    qc = {"module": "keras.quantizers", "class_name": "Int8QuantizationConfig", "config": {"weight_quantizer": None,
          "activation_quantizer": None}, "registered_name": None}
    q = L("dense", "Dense", [V("kernel", (4, 3), "int8", trainable=False), V("bias", (3,)), V("kernel_scale", (3,), trainable=False)],
          config={"units": 3, "_policy": pol, "quantization_config": qc})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (4,)), q, dense("dense_1", 3, 2)])

def lora():
    """Dense.enable_lora(2) in Keras 3.15: the store keeps the merged kernel and the bias; the kernel
    is frozen, lora_kernel_a and lora_kernel_b (not stored, but their optimizer slots are) train."""
    d = L("dense", "Dense", [V("kernel", (4, 3), trainable=False), V("bias", (3,))], config={"units": 3, "lora_rank": 2, "lora_alpha": 2})
    return L("sequential", "Sequential", layers=[input_layer("input_layer", (4,)), d, dense("dense_1", 3, 2)])

def lora_trainable(trainable):
    """Layer.trainable_variables in creation order: bias, then the two factors enable_lora adds."""
    a, b = V("lora_kernel_a", (4, 2)), V("lora_kernel_b", (2, 3))
    a.path, b.path = "sequential/dense/lora_kernel_a", "sequential/dense/lora_kernel_b"
    return trainable[:1] + [a, b] + trainable[1:]

MODELS = {
  "q8": lambda: write_all("q8", q8(), "adam", legacy=False),
  "lora": lambda: write_all("lora", lora(), "sgd", legacy=False, unstored=lora_trainable),
  "lookup": lambda: write_all("lookup", lookup(), "adam", zmembers=[
      ("assets/layers/string_lookup/vocabulary.txt", "[UNK]\nthe\ncat\nsat"),
      ("assets/layers/text_vectorization/vocabulary.txt", "\n[UNK]\nthe\ncat\nsat\non"),
      ("assets/layers/text_vectorization/_lookup_layer/vocabulary.txt", "\n[UNK]\nthe\ncat\nsat\non"),
      ("assets/layers/integer_lookup/vocabulary.txt", "-1\n42\n7")], zip64=True),
  "kio_transformer": lambda: write_all("kio_transformer", kio_transformer(), "adam"),
  "stack_same": lambda: write_all("stack_same", stack_same(), "adam"),
  "lnrms2": lambda: write_all("lnrms2", lnrms2(), "adam"),
  "bnnoscale": lambda: write_all("bnnoscale", bnnoscale(), "adam"),
  "bnrenorm": lambda: write_all("bnrenorm", bnrenorm(), "adam"),
  "bnrenorm_noscale": lambda: write_all("bnrenorm_noscale", bnrenorm_noscale(), "adam"),
  "lnrms": lambda: write_all("lnrms", lnrms(), "adam"),
  "stack": lambda: write_all("stack", stack(), "adam"),
  "tblock": lambda: write_all("tblock", tblock(), "adam"),
  "gqa": lambda: write_all("gqa", gqa(), "adam"),
  "seqfunc": lambda: write_all("seqfunc", seqfunc(), "adam"),
  "mixdt": lambda: write_all("mixdt", mixdt(), "adam"),
  "empty": lambda: write_all("empty", empty(), "adam"),
  "unbuilt": lambda: write_all("unbuilt", unbuilt(), "adam", build_config=False),
}
if __name__ == "__main__":
    for k in sys.argv[2:] or MODELS:
        MODELS[k](); print("wrote", k)
