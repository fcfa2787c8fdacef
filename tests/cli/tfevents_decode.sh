#!/usr/bin/env bash
# Every summary kind kcb writes, decoded by independent tools: the framing and CRCs by
# tfrecord_check.py, the messages by protoc with TensorBoard's field numbers (tb_min.proto),
# plugin contents by protoc --decode_raw, PNGs by pngcheck, WAVs by Python's wave module.
# Usage: tests/cli/tfevents_decode.sh BIN_DIR DATA_DIR
set -eu
bin=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=$("$bin/tfevents_sample" "$tmp/run")
/usr/bin/python3 "$data/tfrecord_check.py" "$file"
/usr/bin/python3 "$data/tfrecord_check.py" --decode "$file" >"$tmp/decoded.txt"
TMP=$tmp DATA=$data /usr/bin/python3 - "$tmp/decoded.txt" <<'PY'
import codecs, os, re, struct, subprocess, sys, wave, io

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

def raw(data):
    return subprocess.run(["protoc", "--decode_raw"], input=data, capture_output=True, check=True).stdout.decode()

check(len(records) == 13, "13 records (file_version + 12 events), got %d" % len(records))
r = records
check('file_version: "brain.Event:2"' in r[0] and 'writer: "kcb.tfevents"' in r[0], "first record: file_version, source_metadata")
# scalars: rank-0 DT_FLOAT with 4 LE bytes, metadata (plugin scalars, data class scalar) on the first only
check(re.search(r"wall_time: 1700000000.25\nstep: 3\n", r[1]) is not None, "scalar wall_time and step")
c = strings(r[1], "tensor_content")
check('tag: "loss"' in r[1] and "dtype: DT_FLOAT" in r[1] and "tensor_shape {\n      }" in r[1], "scalar: DT_FLOAT, empty shape")
check(c and struct.unpack("<f", c[0])[0] == 0.25, "scalar value 0.25")
check('plugin_name: "scalars"' in r[1] and "data_class: DATA_CLASS_SCALAR" in r[1], "scalar metadata")
check("metadata" not in r[2] and struct.unpack("<f", strings(r[2], "tensor_content")[0])[0] == 0.5 and "step: 4" in r[2],
      "second scalar without metadata")
# histogram: DT_DOUBLE [2,3] rows [left, right, count]
h = struct.unpack("<6d", strings(r[3], "tensor_content")[0])
check("dtype: DT_DOUBLE" in r[3] and re.search(r"size: 2\s*}\s*dim {\s*size: 3", r[3]) is not None, "histogram shape [2,3]")
check(h == (0.0, 1.5, 2.0, 1.5, 3.0, 2.0), "histogram buckets %r" % (h,))
check('plugin_name: "histograms"' in r[3], "histogram plugin")
# image: DT_STRING [3] = [width, height, png]
s = strings(r[4], "string_val")
check("dtype: DT_STRING" in r[4] and s[:2] == [b"3", b"2"] and len(s) == 3, "image tensor [width, height, png]")
png = os.path.join(os.environ["TMP"], "img.png")
open(png, "wb").write(s[2])
check(subprocess.run(["pngcheck", "-q", png]).returncode == 0, "pngcheck accepts the image")
w, hgt, depth, ctype = struct.unpack(">IIBB", s[2][16:26])
check((w, hgt, depth, ctype) == (3, 2, 8, 2), "PNG IHDR 3x2 8-bit RGB")
check('plugin_name: "images"' in r[4] and "DATA_CLASS_BLOB_SEQUENCE" in r[4], "image metadata")
# text: rank-0 DT_STRING
check(strings(r[5], "string_val") == [b"hello"] and 'plugin_name: "text"' in r[5] and "dim" not in r[5], "text")
# audio: DT_STRING [1,2] = [wav, label], AudioPluginData{encoding=WAV(11)}
s = strings(r[6], "string_val")
check(len(s) == 2 and s[1] == b"clip" and re.search(r"size: 1\s*}\s*dim {\s*size: 2", r[6]) is not None, "audio tensor [1,2]")
wv = wave.open(io.BytesIO(s[0]))
frames = struct.unpack("<4h", wv.readframes(4))
check((wv.getnchannels(), wv.getframerate(), wv.getsampwidth(), wv.getnframes()) == (1, 16000, 2, 4), "WAV header")
check(frames == (0, 16384, -16384, 32767), "WAV samples %r" % (frames,))
content = strings(r[6], "content")
check('plugin_name: "audio"' in r[6] and "2: 11" in raw(content[0]), "audio plugin content: encoding WAV")
# hparams: HParamsPluginData in the plugin content, NULL_TENSOR (DT_FLOAT [0]) as the value
ex = raw(strings(r[7], "content")[0])
check('tag: "_hparams_/experiment"' in r[7] and re.search(r'2 {\n.*?4 {\n\s*1: "lr"\n\s*4: 3', ex, re.S) is not None,
      "experiment: hparam lr of type FLOAT64")
check(re.search(r'1: "optimizer"\n\s*4: 1', ex) is not None and re.search(r'1: "use_bn"\n\s*4: 2', ex) is not None,
      "experiment: string and bool hparams")
check(re.search(r'5 {\n\s*1 {\n\s*1: "validation"\n\s*2: "epoch_loss"\n\s*}\n\s*5: 2', ex) is not None, "experiment: metric")
check("dtype: DT_FLOAT" in r[7] and re.search(r"dim {\s*}", r[7]) is not None, "hparams value is the null tensor")
st = raw(strings(r[8], "content")[0])
check(re.search(r'1: "lr"\n\s*2 {\n\s*2: 0x3f847ae147ae147b', st) is not None, "session start: lr = 0.01")
check(re.search(r'1: "optimizer"\n\s*2 {\n\s*3: "adam"', st) is not None, "session start: optimizer = adam")
check(re.search(r'1: "use_bn"\n\s*2 {\n\s*4: 1', st) is not None and '4: "g"' in st, "session start: use_bn, group")
en = raw(strings(r[9], "content")[0])
check(re.search(r"4 {\n\s*1: 1\n\s*2: 0x41d954fc40400000", en) is not None, "session end: SUCCESS at 1700000001")
check("session_log {\n  status: START\n}" in r[10] and "step: 9" in r[10], "SessionLog START at step 9")
# gray (two images) and RGBA: PNG color types 0 and 6
for rec, tag, dims, n, ctype in ((r[11], "gray", (3, 3), 2, 0), (r[12], "rgba", (2, 2), 1, 6)):
    s = strings(rec, "string_val")
    check(s[:2] == [str(dims[1]).encode(), str(dims[0]).encode()] and len(s) == 2 + n, "%s: [width, height] + %d PNGs" % (tag, n))
    for k, img in enumerate(s[2:]):
        open(png, "wb").write(img)
        check(subprocess.run(["pngcheck", "-q", png]).returncode == 0, "pngcheck accepts %s image %d" % (tag, k))
        check(struct.unpack(">IIBB", img[16:26]) == (dims[1], dims[0], 8, ctype), "%s image %d: IHDR color type %d" % (tag, k, ctype))
sys.exit(1 if fails else 0)
PY
