"""Checks a checkpoint kcb converted against the file Keras itself wrote in that layout, with h5py:
the same datasets at the same paths with the same values (and, for legacy files, the same
layer_names / weight_names), so Keras loads the converted file as it loads its own.

usage: zoo_convert_check.py CONVERTED REFERENCE [--rename OLD=NEW]... [--reference-group GROUP]
  --reference-group: compare with that group of REFERENCE (a legacy weights file with a full .h5's
            model_weights)
  --rename: in the converted file's dataset paths and weight names, OLD reads as NEW (variable names
            a store does not hold, which kcb gives by position: "counter/0=counter/scale")
"""
import io
import json
import sys
import zipfile

import h5py
import numpy as np


def fail(msg):
    print("zoo_convert_check: " + msg, file=sys.stderr)
    sys.exit(1)


def open_h5(path):
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if names.count("config.json") != 1 or names.count("model.weights.h5") != 1:
                fail("%s: members %s" % (path, names))
            cfg = json.loads(z.read("config.json"))
            return h5py.File(io.BytesIO(z.read("model.weights.h5")), "r"), cfg
    return h5py.File(path, "r"), None


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


RENAME = [a.split("=", 1) for i, a in enumerate(sys.argv) if i > 0 and sys.argv[i - 1] == "--rename"]


def renamed(s):
    for old, new in RENAME:
        s = s.replace(old, new)
    return s


def strings(v, rename=False):
    if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size == 0:
        return []
    out = [x.decode() if isinstance(x, bytes) else str(x) for x in v]
    return [renamed(x) for x in out] if rename else out


def main():
    got_path, want_path = sys.argv[1], sys.argv[2]
    got, got_cfg = open_h5(got_path)
    want, want_cfg = open_h5(want_path)
    if "--reference-group" in sys.argv:
        want = want[sys.argv[sys.argv.index("--reference-group") + 1]]
    g, w = {renamed(k): v for k, v in datasets(got).items()}, datasets(want)
    if sorted(g) != sorted(w):
        fail("datasets differ:\n  only in %s: %s\n  only in %s: %s" % (
            got_path, sorted(set(g) - set(w)), want_path, sorted(set(w) - set(g))))
    for name in w:
        if g[name].shape != w[name].shape or not np.array_equal(g[name], w[name]):
            fail("%s: %s differs (%s %s vs %s %s)" % (got_path, name, g[name].dtype, g[name].shape, w[name].dtype, w[name].shape))
    # Keras reads legacy files by these attributes, in this order
    for grp in ["", "model_weights"]:
        if grp in ("",) or grp in want:
            wg = want[grp] if grp else want
            gg = got[grp] if grp else got
            if "layer_names" in wg.attrs:
                if strings(gg.attrs.get("layer_names", [])) != strings(wg.attrs["layer_names"]):
                    fail("layer_names %s vs %s" % (strings(gg.attrs.get("layer_names", [])), strings(wg.attrs["layer_names"])))
                for layer in strings(wg.attrs["layer_names"]):
                    if strings(gg[layer].attrs["weight_names"], True) != strings(wg[layer].attrs["weight_names"]):
                        fail("%s weight_names %s vs %s" % (layer, strings(gg[layer].attrs["weight_names"], True),
                                                            strings(wg[layer].attrs["weight_names"])))
    if "optimizer_weights" in want:
        if strings(got["optimizer_weights"].attrs["weight_names"], True) != strings(want["optimizer_weights"].attrs["weight_names"]):
            fail("optimizer weight_names differ")
    # Keras 3 stores: every `vars` group with its name attribute
    def names(f):
        out = {}
        f.visititems(lambda n, o: out.__setitem__(n, o.attrs.get("name")) if isinstance(o, h5py.Group) and n.endswith("vars") else None)
        return out
    if "layers" in want:
        gn, wn = names(got), names(want)
        if gn != wn:
            fail("vars groups / names differ: %s vs %s" % (gn, wn))
    if want_cfg is not None:
        # every entry, nested models' too, with the module and registered name Keras looks it up by
        # (zoo-synth's generator, not Keras, wrote its references: their tags are not Keras's own)
        real = "zoo-synth" not in want_path
        def entries(c):
            out = [(c["class_name"], c.get("module") if real else None, c.get("registered_name") if real else None,
                    c["config"].get("name"))]
            for l in c["config"].get("layers", []) if isinstance(c.get("config"), dict) else []:
                out += entries(l)
            return out
        if entries(got_cfg) != entries(want_cfg):
            fail("config.json entries differ: %s vs %s" % (entries(got_cfg), entries(want_cfg)))
    for key in ("model_config",):
        if key in want.attrs:
            gc, wc = json.loads(got.attrs[key]), json.loads(want.attrs[key])
            if gc != wc:
                fail("%s differs" % key)
    print("ok %s == %s (%d datasets)" % (got_path, want_path, len(w)))


main()
