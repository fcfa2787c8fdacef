#!/usr/bin/python3
"""inspect_check.py CHECK DATA_DIR [ARGS...] < kcb-inspect --json output

Checks what kcb-inspect printed against values it did not compute: the PyTorch fixture's
expected.json (read by TensorBoard's own backend), Keras's saving fixture expected.json, the
formulas inspect_sample.c writes with, Python's csv module, and (for `png`) an independent PNG
decoder made of zlib and chunk parsing. Exits 0 when everything matches, 1 with a message."""
import csv
import json
import math
import struct
import sys
import zlib


def fail(msg):
    print("inspect_check: " + msg)
    sys.exit(1)


def same(a, b, rel=0.0):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if rel:
        return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)
    return a == b


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def load_stdin():
    try:
        return json.load(sys.stdin)
    except ValueError as e:
        fail("stdout is not JSON: %s" % e)


def fixture(data):
    with open(data + "/tfevents/logdir/expected.json") as f:
        return json.load(f)["runs"]


# ---- the PyTorch fixture -------------------------------------------------------------------

def check_fixture_runs(data, args):
    d, exp = load_stdin(), fixture(data)
    runs = {r["name"]: r for r in d["runs"]}
    if sorted(runs) != sorted(exp):
        fail("runs %s, expected %s" % (sorted(runs), sorted(exp)))
    for name, want in exp.items():
        tags = {t["tag"]: t for t in runs[name]["tags"]}
        for tag, series in want.get("scalars", {}).items():
            t = tags[tag]
            vals = [p[2] for p in series]
            steps = [p[0] for p in series]
            # PyTorch's simple_value: the dashboard TensorBoard shows it in, as the table says
            got = (t["plugin"], t["kind"], t["count"], t["first_step"], t["last_step"], t["first"], t["last"], t["min"], t["max"])
            expect = ("scalars", "scalar", len(series), steps[0], steps[-1], vals[0], vals[-1], min(vals), max(vals))
            if got != expect:
                fail("%s %s: %s, expected %s" % (name, tag, got, expect))
        for tag, hists in want.get("histograms", {}).items():
            t = tags[tag]
            steps = [int(s) for s in hists]
            if (t["plugin"], t["kind"]) != ("histograms", "histogram") or t["min_step"] > min(steps) or t["max_step"] < max(steps):
                fail("%s %s: %s" % (name, tag, t))
        for tag, img in want.get("images", {}).items():
            t = tags[tag]
            if (t["plugin"], t["kind"]) != ("images", "image") or t["count"] != len(img["steps"]) or t["first_step"] != img["steps"][0]:
                fail("%s %s: %s" % (name, tag, t))


def check_fixture_scalars(data, args):
    d, exp = load_stdin(), fixture(data)
    tag = args[0]
    n = 0
    for name, want in exp.items():
        if tag not in want.get("scalars", {}):
            continue
        got = d["runs"][name]
        series = want["scalars"][tag]
        if len(got) != len(series):
            fail("%s %s: %d points, expected %d" % (name, tag, len(got), len(series)))
        for g, w in zip(got, series):
            if g[0] != w[0] or g[2] != w[2] or (w[1] is not None and g[1] != w[1]):
                fail("%s %s: point %s, expected %s" % (name, tag, g, w))
        n += 1
    if n != len(d["runs"]) or n == 0:
        fail("runs %s for %s" % (list(d["runs"]), tag))


def check_fixture_scalars_csv(data, args):
    exp = fixture(data)
    tag = args[0]
    rows = list(csv.DictReader(sys.stdin))
    want = [(name, p) for name, r in exp.items() for p in r.get("scalars", {}).get(tag, [])]
    if len(rows) != len(want):
        fail("%d rows, expected %d" % (len(rows), len(want)))
    for row, (name, p) in zip(rows, want):
        if row["run"] != name or int(row["step"]) != p[0] or float(row["value"]) != p[2]:
            fail("row %s, expected %s %s" % (row, name, p))


def check_fixture_histograms(data, args):
    d, exp = load_stdin(), fixture(data)
    seen = 0
    for h in d["histograms"]:
        want = exp[h["run"]]["histograms"].get(h["tag"], {}).get(str(h["step"]))
        if want is None:
            continue
        seen += 1
        if "count" in want and h["count"] != want["count"]:
            fail("%s: count %s, expected %s" % (h["tag"], h["count"], want["count"]))
        for k in ("min", "max", "sum"):
            if k in want and not same(h[k], want[k], 1e-12):
                fail("%s step %d: %s %s, expected %s" % (h["tag"], h["step"], k, h[k], want[k]))
        if "buckets" in want and h["buckets"] != want["buckets"]:
            fail("%s: buckets %s, expected %s" % (h["tag"], h["buckets"], want["buckets"]))
        if abs(sum(b[2] for b in h["buckets"]) - h["count"]) > 1e-9:
            fail("%s: bucket counts do not add up to %s" % (h["tag"], h["count"]))
    wanted = sum(len(v) for r in exp.values() for v in r.get("histograms", {}).values())
    if seen != wanted:
        fail("%d of the %d expected histograms found" % (seen, wanted))


