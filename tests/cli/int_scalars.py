#!/usr/bin/python3
"""Integer scalars printed exactly (issue 16, item 13): writes two runs whose scalar tags are
one-element integer tensors (DT_INT64 int64_val, DT_INT32 int_val, DT_UINT64 tensor_content,
DT_BOOL), a tag that mixes an int and a float, and a float tag. The Events are encoded by
`protoc --encode` with tests/data/tfevents/tb_min.proto (an independent writer), framed here. Then
checks that kcb-inspect scalars (table, csv, json), runs (text, json), diff (text, json), plot
--sparkline and hparams print every integer exactly -- INT64_MIN, INT64_MAX, 2^53 + 1, negative
values, uint64 above INT64_MAX -- as integers (`-5`, never `-5.0`), with JSON integer literals,
and that float tags still print as before.
Usage: int_scalars.py KCB_INSPECT SOURCE_DIR"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

from tfrecord_frames import field, record

inspect, source = sys.argv[1], sys.argv[2]
proto_dir = os.path.join(source, "tests", "data", "tfevents")

def encode(text):
    out = subprocess.run(["protoc", "-I", proto_dir, "--encode=kcbcheck.Event", "tb_min.proto"], input=text.encode(),
                         capture_output=True, check=True)
    return out.stdout


META = 'metadata { plugin_data { plugin_name: "scalars" } data_class: DATA_CLASS_SCALAR }'
seen = set()


def scalar_event(step, tag, tensor):
    """An Event holding one scalar value; the plugin metadata on the tag's first value (as TF writes)."""
    meta = META if tag not in seen else ""
    seen.add(tag)
    return encode(f'wall_time: {1.7e9 + step} step: {step} summary {{ value {{ tag: "{tag}" {meta} '
                  f'tensor {{ {tensor} }} }} }}')


def i64(v):
    return f"dtype: DT_INT64 tensor_shape {{}} int64_val: {v}"


def i32(v):
    return f"dtype: DT_INT32 tensor_shape {{}} int_val: {v}"


def u64(v):  # tb_min.proto has no uint64_val: the little-endian bytes in tensor_content
    return 'dtype: DT_UINT64 tensor_shape {} tensor_content: "%s"' % "".join("\\%03o" % b for b in struct.pack("<Q", v))


def boolean(v):
    return f"dtype: DT_BOOL tensor_shape {{}} bool_val: {'true' if v else 'false'}"


def f32(v):
    return f"dtype: DT_FLOAT tensor_shape {{}} float_val: {v}"


def hparams_event(step, tag, plugin_data):
    content = "".join("\\%03o" % b for b in plugin_data)
    return encode(f'wall_time: 1.7e9 step: {step} summary {{ value {{ tag: "{tag}" metadata {{ plugin_data {{ '
                  f'plugin_name: "hparams" content: "{content}" }} }} tensor {{ dtype: DT_FLOAT tensor_shape {{}} }} }} }}')


I64_MIN, I64_MAX, BIG = -2**63, 2**63 - 1, 2**53 + 1
# run a and run b: tag -> [(step, value, encoder)]
RUNS = {
    "a": {
        "count": [(0, -5, i64), (1, BIG, i64), (2, I64_MIN, i64), (3, I64_MAX, i64), (4, 7, i64), (5, I64_MIN, i64)],
        "int32": [(0, -2**31, i32), (1, 2**31 - 1, i32), (2, -1, i32)],
        "u64": [(0, 2**64 - 1, u64), (1, 2**63, u64), (2, 1, u64)],
        "flag": [(0, True, boolean), (1, False, boolean)],
        "big": [(0, BIG, i64)],
        "mixed": [(0, 3, i64), (1, 0.5, f32)],
        "loss": [(0, 0.25, f32), (1, 0.125, f32)],
    },
    "b": {
        "count": [(0, I64_MAX, i64)],
        "big": [(0, -BIG, i64)],
        "u64": [(0, -1, i64)],
        "loss": [(0, 0.5, f32)],
    },
}

failures = []


def check(cond, what, out=""):
    if not cond:
        failures.append(what + ("\n" + out if out else ""))


