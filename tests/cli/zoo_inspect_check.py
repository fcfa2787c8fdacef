"""Checks `kcb-inspect checkpoint FILE --json` (stdin) against the zoo's expected.json: every
dataset Keras wrote, at its path, with its shape, dtype, sum and Keras variable name; the model's
parameter counts and its layers.  usage: zoo_inspect_check.py EXPECTED_JSON MODEL FILE_NAME"""
import json
import sys


def fail(msg):
    print("zoo_inspect_check: " + msg, file=sys.stderr)
    sys.exit(1)


exp_path, model, fname = sys.argv[1:4]
d = json.load(sys.stdin)
m = json.load(open(exp_path))["models"][model]
want = m["files"][fname]
got = {v["path"]: v for v in d["weights"] + d["optimizer_weights"]}
if len(got) != want["n_variables"] or len(want["variables"]) != want["n_variables"]:
    fail("%s: %d variables, expected %d" % (fname, len(got), want["n_variables"]))
for w in want["variables"]:
    g = got.get(w["h5_path"])
    if g is None:
        fail("%s: no variable at %s" % (fname, w["h5_path"]))
    if g["shape"] != w["shape"] or g["dtype"] != w["dtype"]:
        fail("%s: %s is %s %s, expected %s %s" % (fname, w["h5_path"], g["dtype"], g["shape"], w["dtype"], w["shape"]))
    if abs(g["sum"] - w["sum"]) > 1e-9 * max(1.0, abs(w["sum"])):
        fail("%s: %s sums to %r, expected %r" % (fname, w["h5_path"], g["sum"], w["sum"]))
    name = w.get("weight_name") or w["variable"]
    if g["name"] != name:
        fail("%s: %s is named %s, expected %s" % (fname, w["h5_path"], g["name"], name))
p = m["params"]
if (d["params"], d["trainable_params"], d["non_trainable_params"]) != (p["total"], p["trainable"], p["non_trainable"]):
    fail("%s: params %s/%s/%s, expected %s" % (fname, d["params"], d["trainable_params"], d["non_trainable_params"], p))
# model variables in model.weights order (Keras 3 layouts keep it; legacy files group by layer)
if want["layout"] in ("keras3_weights", "keras3_zip"):
    order = [v["name"] for v in d["weights"]]
    if order != [w["path"] for w in m["weights"]]:
        fail("%s: variable order %s" % (fname, order))
    # Adam: iteration, learning rate, then momentum and velocity of each trainable variable in order
    owners = [v["owner"] for v in d["optimizer_weights"]]
    trainable = [i for i, v in enumerate(d["weights"]) if v["trainable"]]
    if d["optimizer_weights"] and owners != [-1, -1] + [i for i in trainable for _ in range(2)]:
        fail("%s: optimizer owners %s" % (fname, owners))
if d["has_config"]:
    top = [(l["name"], l["class"]) for l in d["layers"] if l["parent"] == -1]
    want_top = [(l["name"], l["class_name"]) for l in m["layers"] if not (m["model_class"] == "Sequential" and l["class_name"] == "InputLayer")]
    if top != want_top:
        fail("%s: layers %s, expected %s" % (fname, top, want_top))
print("ok %s" % fname)
