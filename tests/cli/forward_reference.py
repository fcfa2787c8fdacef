#!/usr/bin/env python3
"""Recomputes the predictions of the models tests/forward_models.c saved, from their .keras files
alone (config.json and model.weights.h5, read as Keras reads them), with an independent numpy
implementation of Keras 3's inference semantics (TensorFlow's padding rules, pooling that ignores
padded entries, BatchNormalization's moving statistics, LayerNormalization over the last axis,
identity dropouts, Rescaling), in float64, and compares with kcb's float32 predictions.

Usage: forward_reference.py DIR    (prints "ok NAME" per model; exit 1 on any difference)"""
import io
import json
import math
import os
import sys
import zipfile

try:
    import h5py
    import numpy as np
except ImportError as e:  # the test needs Debian's python3-h5py and python3-numpy
    print("skipped: %s" % e)
    sys.exit(77)

TOLERANCE = 1e-4  # float32 sums of at most a few hundred terms against float64


def activation(name, x):
    if isinstance(name, dict):  # a serialized activation object
        name = name.get("config", {}).get("name", name.get("class_name"))
    if name in (None, "linear"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.2 * x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    if name == "selu":
        alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    if name in ("silu", "swish"):
        return x / (1 + np.exp(-x))
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "hard_sigmoid":
        return np.clip(x / 6 + 0.5, 0, 1)
    if name in ("hard_silu", "hard_swish"):
        return x * np.clip(x / 6 + 0.5, 0, 1)
    if name == "exponential":
        return np.exp(x)
    if name == "mish":
        return x * np.tanh(np.log1p(np.exp(x)))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softplus":
        return np.log1p(np.exp(x))
    if name == "gelu":  # approximate=False
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation %r" % name)


def window(n, k, stride, dilation, padding):
    """(pad before, pad after, outputs) of one spatial axis, by TensorFlow's rules."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        return 0, 0, (n - span) // stride + 1
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + span - n, 0)
        return total // 2, total - total // 2, out
    if padding == "causal":
        return span - 1, 0, (n - 1) // stride + 1
    raise ValueError(padding)


def as_2d(x):
    """(N, steps, C) as (N, 1, steps, C): the 1D layers are the height-1 case."""
    return x[:, None] if x.ndim == 3 else x


def conv(x, cfg, kernel, bias):
    one_d = x.ndim == 3
    x = as_2d(x)
    if one_d:
        kernel = kernel[None]
    k = ([1] if one_d else []) + list(cfg["kernel_size"])
    s = ([1] if one_d else []) + list(cfg["strides"])
    d = ([1] if one_d else []) + list(cfg["dilation_rate"])
    padding, groups = cfg["padding"], cfg.get("groups", 1)
    pads = [window(x.shape[1 + a], k[a], s[a], d[a], padding if not (one_d and a == 0) else "valid") for a in range(2)]
    xp = np.pad(x, ((0, 0), pads[0][:2], pads[1][:2], (0, 0)))
    oh, ow = pads[0][2], pads[1][2]
    cin, filters = x.shape[3], kernel.shape[3]
    cg, fg = cin // groups, filters // groups
    out = np.zeros((x.shape[0], oh, ow, filters))
    for i in range(k[0]):
        for j in range(k[1]):
            patch = xp[:, i * d[0]: i * d[0] + s[0] * (oh - 1) + 1: s[0], j * d[1]: j * d[1] + s[1] * (ow - 1) + 1: s[1], :]
            for g in range(groups):
                out[..., g * fg:(g + 1) * fg] += patch[..., g * cg:(g + 1) * cg] @ kernel[i, j, :, g * fg:(g + 1) * fg]
    if bias is not None:
        out += bias
    out = activation(cfg.get("activation"), out)
    return out[:, 0] if one_d else out


def pool(x, cfg, reduce):
    one_d = x.ndim == 3
    x = as_2d(x)
    k = ([1] if one_d else []) + list(cfg["pool_size"])
    s = ([1] if one_d else []) + list(cfg["strides"] or cfg["pool_size"])
    pads = [window(x.shape[1 + a], k[a], s[a], 1, cfg["padding"]) for a in range(2)]
    xp = np.pad(x, ((0, 0), pads[0][:2], pads[1][:2], (0, 0)), constant_values=np.nan)  # padding takes no part
    out = np.zeros((x.shape[0], pads[0][2], pads[1][2], x.shape[3]))
    for oy in range(out.shape[1]):
        for ox in range(out.shape[2]):
            out[:, oy, ox] = reduce(xp[:, oy * s[0]: oy * s[0] + k[0], ox * s[1]: ox * s[1] + k[1]], axis=(1, 2))
    return out[:, 0] if one_d else out


def normalize(x, mean, var, eps, gamma, beta):
    y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def run_layer(cls, cfg, ws, x):
    if cls == "InputLayer":
        return x
    if cls == "Dense":
        return activation(cfg.get("activation"), x @ ws[0] + (ws[1] if cfg.get("use_bias", True) else 0))
    if cls in ("Conv1D", "Conv2D"):
        return conv(x, cfg, ws[0], ws[1] if cfg.get("use_bias", True) else None)
    if cls in ("MaxPooling1D", "MaxPooling2D"):
        return pool(x, cfg, np.nanmax)
    if cls in ("AveragePooling1D", "AveragePooling2D"):
        return pool(x, cfg, np.nanmean)
    if cls.startswith("Global"):
        axes = tuple(range(1, x.ndim - 1))
        f = np.max if "Max" in cls else np.mean
        return f(x, axis=axes, keepdims=bool(cfg.get("keepdims", False)))
    if cls in ("BatchNormalization", "LayerNormalization"):
        assert cfg.get("axis", -1) in (-1, [-1], x.ndim - 1), cfg.get("axis")
        it = iter(ws)
        gamma = next(it) if cfg.get("scale", True) else None
        beta = next(it) if cfg.get("center", True) else None
        if cls == "BatchNormalization":
            mean, var = next(it), next(it)
        else:
            mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
        return normalize(x, mean, var, cfg["epsilon"], gamma, beta)
    if cls == "Activation":
        return activation(cfg["activation"], x)
    if cls in ("Dropout", "SpatialDropout1D", "SpatialDropout2D"):
        return x
    if cls == "Rescaling":
        return x * cfg.get("scale", 1.0) + cfg.get("offset", 0.0)
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(cfg["target_shape"]))
    if cls == "ZeroPadding2D":
        (t, b), (l, r) = cfg["padding"]
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    raise ValueError("layer class %s" % cls)


def check(directory, name):
    with zipfile.ZipFile(os.path.join(directory, name + ".keras")) as z:
        config = json.loads(z.read("config.json"))
        weights = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    layers = config["config"]["layers"]
    first = layers[0]["config"]
    in_shape = tuple(first["batch_shape"][1:])
    x = np.fromfile(os.path.join(directory, name + ".x.f32"), dtype="<f4").astype(np.float64)
    x = x.reshape((-1,) + in_shape)
    for layer in layers:
        cfg = layer["config"]
        group = weights.get("layers/%s/vars" % cfg["name"])
        ws = [group[str(i)][()].astype(np.float64) for i in range(len(group))] if group is not None else []
        x = run_layer(layer["class_name"], cfg, ws, x)
    got = np.fromfile(os.path.join(directory, name + ".y.f32"), dtype="<f4").astype(np.float64)
    if got.size != x.size:
        return "kcb predicts %d values, the reference %d (shape %s)" % (got.size, x.size, x.shape)
    worst = np.max(np.abs(got - x.ravel()) / (1 + np.abs(x.ravel())))
    if not worst <= TOLERANCE:
        return "largest relative difference %.3g (kcb %s, reference %s)" % (worst, got[:4], x.ravel()[:4])
    return None


def main():
    directory = sys.argv[1]
    names = sorted(f[:-6] for f in os.listdir(directory) if f.endswith(".keras"))
    if not names:
        print("no .keras files in %s" % directory)
        return 1
    failed = 0
    for name in names:
        problem = check(directory, name)
        if problem:
            print("FAIL %s: %s" % (name, problem))
            failed += 1
        else:
            print("ok %s" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