def check_fixture_images(data, args):
    d, exp = load_stdin(), fixture(data)
    want = [(r, t, s, v) for r, run in exp.items() for t, v in run.get("images", {}).items() for s in v["steps"]]
    if len(d["images"]) != len(want):
        fail("%d images, expected %d" % (len(d["images"]), len(want)))
    for img, (r, t, s, v) in zip(d["images"], want):
        if (img["run"], img["tag"], img["step"], img["width"], img["height"], img["format"]) != (r, t, s, v["width"], v["height"], "png"):
            fail("image %s, expected %s %s %s %s" % (img, r, t, s, v))
        if args and args[0] == "files":
            w, h = png_size(img["file"])
            if (w, h) != (v["width"], v["height"]):
                fail("%s: %dx%d" % (img["file"], w, h))


def check_fixture_text(data, args):
    d, exp = load_stdin(), fixture(data)
    want = [(r, t, int(s), txt) for r, run in exp.items() for t, v in run.get("text", {}).items() for s, txt in v.items()]
    got = [(x["run"], x["tag"].replace("/text_summary", ""), x["step"], "".join(x["strings"])) for x in d["texts"]]
    if sorted(got) != sorted(want):
        fail("texts %s, expected %s" % (got, want))


def check_fixture_hparams(data, args):
    d, exp = load_stdin(), fixture(data)
    want = exp["run_a/hp"]["hparams"]
    s = d["sessions"]
    if len(s) != 1 or s[0]["run"] != "run_a/hp" or s[0]["status"] != "success":
        fail("sessions %s" % s)
    for k, v in want["hparams"].items():
        got = s[0]["hparams"][k]
        if isinstance(v, bool):  # torch stores booleans as numbers
            v = float(v)
        if not same(got, v):
            fail("hparam %s = %r, expected %r" % (k, got, v))
    for k, v in want["metrics"].items():
        if not same(s[0]["metrics"][k], f32(v)):
            fail("metric %s = %r, expected %r" % (k, s[0]["metrics"][k], f32(v)))


# ---- logs written by inspect_sample.c --------------------------------------------------------

def sample_curves():
    """(run, tag) -> [values at steps 0..19], from the formulas of inspect_sample.c."""
    c = {}
    for opt, div in (("adam", 16.0), ("sgd", 32.0)):
        c[(opt + "/train", "epoch_loss")] = [2.0 - e / div for e in range(20)]
        c[(opt + "/train", "epoch_accuracy")] = [f32(e / (2 * div)) for e in range(20)]
        c[(opt + "/validation", "epoch_loss")] = [2.5 - e / div for e in range(20)]
        c[(opt + "/validation", "epoch_accuracy")] = [f32(e / (4 * div)) for e in range(20)]
    return c


def check_sample_scalars(data, args):
    d = load_stdin()
    tag = args[0]
    curves = sample_curves()
    want = {r: v for (r, t), v in curves.items() if t == tag}
    if sorted(d["runs"]) != sorted(want):
        fail("runs %s, expected %s" % (sorted(d["runs"]), sorted(want)))
    for r, pts in d["runs"].items():
        if [p[0] for p in pts] != list(range(20)) or [p[1] for p in pts] != [1700000000.0 + e for e in range(20)]:
            fail("%s: steps or wall times %s" % (r, pts))
        if [p[2] for p in pts] != want[r]:
            fail("%s: values %s, expected %s" % (r, [p[2] for p in pts], want[r]))


def check_sample_runs(data, args):
    d = load_stdin()
    curves = sample_curves()
    names = sorted(r["name"] for r in d["runs"])
    if names != ["adam", "adam/train", "adam/validation", "sgd", "sgd/train", "sgd/validation"]:
        fail("runs %s" % names)
    for r in d["runs"]:
        for t in r["tags"]:
            v = curves.get((r["name"], t["tag"]))
            if v is None:
                continue
            if (t["first"], t["last"], t["min"], t["max"], t["count"]) != (v[0], v[-1], min(v), max(v), 20):
                fail("%s %s: %s" % (r["name"], t["tag"], t))
        kinds = {t["tag"]: (t["plugin"], t["kind"], t["count"]) for t in r["tags"]}
        if r["name"].endswith("/train"):
            want = {"dense/kernel": ("histograms", "histogram", 2), "samples": ("images", "image", 1), "notes": ("text", "text", 1)}
            for k, v in want.items():
                if kinds.get(k) != v:
                    fail("%s %s: %s, expected %s" % (r["name"], k, kinds.get(k), v))