def run(*args):
    return subprocess.run([inspect, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as tmp:
    for name, tags in RUNS.items():
        seen.clear()
        events = [encode('wall_time: 1.7e9 file_version: "brain.Event:2"')]
        for tag, points in tags.items():
            for step, v, enc in points:
                events.append(scalar_event(step, tag, enc(v)))
        if name == "a":  # an hparams session whose metric is the int64 tag "count" (last value INT64_MIN)
            experiment = field(2, 2, field(4, 2, field(1, 2, b"lr") + field(4, 0, 3)) + field(5, 2, field(1, 2, field(2, 2, b"count"))))
            start = field(3, 2, field(1, 2, field(1, 2, b"lr") + field(2, 2, field(2, 1, 0.01))))
            for step, (tag, data) in enumerate([("_hparams_/experiment", experiment),
                                                ("_hparams_/session_start_info", start),
                                                ("_hparams_/session_end_info", field(4, 2, field(1, 0, 1)))]):
                events.append(hparams_event(step, tag, data))
        os.makedirs(os.path.join(tmp, name))
        with open(os.path.join(tmp, name, "events.out.tfevents.1700000000.host.1.0.v2"), "wb") as f:
            f.write(b"".join(record(e) for e in events))

    # scalars: table, csv, json
    table = run("scalars", tmp, "--tag", "count", "--run", "a")
    check(table.returncode == 0, f"scalars exited {table.returncode}", table.stderr)
    got = re.findall(r"^ +(\d+) +\S+ +(\S+)$", table.stdout, re.M)
    want = [(str(s), str(v)) for s, v, _ in RUNS["a"]["count"]]
    check(got == want, f"scalars table: {got} != {want}", table.stdout)
    csv = run("scalars", tmp, "--tag", "count", "--run", "a", "--format", "csv")
    rows = [line.split(",") for line in csv.stdout.splitlines()[1:]]
    check([(r[1], r[3]) for r in rows] == want, "scalars csv: the values are not the exact integers", csv.stdout)
    js = run("scalars", tmp, "--tag", "count", "--json")
    doc = json.loads(js.stdout)
    vals = [p[2] for p in doc["runs"]["a"]]
    check(vals == [v for _, v, _ in RUNS["a"]["count"]] and all(type(v) is int for v in vals),
          f"scalars --json: {vals!r} are not the exact integers", js.stdout)
    check(doc["runs"]["b"] == [[0, 1.7e9, I64_MAX]], "scalars --json run b", js.stdout)
    check("-5.0" not in js.stdout and "-5.0" not in table.stdout, "an integer printed as a double (-5.0)")
    for tag in ("int32", "u64", "flag"):
        js = run("scalars", tmp, "--tag", tag, "--run", "a", "--json")
        want_v = [int(v) for _, v, _ in RUNS["a"][tag]]
        got_v = [p[2] for p in json.loads(js.stdout)["runs"]["a"]]
        check(got_v == want_v and all(type(v) is int for v in got_v), f"scalars --json {tag}: {got_v} != {want_v}", js.stdout)
        t = run("scalars", tmp, "--tag", tag, "--run", "a")
        check(re.findall(r"^ +\d+ +\S+ +(\S+)$", t.stdout, re.M) == [str(v) for v in want_v], f"scalars {tag} table", t.stdout)
    # a tag with an int and a float value, and a float tag: doubles, as before
    js = run("scalars", tmp, "--tag", "mixed", "--json")
    check(json.loads(js.stdout)["runs"]["a"] == [[0, 1.7e9, 3.0], [1, 1.7e9 + 1, 0.5]] and ", 3.0]" in js.stdout,
          "a tag mixing an int and a float value is not read as floats", js.stdout)
    t = run("scalars", tmp, "--tag", "loss", "--run", "a")
    check(re.findall(r"^ +\d+ +\S+ +(\S+)$", t.stdout, re.M) == ["0.25", "0.125"], "float scalars changed", t.stdout)

    # runs: first / last / min / max
    r = run("runs", tmp)
    row = re.search(r"^  scalars +count +scalar +6 +0\.\.5 +(\S+) +(\S+) +(\S+) +(\S+)$", r.stdout, re.M)
    check(row is not None and row.groups() == ("-5", str(I64_MIN), str(I64_MIN), str(I64_MAX)),
          "runs: first / last / min / max of an int64 tag", r.stdout)
    row = re.search(r"^  scalars +u64 +scalar +3 +0\.\.2 +(\S+) +(\S+) +(\S+) +(\S+)$", r.stdout, re.M)
    check(row is not None and row.groups() == (str(2**64 - 1), "1", "1", str(2**64 - 1)), "runs: a uint64 tag", r.stdout)
    rj = json.loads(run("runs", tmp, "--json").stdout)
    tags = {t["tag"]: t for t in next(x for x in rj["runs"] if x["name"] == "a")["tags"]}
    stats = lambda t: (t["first"], t["last"], t["min"], t["max"])  # noqa: E731
    check(stats(tags["count"]) == (-5, I64_MIN, I64_MIN, I64_MAX) and all(type(x) is int for x in stats(tags["count"])),
          f"runs --json count: {stats(tags['count'])}")
    check(stats(tags["int32"]) == (-2**31, -1, -2**31, 2**31 - 1), f"runs --json int32: {stats(tags['int32'])}")
    check(stats(tags["big"]) == (BIG, BIG, BIG, BIG), f"runs --json big: {stats(tags['big'])} (2^53 + 1 rounded?)")
    check(stats(tags["loss"]) == (0.25, 0.125, 0.125, 0.25), f"runs --json loss: {stats(tags['loss'])}")

    # diff: B - A exactly, including differences that need 65 bits
    d = run("diff", os.path.join(tmp, "a"), os.path.join(tmp, "b"), "--json")
    dj = {t["tag"]: t for t in json.loads(d.stdout)["tags"]}
    check((dj["count"]["a"], dj["count"]["b"], dj["count"]["diff"]) == (I64_MIN, I64_MAX, 2**64 - 1),
          f"diff --json count: {dj['count']}", d.stdout)
    check((dj["big"]["a"], dj["big"]["b"], dj["big"]["diff"]) == (BIG, -BIG, -2 * BIG), f"diff --json big: {dj['big']}")
    check((dj["u64"]["a"], dj["u64"]["b"], dj["u64"]["diff"]) == (1, -1, -2), f"diff --json u64: {dj['u64']}")
    check(dj["loss"]["diff"] == 0.5 - 0.125, f"diff --json loss: {dj['loss']}")
    dt = run("diff", os.path.join(tmp, "a"), os.path.join(tmp, "b"))
    check(re.search(r"^count +5 +%d +0 +%d +%d +" % (I64_MIN, I64_MAX, 2**64 - 1), dt.stdout, re.M) is not None,
          "diff: the table's integers", dt.stdout)
    check(re.search(r"^big +0 +%d +0 +%d +%d +" % (BIG, -BIG, -2 * BIG), dt.stdout, re.M) is not None, "diff: 2^53 + 1", dt.stdout)
    # the 65-bit extremes: run a's u64 ends at 1, so compare its first point (2^64 - 1) with b's -1
    d0 = run("diff", os.path.join(tmp, "a"), os.path.join(tmp, "b"), "--step", "0", "--json")
    dj0 = {t["tag"]: t for t in json.loads(d0.stdout)["tags"]}
    check((dj0["u64"]["a"], dj0["u64"]["b"], dj0["u64"]["diff"]) == (2**64 - 1, -1, -2**64), f"diff --step 0 u64: {dj0['u64']}")
    check(dj0["count"]["diff"] == I64_MAX + 5, f"diff --step 0 count: {dj0['count']}")

    # hparams: the metric's final value
    hp = run("hparams", tmp)
    check(re.search(r"^a +0\.01 +%d +success$" % I64_MIN, hp.stdout, re.M) is not None, "hparams: an int64 metric",
          hp.stdout + hp.stderr)
    hj = json.loads(run("hparams", tmp, "--json").stdout)
    m = [x["metrics"] for x in hj["sessions"] if x["run"] == "a"]
    check(m and list(m[0].values()) == [I64_MIN] and type(list(m[0].values())[0]) is int, f"hparams --json: {m}")

    # plot --sparkline: first -> last exactly
    p = run("plot", tmp, "--tag", "count", "--run", "a", "--sparkline")
    check(p.stdout.rstrip().endswith(f"-5 -> {I64_MIN}"), "plot --sparkline: first and last integer", p.stdout + p.stderr)

for f in failures:
    print("FAIL " + f)
print(f"int_scalars: {len(failures)} failed")
sys.exit(1 if failures else 0)
