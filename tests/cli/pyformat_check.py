#!/usr/bin/python3
"""kcb's Python-format module against Python's own format(): every spec of a generated grid (fill,
align, sign, z, #, 0, width, grouping, precision, type) applied to ints and floats, plus templates.
Results must be equal text, and a ValueError/KeyError in Python must be an error in kcb.
Usage: pyformat_check.py DRIVER"""
import itertools
import random
import subprocess
import sys

driver = sys.argv[1]
rng = random.Random(1234)

ints = [0, 1, -1, 7, 42, -42, 255, 1234, -1234567, 10**12 + 7, 65]
floats = [0.0, -0.0, 0.5, -0.5, 1.0, 0.1, 0.12345, 1.5e-05, 123456.789, -98765.4321, 1e16, 1.23e-10, 0.000123,
          2.5, 3.5, 0.125, 1e22, float("inf"), float("-inf"), float("nan"), 9.9999, 0.99999999, 100.0, 1234567.0]
types = ["", "d", "b", "o", "x", "X", "c", "n", "e", "E", "f", "F", "g", "G", "%", "s", "q"]
aligns = ["", "<", ">", "^", "=", "*<", "*^", "0=", "x>"]
signs = ["", "+", "-", " "]
specs = set()
for a, s, t in itertools.product(aligns, signs, types):
    specs.add(f"{a}{s}{t}")
for _ in range(3000):
    spec = rng.choice(aligns) + rng.choice(signs) + rng.choice(["", "", "z"]) + rng.choice(["", "", "#"]) + \
        rng.choice(["", "", "0"]) + rng.choice(["", "1", "5", "8", "12", "20"]) + rng.choice(["", "", ",", "_"]) + \
        rng.choice(["", "", ".0", ".1", ".2", ".3", ".5", ".10", ".17"]) + rng.choice(types)
    specs.add(spec)
specs |= {"02d", ".2f", ".4e", "03d", ".3g", ".6", ".3", ".0", "010,.2f", "09,d", "08,d", "_b", "#x", "#o", "#b",
          ",", "_", ",.2f", ".2%", "+.1e", "z.1f", "z.0f", "#.0e", "#.0f", "#g", "#.3g", ".1", ".2", "10.1",
          "0", "00", "0>5", "0<5", "^9", "é^9d", "€>10.2f", ",_", "_,", ".", "5.", ".x", "dd", "<<5", "5c", "05c", "12c",
          "^5c", "0^5c", "_x", "#_b", "+,", "=+9.3f", "x<12", "0<8.3f"}
specs = sorted(specs)

cases = []
for spec in specs:
    for v in ints:
        cases.append(("i", v, spec))
    for v in floats:
        cases.append(("f", v, spec))

templates = [
    "weights.{epoch:02d}-{val_loss:.2f}.weights.h5", "model-{epoch}-{loss}.keras", "{{epoch}}-{epoch:03d}.h5",
    "ckpt_{batch:04d}_{epoch}.weights.h5", "{acc:.1%}.keras", "{loss:.4e}", "{loss!r}", "{epoch!s:>4}",
    "{acc:{w}}", "{}", "{0}", "{missing}", "{epoch", "epoch}", "}}{{", "{loss:.2q}", "{epoch:.2}", "{val_loss:+010.3f}",
    "a{epoch!x}", "plain.weights.h5", "{epoch:_>6}{batch:,}", "{epoch!s:05}", "{loss!r:010}", "{epoch!s:0>5}",
    "{epoch!r:=5}", "{epoch:5c}", "{epoch:05c}", "{loss!s:010s}",
]
env = {"epoch": 3, "batch": 12, "loss": 0.123456, "val_loss": 1.5e-05, "acc": 0.875}

import re
spec_re = re.compile(r"^(?:(.)?([<>=^]))?([-+ ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([a-zA-Z%])?$", re.S)
lines = []
expect = []
for kind, v, spec in cases:
    try:
        e = "OK " + format(v, spec)
    except (ValueError, TypeError, OverflowError):
        e = "ERR"
    if "\n" in spec or "\x00" in e:  # a NUL cannot be part of a C string / file name
        continue
    lines.append(f"{kind} {v if kind == 'i' else repr(v)} {spec}")
    expect.append(e)
for t in templates:
    try:
        e = "OK " + t.format(**env)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        e = "ERR"
    lines.append(f"t {t}")
    expect.append(e)

# Reading a value back from its text, as kcb-restore reads a name: every text Python writes is found
# again, and where the text loses nothing (no padding, no rounding) it is the very value.
for line, e in list(zip(lines, expect)):
    if line[0] not in "if" or not e.startswith("OK "):
        continue
    kind, v, spec = line.split(" ", 2)
    g = spec_re.match(spec)
    exact = g is not None and g.group(6) is None and g.group(7) is None and (
        g.group(10) in (None, "d", "n", "b", "o", "x", "X", "c") if kind == "i" else g.group(9) is None and g.group(10) is None)
    lines.append(f"u {kind} {v} {spec}")
    expect.append("OK 1 1" if exact else "OK 1")

# Matching, the reverse: every formatted name matches its template; a changed literal does not.
for t in templates:
    try:
        text = t.format(**env)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        continue
    if "{" in t.replace("{{", ""):
        lines.append(f"m {t}\t{text}")
        expect.append("OK 1")
        if not t.startswith("{") or t.startswith("{{"):  # a field first would take the extra "x" too
            lines.append(f"m {t}\tx{text}")
            expect.append("OK 0")

# Attribute and index access are not supported (file names have no use for them): kcb must refuse them.
for t in ["{epoch.real}", "{loss[0]}"]:
    lines.append(f"t {t}")
    expect.append("ERR")

# kcb_format_double against repr(): every power of two a double holds (2^-1074 .. 2^1023), where the
# shortest round-tripping text can be one with a larger last digit than the correctly rounded one,
# both signs, their neighbours one ulp away, and random doubles of every magnitude.
import math
import struct
reprs = []
for k in range(-1074, 1024):
    p = math.ldexp(1.0, k)
    reprs += [p, -p]
    if k < 1023:
        reprs += [math.nextafter(p, math.inf), math.nextafter(p, 0.0)]
reprs += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(63)))[0] for _ in range(4000)]
reprs += [rng.random() * 10 ** rng.randint(-30, 30) for _ in range(2000)]
for v in reprs:
    if math.isfinite(v):
        lines.append(f"r {v.hex()}")
        expect.append("OK " + repr(v))

out = subprocess.run([driver], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
got = out.split("\n")[:-1]
assert len(got) == len(lines), (len(got), len(lines))
bad = 0
for line, e, g in zip(lines, expect, got):
    if e == "ERR":
        ok = g.startswith("ERR")
    elif line.startswith("u ") and e == "OK 1":  # a padded or rounded text: found, its value may differ
        ok = g.startswith("OK 1 ")
    else:
        ok = g == e
    if not ok:
        bad += 1
        if bad <= 30:
            print(f"MISMATCH {line!r}: python {e!r}, kcb {g!r}")
n_err = sum(1 for e in expect if e == "ERR")
print(f"{len(lines)} cases ({len(lines) - n_err} formatted, {n_err} errors in Python), {bad} mismatches")
sys.exit(1 if bad else 0)