def check_sample_hparams(data, args):
    d = load_stdin()
    order = args[0].split(",")
    if [s["run"] for s in d["sessions"]] != order:
        fail("session order %s, expected %s" % ([s["run"] for s in d["sessions"]], order))
    curves = sample_curves()
    for s in d["sessions"]:
        opt = s["run"]
        hp = {"optimizer": opt, "lr": 0.001 if opt == "adam" else 0.01, "batch_size": 32.0, "shuffle": True}
        if s["hparams"] != hp:
            fail("%s: hparams %s, expected %s" % (opt, s["hparams"], hp))
        want = {"train/epoch_loss": curves[(opt + "/train", "epoch_loss")][-1],
                "validation/epoch_loss": curves[(opt + "/validation", "epoch_loss")][-1],
                "validation/epoch_accuracy": curves[(opt + "/validation", "epoch_accuracy")][-1]}
        if s["metrics"] != want or s["status"] != "success":
            fail("%s: metrics %s, expected %s" % (opt, s["metrics"], want))


def check_sample_histograms(data, args):
    d = load_stdin()
    hs = [h for h in d["histograms"] if h["run"] == "adam/train"]
    if [h["step"] for h in hs] != [0, 10]:
        fail("steps %s" % [h["step"] for h in hs])
    for h in hs:
        vals = [i / 8.0 + h["step"] for i in range(64)]
        # TensorBoard's rule: 8 equal buckets from min to max, the last one closed
        lo, hi = min(vals), max(vals)
        w = (hi - lo) / 8
        counts = [0] * 8
        for v in vals:
            counts[min(int((v - lo) / w), 7)] += 1
        if h["count"] != 64 or h["min"] != lo or h["max"] != hi or [b[2] for b in h["buckets"]] != counts:
            fail("histogram %s, expected counts %s" % (h, counts))


def check_sample_diff(data, args):
    d = load_stdin()
    curves = sample_curves()
    step = d["step"]
    rows = {t["tag"]: t for t in d["tags"]}
    want_tags = sorted(r.split("/", 1)[1] + "/" + t for (r, t) in curves if r.startswith("adam/"))
    if sorted(rows) != want_tags:
        fail("tags %s, expected %s" % (sorted(rows), want_tags))
    for tag, row in rows.items():
        sub, t = tag.split("/", 1)
        a = curves[("adam/" + sub, t)]
        b = curves[("sgd/" + sub, t)]
        i = 19 if step is None else step
        if (row["a_step"], row["a"], row["b_step"], row["b"], row["diff"]) != (i, a[i], i, b[i], b[i] - a[i]):
            fail("%s: %s, expected a=%s b=%s at %s" % (tag, row, a[i], b[i], i))


def check_resumed(data, args):
    d = load_stdin()
    pts = d["runs"]["."]
    want = [[s, 1700000000.0 + s, float(s)] for s in range(5)] + [[s, 1700000100.0 + s, 100.0 + s] for s in range(5, 8)]
    if pts != want:
        fail("points %s, expected %s" % (pts, want))


def check_train_csv(data, args):
    """kcb-train's TensorBoard scalars (float32) against its CSV log (float64, another writer)."""
    d = load_stdin()
    path, column, run = args
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    pts = d["runs"][run]
    want = [(int(r["epoch"]), f32(float(r[column]))) for r in rows]
    if [(p[0], p[2]) for p in pts] != want:
        fail("%s: %s, expected %s from %s" % (run, [(p[0], p[2]) for p in pts], want, path))


# ---- checkpoints and CSV ---------------------------------------------------------------------

def check_checkpoint(data, args):
    d = load_stdin()
    with open(data + "/saving/expected.json") as f:
        exp = json.load(f)["models"]["main"]
    want = exp["weights"]
    got = d["weights"]
    if got is None or len(got) != len(want):
        fail("weights %s" % got)
    for g, w in zip(got, want):
        layer, name = w["path"].split("/")[1:]
        if (g["layer"], g["name"], g["shape"]) != (layer, w["path"], w["shape"]):
            fail("weight %s, expected %s" % (g, w))
        if not same(g["sum"], w["sum"], 1e-9):
            fail("%s: sum %r, expected %r" % (w["path"], g["sum"], w["sum"]))
        if not (g["min"] <= g["mean"] <= g["max"]) or g["size"] != math.prod(w["shape"]):
            fail("%s: statistics %s" % (w["path"], g))
    layout = args[0]
    if d["layout"] != layout or d["params"] != sum(math.prod(w["shape"]) for w in want):
        fail("layout %s params %s" % (d["layout"], d["params"]))
    if layout in ("h5", "keras"):
        if d["keras_version"] != exp.get("keras_version", "3.15.1") and d["keras_version"] != "3.15.1":
            fail("keras_version %s" % d["keras_version"])
        cfg = json.loads(d["config"])
        names = json.dumps(cfg)
        for n in exp["layer_names"]:
            if '"%s"' % n not in names:
                fail("config lacks layer %s" % n)
        if [l["name"] for l in d["layers"]] != exp["layer_names"]:
            fail("layers %s" % d["layers"])


