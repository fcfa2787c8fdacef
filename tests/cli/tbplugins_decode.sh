#!/usr/bin/env bash
# PR curves, custom-scalars layouts and projector runs decoded by independent tools and checked
# field by field against what TensorBoard's plugins read: framing and messages by
# tfrecord_check.py (tb_min.proto), plugin data, layouts and projector_config.pbtxt by protoc with
# tests/data/tbplugins/plugins_check.proto (the pbtxt through protoc's own text-format parser),
# PR values recomputed with numpy as TensorBoard's pr_curve summary computes them, tensor files
# with numpy, sprites by pngcheck and a PNG decoder written here.
# Usage: tests/cli/tbplugins_decode.sh BIN_DIR SHARED_TOOLS_DIR DATA_DIR
set -eu
bin=$1 tools=$2 data=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=$("$bin/tbplugins_sample" "$tmp")
/usr/bin/python3 "$tools/tfrecord_check.py" "$file"
/usr/bin/python3 "$tools/tfrecord_check.py" --decode "$file" >"$tmp/decoded.txt"
TMP=$tmp DATA=$data /usr/bin/python3 - "$tmp/decoded.txt" <<'PY'
import codecs, os, re, struct, subprocess, sys, zlib
import numpy as np

tmp, data = os.environ["TMP"], os.environ["DATA"]
proto = os.path.join(data, "plugins_check.proto")
text = open(sys.argv[1]).read()
records = re.split(r"^# record \d+ at offset \d+, \d+ bytes\n", text, flags=re.M)[1:]
fails = []

def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)

def unescape(s):
    return codecs.escape_decode(s.encode("latin-1"))[0]

def strings(rec, field):
    return [unescape(m) for m in re.findall(r'^\s*%s: "((?:[^"\\]|\\.)*)"' % field, rec, flags=re.M)]

def decode(msg, blob):
    return subprocess.run(["protoc", "-I", data, "--decode=kcbcheck." + msg, proto], input=blob,
                          capture_output=True, check=True).stdout.decode()

