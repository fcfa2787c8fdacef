"""Checks `kcb-inspect checkpoint FILE --json` (stdin) against tests/data/zoo-synth/expected.json,
which make.py computed from the model descriptions: every model variable in Keras's order (store:
model.weights order; legacy: layer_names order, weight_names within), with its path, Keras name,
shape, dtype, sum and trainable flag; every optimizer variable in stored order with the model
variable it belongs to; parameter counts; the top-level layers.
usage: synth_inspect_check.py EXPECTED_JSON FILE_NAME"""
import json
import sys

errors = []


def fail(msg):
    errors.append(msg)


exp_path, fname = sys.argv[1:3]
d = json.load(sys.stdin)
want = json.load(open(exp_path, encoding="utf-8"))["files"][fname]


def check_vars(kind, got, exp, names=True):
    if [g["path"] for g in got] != [w["path"] for w in exp]:
        fail("%s order/paths:\n   got  %s\n   want %s" % (kind, [g["path"] for g in got], [w["path"] for w in exp]))
        return
    for g, w in zip(got, exp):
        if g["shape"] != w["shape"] or g["dtype"] != w["dtype"]:
            fail("%s is %s %s, expected %s %s" % (w["path"], g["dtype"], g["shape"], w["dtype"], w["shape"]))
        if abs(g["sum"] - w["sum"]) > 1e-9 * max(1.0, abs(w["sum"])):
            fail("%s sums to %r, expected %r" % (w["path"], g["sum"], w["sum"]))
        if names and w["name"] is not None and g["name"] != w["name"]:
            fail("%s is named %s, expected %s" % (w["path"], g["name"], w["name"]))
        if kind == "weights" and w["trainable"] is not None and g["trainable"] != w["trainable"]:
            fail("%s trainable=%s, expected %s" % (w["path"], g["trainable"], w["trainable"]))


check_vars("weights", d["weights"], want["weights"])
# optimizer variables: stored order; names of scalars Keras keeps outside the slots are not checked
check_vars("optimizer_weights", d["optimizer_weights"], want["optimizer_weights"], names=False)
if not errors:
    model_paths = [w["path"] for w in d["weights"]]
    for g, w in zip(d["optimizer_weights"], want["optimizer_weights"]):
        named = w["name"] is not None and (w["owner"] is not None or w["name"].endswith(("/iteration", "/learning_rate")))
        if named and g["name"] != w["name"]:
            fail("optimizer %s is named %s, expected %s" % (w["path"], g["name"], w["name"]))
        owner = model_paths[g["owner"]] if g["owner"] is not None and g["owner"] >= 0 else None
        if owner != w["owner"]:
            fail("optimizer %s belongs to %s, expected %s" % (w["path"], owner, w["owner"]))
p = want["params"]
if None in [w["trainable"] for w in want["weights"]]:  # a split the file cannot tell
    p = dict(p, trainable=d["trainable_params"], non_trainable=d["non_trainable_params"])
if (d["params"], d["trainable_params"], d["non_trainable_params"]) != (p["total"], p["trainable"], p["non_trainable"]):
    fail("params %s/%s/%s, expected %s" % (d["params"], d["trainable_params"], d["non_trainable_params"], p))
if d["has_config"]:
    top = [[l["name"], l["class"]] for l in d["layers"] if l["parent"] == -1]
    if top != want["layers"]:
        fail("layers %s, expected %s" % (top, want["layers"]))
if (want["model_name"] is not None and d["model_name"] != want["model_name"]) or (d["has_config"] and d["model_class"] != want["model_class"]):
    fail("model %s %s, expected %s %s" % (d["model_class"], d["model_name"], want["model_class"], want["model_name"]))
if errors:
    print("synth_inspect_check: %s:\n  %s" % (fname, "\n  ".join(errors)), file=sys.stderr)
    sys.exit(1)
print("ok %s" % fname)