def check_kcb_checkpoint(data, args):
    d = load_stdin()
    # "epoch" is 1-based as people read it; "epoch_0based" is what the file stores
    if (d["monitor"], d["monitor_value"], d["epoch"], d["epoch_0based"] + 1, d["kcb_version"] is None) != \
            (args[0], float(args[1]), int(args[2]), int(args[2]), False):
        fail("monitor/epoch %s %s %s %s" % (d["monitor"], d["monitor_value"], d["epoch"], d["kcb_version"]))


def check_h5_weights(data, args):
    """Weights of a Keras 3 store (.weights.h5, or the model.weights.h5 inside a .keras archive)
    read with h5py: shapes and sums must be what kcb-inspect printed."""
    import io
    import zipfile
    import h5py
    import numpy as np
    d = load_stdin()
    path = args[0]
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    else:
        f = h5py.File(path, "r")
    want = []
    for name in f["layers"]:
        vs = f["layers"][name].get("vars")
        if vs is None:
            continue
        for i in sorted(vs, key=int):
            a = np.asarray(vs[i], dtype=np.float64)
            want.append((name, list(a.shape), float(a.sum()), float(a.min()), float(a.max())))
    got = [(w["layer"], w["shape"], w["sum"], w["min"], w["max"]) for w in d["weights"]]
    if len(got) != len(want):
        fail("weights %s, expected %s" % (got, want))
    for g, w in zip(got, want):
        if g[:2] != w[:2] or not same(g[2], w[2], 1e-12) or g[3:] != w[3:]:
            fail("weight %s, expected %s" % (g, w))


def check_csv(data, args):
    d = load_stdin()
    path = args[0]
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if d["columns"] != header or d["rows"] != len(body):
        fail("columns %s rows %s" % (d["columns"], d["rows"]))
    # runs appended to one log: an epoch not after the one before starts another
    epochs = [float(r[header.index("epoch")]) for r in body]
    run_of = [1] * len(body)
    for i in range(1, len(body)):
        run_of[i] = run_of[i - 1] + (not epochs[i] > epochs[i - 1])
    if d["runs"] != (run_of[-1] if body else 0):
        fail("runs %s, expected %s" % (d["runs"], run_of[-1] if body else 0))
    for st in d["stats"]:
        j = header.index(st["column"])
        vals = [float(r[j]) if r[j] not in ("", "NA") else float("nan") for r in body]
        ok = [(v, i) for i, v in enumerate(vals) if not math.isnan(v)]
        up = "acc" in st["column"]
        best_v, best_i = (max if up else min)(ok, key=lambda p: p[0]) if ok else (None, None)
        epochs = [float(r[header.index("epoch")]) for r in body]
        want = {"mode": "max" if up else "min", "min": min(v for v, _ in ok), "max": max(v for v, _ in ok),
                "best": best_v, "best_epoch": epochs[best_i] + 1, "best_epoch_0based": epochs[best_i],
                "best_run": run_of[best_i], "missing": len(vals) - len(ok)}
        for k, v in want.items():
            if not same(st[k], v):
                fail("%s: %s %r, expected %r" % (st["column"], k, st[k], v))
        if not same(st["first"], vals[0]) or not same(st["last"], vals[-1]):
            fail("%s: first/last %s %s" % (st["column"], st["first"], st["last"]))


# ---- PNG, decoded without kcb -----------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG" % path)
    pos, idat, ihdr = 8, b"", None
    while pos < len(b):
        n, = struct.unpack(">I", b[pos:pos + 4])
        kind, body = b[pos + 4:pos + 8], b[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) != crc:
            fail("%s: bad CRC in chunk %s" % (path, kind))
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(idat)
    if len(raw) != h * (1 + w * channels * depth // 8):
        fail("%s: %d bytes of pixel data for %dx%d" % (path, len(raw), w, h))
    return w, h


def check_png(data, args):
    w, h = png_size(args[0])
    if (w, h) != (int(args[1]), int(args[2])):
        fail("%s: %dx%d, expected %sx%s" % (args[0], w, h, args[1], args[2]))


def check_json(data, args):
    load_stdin()


def main():
    check = sys.argv[1]
    fn = globals().get("check_" + check)
    if not fn:
        fail("unknown check " + check)
    fn(sys.argv[2], sys.argv[3:])


if __name__ == "__main__":
    main()