def tb_pr_curve(labels, preds, t, weights=None):
    # TensorBoard's pr_curve summary (pb): float32 bucket index floor(p * (t - 1)), histograms of
    # weighted positives / negatives over [0, t - 1], reversed cumulative sums, then tn, fn,
    # precision and recall with a 1e-7 floor on the denominators
    preds = np.asarray(preds, dtype=np.float32)
    w = np.ones(len(preds)) if weights is None else np.asarray(weights, dtype=np.float64)
    idx = np.int32(np.floor(preds * np.float32(t - 1)))
    lab = np.asarray(labels, dtype=np.float64)
    tpb, _ = np.histogram(idx, bins=t, range=(0, t - 1), weights=lab * w)
    fpb, _ = np.histogram(idx, bins=t, range=(0, t - 1), weights=(1 - lab) * w)
    tp = np.cumsum(tpb[::-1])[::-1]
    fp = np.cumsum(fpb[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    return np.stack([tp, fp, tn, fn, tp / np.maximum(1e-7, tp + fp), tp / np.maximum(1e-7, tp + fn)]).astype(np.float32)

def pr_record(rec, tag, t, step, first):
    check(('tag: "%s"' % tag) in rec and ("step: %d\n" % step) in rec, "%s: tag and step %d" % (tag, step))
    check("dtype: DT_FLOAT" in rec and re.search(r"dim {\s*size: 6\s*}\s*dim {\s*size: %d\s*}" % t, rec) is not None,
          "%s: DT_FLOAT [6, %d]" % (tag, t))
    c = strings(rec, "tensor_content")
    got = np.frombuffer(c[0], dtype="<f4").reshape(6, t) if c and len(c[0]) == 24 * t else None
    if first:
        check('plugin_name: "pr_curves"' in rec and "data_class: DATA_CLASS_TENSOR" in rec, "%s: plugin metadata" % tag)
        pd = decode("PrCurvePluginData", strings(rec, "content")[0])
        check(pd.strip() == "num_thresholds: %d" % t, "%s: PrCurvePluginData{version 0, num_thresholds %d}: %r" % (tag, t, pd))
    else:
        check("metadata" not in rec, "%s: metadata on the first value only" % tag)
    return got

labels = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0]
preds = [0.9, 0.1, 0.75, 0.5, 0.5, 0.3, 0.2, 0.8, 1.0, 0.0]
weights = [1, 2, 1, 0.5, 1, 1, 3, 1, 1, 1]
r = records
check(len(r) == 1 + 2 + 3 + 2, "8 records, got %d" % len(r))
got = pr_record(r[1], "bin/pr_curves", 5, 1, True)
check(got is not None and np.array_equal(got, tb_pr_curve(labels, preds, 5)), "binary PR curve = TensorBoard's computation")
got = pr_record(r[2], "bin/pr_curves", 5, 2, False)
check(got is not None and np.array_equal(got, tb_pr_curve(labels, preds, 5, weights)), "weighted PR curve = TensorBoard's")
cls = [0, 1, 2, 2, 1, 0]
probs = np.array([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6, 0.3, 0.3, 0.4, 0.5, 0.4, 0.1, 0.4, 0.35, 0.25],
                 dtype=np.float32).reshape(6, 3)
for c, name in enumerate(["cat", "dog", "bird"]):
    got = pr_record(r[3 + c], "pr/" + name, 201, 3, True)
    want = tb_pr_curve([int(k == c) for k in cls], probs[:, c], 201)
    check(got is not None and np.array_equal(got, want), "one-vs-rest PR curve of class %s = TensorBoard's" % name)

# custom scalars: tag custom_scalars__config__, rank-0 DT_STRING, metadata plugin name only
for i, rec in ((6, r[6]), (7, r[7])):
    check('tag: "custom_scalars__config__"' in rec and "dtype: DT_STRING" in rec and "dim" not in rec,
          "layout %d: rank-0 string tensor" % i)
check('plugin_name: "custom_scalars"' in r[6] and "content" not in r[6] and "data_class" not in r[6],
      "layout metadata: plugin custom_scalars, nothing else")
layout = decode("Layout", strings(r[6], "string_val")[0])
want = '''category {
  title: "main"
  chart {
    title: "loss"
    multiline {
      tag: "epoch_loss"
      tag: "epoch_val_loss"
    }
  }
}
category {
  title: "extra"
  chart {
    title: "band"
    margin {
      series {
        value: "acc"
        lower: "acc_lo"
        upper: "acc_hi"
      }
    }
  }
  closed: true
}
'''
check(layout == want, "Layout decodes to the categories, charts and series given:\n" + layout)
default = decode("Layout", strings(r[7], "string_val")[0])
charts = re.findall(r'title: "([^"]*)"\s*multiline {\s*tag: "([^"]*)"\s*}', default)
check(charts == [("loss", "epoch_loss$"), ("accuracy", "epoch_accuracy$")],
      "default layout: one multiline chart per metric over epoch_<metric>$ (train and validation runs): %r" % (charts,))

# projector: the config through protoc's text-format parser, then each file
run = os.path.join(tmp, "run")
cfg = subprocess.run(["protoc", "-I", data, "--encode=kcbcheck.ProjectorConfig", proto],
                     stdin=open(os.path.join(run, "projector_config.pbtxt"), "rb"), capture_output=True)
check(cfg.returncode == 0, "protoc parses projector_config.pbtxt: " + cfg.stderr.decode())
cfg = decode("ProjectorConfig", cfg.stdout)
want = '''embeddings {
  tensor_name: "features"
  metadata_path: "features/metadata.tsv"
  tensor_shape: 5
  tensor_shape: 3
  sprite {
    image_path: "features/sprite.png"
    single_image_dim: 3
    single_image_dim: 2
  }
  tensor_path: "features/tensor.bin"
}
'''
check(cfg == want, "ProjectorConfig fields:\n" + cfg)
values = (np.arange(15, dtype=np.float32) - np.float32(7)) * np.float32(0.37)
raw = open(os.path.join(run, "features/tensor.bin"), "rb").read()
try:
    raw.decode("utf-8")
    utf8 = True
except UnicodeDecodeError:
    utf8 = False
check(not utf8, "binary tensor is not valid UTF-8 (the plugin then reads it as float32)")
check(np.array_equal(np.frombuffer(raw, dtype="<f4").reshape(5, 3), values.reshape(5, 3)), "binary tensor values")
meta = open(os.path.join(run, "features/metadata.tsv")).read()
check(meta == "label\tkind\na\tx\nb\t\nc\ty\nd\tx\ne\tz\n", "metadata.tsv: header row, then one row per point: %r" % meta)
png = os.path.join(run, "features/sprite.png")
check(subprocess.run(["pngcheck", "-q", png]).returncode == 0, "pngcheck accepts the sprite")

def read_png(path):
    b = open(path, "rb").read()
    pos, idat, ihdr = 8, b"", None
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8])
        if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", b[pos + 8:pos + 21])
        if kind == b"IDAT": idat += b[pos + 8:pos + 8 + n]
        pos += 12 + n
    w, h, depth, ctype = ihdr[:4]
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw, stride, out, prev = zlib.decompress(idat), w * ch, [], bytearray(w * ch)
    for y in range(h):
        f, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - ch] if i >= ch else 0
            c = prev[i - ch] if i >= ch else 0
            p = a + prev[i] - c
            pr = a if abs(p - a) <= abs(p - prev[i]) and abs(p - a) <= abs(p - c) else prev[i] if abs(p - prev[i]) <= abs(p - c) else c
            row[i] = (row[i] + [0, a, prev[i], (a + prev[i]) // 2, pr][f]) & 255
        out.append(bytes(row))
        prev = row
    return w, h, ch, np.frombuffer(b"".join(out), dtype=np.uint8).reshape(h, w, ch)

w, h, ch, pix = read_png(png)
check((w, h, ch) == (9, 6, 3), "sprite: a 3 x 3 square of 3x2 RGB images = 9x6 px, got %dx%d x%d" % (w, h, ch))
images = ((np.arange(5 * 2 * 3 * 3) * 7 + 1) & 255).astype(np.uint8).reshape(5, 2, 3, 3)
ok = all(np.array_equal(pix[(i // 3) * 2:(i // 3) * 2 + 2, (i % 3) * 3:(i % 3) * 3 + 3], images[i]) for i in range(5))
check(ok and not pix[4:, 3:].any() and not pix[2:4, 6:].any(), "sprite: image i at column i % 3, row i // 3; the rest blank")

tsv_dir = os.path.join(tmp, "tsv")
cfg = subprocess.run(["protoc", "-I", data, "--encode=kcbcheck.ProjectorConfig", proto],
                     stdin=open(os.path.join(tsv_dir, "projector_config.pbtxt"), "rb"), capture_output=True, check=True).stdout
cfg = decode("ProjectorConfig", cfg)
check('tensor_path: "plain/tensor.tsv"' in cfg and 'metadata_path: "plain/metadata.tsv"' in cfg and "sprite" not in cfg,
      "TSV embedding: tensor and metadata paths, no sprite")
rows = [list(map(float, line.split("\t"))) for line in open(os.path.join(tsv_dir, "plain/tensor.tsv")) if line.strip()]
check(np.array_equal(np.array(rows, dtype=np.float32), values[:12].reshape(4, 3)), "TSV tensor parses back to the float32 values")
check(open(os.path.join(tsv_dir, "plain/metadata.tsv")).read() == "a\nb\nc\nd\n", "one metadata column: no header")
sys.exit(1 if fails else 0)
PY
