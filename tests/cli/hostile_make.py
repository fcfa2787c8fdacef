#!/usr/bin/env python3
"""Makes the crafted inputs of tests/cli/hostile.sh (issue 15), with writers independent of kcb:
struct-packed IDX files and event records, h5py for HDF5 features, zipfile for archives.
Usage: hostile_make.py KIND OUT [ARGS...]"""
import struct
import sys
import zlib


def idx(path, dims, data, code=0x08):
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, code, len(dims)))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(bytes(data))


def mnist(out, test_size="4x4"):
    """A tiny MNIST-format data set: 40 training 4x4 images and 10 test images (4x4 unless told) of 10 classes."""
    for split, n in (("train", 40), ("t10k", 10)):
        h, w = (4, 4) if split == "train" else map(int, test_size.split("x"))
        idx(f"{out}/{split}-images-idx3-ubyte", (n, h, w), [(i * 37 + j * 11) % 256 for i in range(n) for j in range(h * w)])
        idx(f"{out}/{split}-labels-idx1-ubyte", (n,), [i % 10 for i in range(n)])


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def record(data):
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", masked(head)) + data + struct.pack("<I", masked(data))


def events(path, *evs):
    version = struct.pack("<Bd", 0x09, 1.0) + field(3, b"brain.Event:2")
    with open(path, "wb") as f:
        f.write(record(version) + b"".join(record(e) for e in evs))


def summary_event(step, tag, plugin, content, tensor=b""):
    meta = field(1, field(1, plugin.encode()) + field(2, content))
    value = field(1, tag.encode("latin-1")) + field(9, meta) + (field(8, tensor) if tensor else b"")
    return struct.pack("<Bd", 0x09, 2.0) + bytes([0x10]) + varint(step) + field(5, field(1, value))


def deep_hparams(out, depth):
    """An hparams session_start_info whose value nests list_value in list_value `depth` times."""
    depth = int(depth)
    core = struct.pack("<Bd", 0x11, 1.0)  # Value.number_value
    # Lengths inside out, then the prefixes outside in: no quadratic copying.
    keys = [(2, 0x1A), (1, 0x0A), (2, 0x12)] + [(1, 0x32), (1, 0x0A)] * depth
    lens = [len(core)]
    for _ in keys:
        lens.append(0)
    for i in range(1, len(keys) + 1):
        lens[i] = 1 + len(varint(lens[i - 1])) + lens[i - 1]
    parts = [bytes([k]) + varint(lens[len(keys) - j - 1]) for j, (_, k) in enumerate(keys)]
    content = b"".join(parts) + core
    events(out, summary_event(0, "_hparams_/session_start_info", "hparams", content))


def deep_json_h5(out, depth):
    """A legacy .h5 whose model_config nests JSON arrays `depth` deep."""
    import h5py
    depth = int(depth)
    with h5py.File(out, "w") as f:
        f.attrs["model_config"] = '{"class_name": "Sequential", "config": {"layers": ' + "[" * depth + "]" * depth + "}}"
        f.attrs["keras_version"] = "3.3.3"
        f.attrs["backend"] = "tensorflow"
        f.create_group("model_weights")


def shape_h5(out, *dims):
    """A legacy .h5 model: InputLayer batch_shape [null, *dims], Flatten, Dense(10); no weights."""
    import json
    import h5py
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None] + [int(float(d)) for d in dims], "name": "in"}},
              {"class_name": "Flatten", "config": {"name": "flatten"}},
              {"class_name": "Dense", "config": {"name": "dense", "units": 10, "activation": "softmax"}}]
    cfg = {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    with h5py.File(out, "w") as f:
        f.attrs["model_config"] = json.dumps(cfg)
        f.attrs["keras_version"] = "3.3.3"
        f.attrs["backend"] = "tensorflow"
        f.create_group("model_weights")


def patch_h5(out, src, *edits):
    """A copy of src with datasets (filled at their shape) or attributes replaced: ds:PATH=VALUE:DTYPE or attr:NAME=VALUE:DTYPE
    (e.g. ds:optimizer/vars/0=nan:f8, attr:kcb_epoch=9223372036854775807:i8)."""
    import shutil
    import h5py
    import numpy as np
    shutil.copyfile(src, out)
    with h5py.File(out, "r+") as f:
        for e in edits:
            kind, rest = e.split(":", 1)
            name, value = rest.split("=", 1)
            text, dtype = value.rsplit(":", 1)
            v = np.array(int(text) if dtype[0] in "iu" else float(text), dtype=dtype)
            if kind == "ds":  # the value fills the dataset's shape
                shape = f[name].shape
                del f[name]
                f.create_dataset(name, data=np.full(shape, v, dtype=dtype))
            else:
                f.attrs[name] = v


def outside_h5(out, src, kind):
    """A copy of src (a kcb .weights.h5) whose first kernel, layers/dense/vars/0, reaches outside the
    file: kind external (raw data in /dev/urandom), elink (the group layers/dense an external link into
    a copy beside it), soft (a soft link), filter (an unknown filter 32001, Blosc), scaleoffset (HDF5's scale-offset filter), virtual (a
    virtual dataset mapped from a copy), family (written by the family driver: out is its member 0)."""
    import shutil
    import h5py
    import numpy as np
    name = "layers/dense/vars/0"
    if kind == "family":
        import os
        pattern = os.path.join(os.path.dirname(out), os.path.basename(out).replace("0", "%d", 1))
        with h5py.File(src, "r") as f, h5py.File(pattern, "w", driver="family", memb_size=4096) as g:
            for k, v in f.attrs.items():
                g.attrs[k] = v
            f.visititems(lambda n, o: g.create_dataset(n, data=o[()]) if isinstance(o, h5py.Dataset) else g.require_group(n))
        return
    shutil.copyfile(src, out)
    other = out + ".other.h5"
    shutil.copyfile(src, other)
    with h5py.File(out, "r+") as f:
        data = f[name][()]
        if kind == "external":
            del f[name]
            f.create_dataset(name, shape=data.shape, dtype=data.dtype, external=[("/dev/urandom", 0, data.nbytes)])
        elif kind == "elink":
            del f["layers/dense"]
            f["layers/dense"] = h5py.ExternalLink(other, "/layers/dense")
        elif kind == "soft":
            f["layers/kernel_copy"] = data
            del f[name]
            f[name] = h5py.SoftLink("/layers/kernel_copy")
        elif kind == "filter":
            del f[name]
            f.create_dataset(name, data=data, chunks=data.shape, compression=32001, allow_unknown_filter=True)
        elif kind == "scaleoffset":  # built into libhdf5, but not one kcb's guard lets it decode
            del f[name]
            f.create_dataset(name, data=data, chunks=data.shape, scaleoffset=3)
        elif kind == "virtual":
            del f[name]
            layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
            layout[...] = h5py.VirtualSource(other, name, shape=data.shape)
            f.create_virtual_dataset(name, layout)


def escapes(out):
    """Tags and a text value with terminal escape sequences, and text with a NUL in the middle."""
    bad = "\x1b]0;pwned\x07\x1b[2J\x9b"  # retitle, clear screen, and an 8-bit CSI byte (invalid UTF-8)
    text = ("red \x1b[31mtext\x00after the NUL\nline 2").encode("latin-1")
    tensor = bytes([0x08, 0x07]) + field(8, text)  # dtype DT_STRING, string_val
    scalar_value = field(1, ("loss" + bad).encode("latin-1")) + struct.pack("<Bf", 0x15, 0.5)
    scalar = struct.pack("<Bd", 0x09, 2.0) + bytes([0x10, 1]) + field(5, field(1, scalar_value))
    events(out, summary_event(1, "note" + bad, "text", b"", tensor).replace(b"note", b"note", 1), scalar)


def long_tag(out, n):
    """One scalar whose tag is n letters long (longer than the tools show whole)."""
    scalar_value = field(1, b"L" * int(n) + b"!") + struct.pack("<Bf", 0x15, 0.5)
    events(out, struct.pack("<Bd", 0x09, 2.0) + bytes([0x10, 1]) + field(5, field(1, scalar_value)))


def image_sizes(out):
    """An images-plugin tensor whose width and height strings are not sizes ("abc", 11 digits)."""
    dims = field(2, bytes([0x08]) + varint(3))
    strings = b"".join(field(8, v) for v in (b"abc", b"99999999999", b"\x89PNG\r\n\x1a\n"))
    events(out, summary_event(0, "pic", "images", b"", bytes([0x08, 0x07]) + field(2, dims) + strings))


def text_shapes(out):
    """Text tensors of 4 strings whose shapes lie: [2^62 + 1, 4] (the product wraps to 4 in 64 bits)
    and [1 - 2^62, 4]."""
    strings = b"".join(field(8, b"cell%d" % i) for i in range(4))
    evs = []
    for step, rows in enumerate((2**62 + 1, 1 - 2**62)):
        dims = b"".join(field(2, bytes([0x08]) + varint(d & (2**64 - 1))) for d in (rows, 4))
        evs.append(summary_event(step, "note", "text", b"", bytes([0x08, 0x07]) + field(2, dims) + strings))
    events(out, *evs)


def histogram_shapes(out):
    """Histograms-plugin tensors that are no [k,3] bucket table: DT_DOUBLE of shape [2,2], and of
    shape [5,3] holding 3 doubles; then one good [1,3] histogram."""
    def hist(step, tag, rows, cols, values):
        dims = b"".join(field(2, bytes([0x08]) + varint(d)) for d in (rows, cols))
        content = field(4, struct.pack("<%dd" % len(values), *values))
        return summary_event(step, tag, "histograms", b"", bytes([0x08, 0x02]) + field(2, dims) + content)
    events(out, hist(0, "badshape", 2, 2, [0, 1, 2, 3]), hist(0, "short", 5, 3, [0, 1, 2]),
           hist(1, "good", 1, 3, [0.0, 1.0, 4.0]))


def latin_tag(out):
    """A scalar whose tag is not UTF-8: b"bad\\xff\\xfe" (DT_FLOAT 1.5)."""
    tensor = bytes([0x08, 0x01]) + field(4, struct.pack("<f", 1.5))
    events(out, summary_event(0, "bad\xff\xfe", "scalars", b"", tensor))


def text_rank3(out):
    """A text tensor of shape [2, 2, 3]: strings c0 .. c11."""
    strings = b"".join(field(8, b"c%d" % i) for i in range(12))
    dims = b"".join(field(2, bytes([0x08]) + varint(d)) for d in (2, 2, 3))
    events(out, summary_event(0, "cube", "text", b"", bytes([0x08, 0x07]) + field(2, dims) + strings))


def scalar_value(out, tag, value):
    """One float32 scalar `value` under `tag` at step 1."""
    tensor = bytes([0x08, 0x01]) + field(4, struct.pack("<f", float(value)))
    events(out, summary_event(1, tag, "scalars", b"", tensor))


def pr_tags(out, n):
    """n PR-curve tags (2 thresholds), one record each: a tag lookup must not be linear."""
    content = bytes([0x08, 0x00, 0x10, 0x02])  # PrCurvePluginData: version 0, num_thresholds 2
    dims = b"".join(field(2, bytes([0x08]) + varint(d)) for d in (6, 2))
    tensor = bytes([0x08, 0x01]) + field(2, dims) + field(4, struct.pack("<12f", *[1.0] * 12))
    events(out, *(summary_event(0, f"pr/{i}", "pr_curves", content, tensor) for i in range(int(n))))


def custom_scalars(out, n):
    """A custom-scalars layout: one multiline chart of n tags (joined for display: not quadratic)."""
    chart = field(1, b"c") + field(2, b"".join(field(1, b"t%d" % i) for i in range(int(n))))
    layout = field(2, field(1, b"cat") + field(2, chart))
    tensor = bytes([0x08, 0x07]) + field(8, layout)  # a DT_STRING scalar holding the Layout
    events(out, summary_event(0, "custom_scalars__config__", "custom_scalars", b"", tensor))


def keras_members(out, src, kind):
    """A copy of the .keras archive src with config.json twice (kind dup: the second one a
    different model), without it (kind noconfig), or with a member that deflates 1000 to 1 from a
    few kilobytes to 80 MB (kinds bomb_weights, bomb_config: the member's content, then zeros or
    spaces), or with every member compressed by LZMA (kind lzma: Python's zipfile writes it, and
    Keras reads it), or with config.json an array (kind array_config)."""
    import warnings
    import zipfile
    with zipfile.ZipFile(src) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    method = zipfile.ZIP_LZMA if kind == "lzma" else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", method) as z:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, and writes it
        for name, data in members:
            if name == "config.json" and kind == "noconfig":
                continue
            if kind == "bomb_" + name.split(".")[0].replace("model", "weights") and name != "metadata.json":
                data += (b"\0" if name.endswith(".h5") else b" ") * (80 << 20)
            if name == "config.json" and kind == "nan_config":  # Python's json.dumps writes NaN so
                data = data.replace(b'"units": 10', b'"units": 10, "note": NaN', 1)
            if name == "config.json" and kind == "array_config":  # JSON, but no model's config
                data = b"[1, 2, 3]"
            z.writestr(name, data)
            if name == "config.json" and kind == "dup":
                z.writestr(name, data.replace(b'"units": 10', b'"units": 7'))


def zip_comp_size(out, src):
    """A copy of the .keras archive src whose central directory says model.weights.h5 holds
    0xFFFFFFF0 compressed bytes (and as many uncompressed), far past the archive's end."""
    data = bytearray(open(src, "rb").read())
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == b"model.weights.h5":
            struct.pack_into("<II", data, at + 20, 0xFFFFFFF0, 0xFFFFFFF0)
            break
        at += 4
    open(out, "wb").write(bytes(data))


def image_names(out):
    """Images whose output names collide: tags a/b, a_b and "a b" at step 3 (one tag logged twice at a
    step is one image to TensorBoard, the later one). Each image's bytes are distinct (a PNG
    signature, then its own text)."""
    def image_event(step, tag, text):
        img = bytes([0x08, 1, 0x10, 1]) + field(4, b"\x89PNG\r\n\x1a\n" + text.encode())
        value = field(1, tag.encode()) + field(4, img)
        return struct.pack("<Bd", 0x09, 3.0) + bytes([0x10, step]) + field(5, field(1, value))
    events(out, image_event(3, "a/b", "first"), image_event(3, "a_b", "second"), image_event(3, "a b", "third"))


def long_image_tags(out):
    """Images whose tags are longer than a file name may be (300 letters, twice: one differing in its
    last letter), between two short ones."""
    def image_event(step, tag, text):
        img = bytes([0x08, 1, 0x10, 1]) + field(4, b"\x89PNG\r\n\x1a\n" + text.encode())
        value = field(1, tag.encode()) + field(4, img)
        return struct.pack("<Bd", 0x09, 3.0) + bytes([0x10, step]) + field(5, field(1, value))
    events(out, image_event(1, "short", "a"), image_event(1, "L" * 300 + "x", "b"), image_event(1, "L" * 300 + "y", "c"),
           image_event(1, "after", "d"))


def big_hparams(out, n_hparams, n_metrics, n_sessions="1"):
    """An hparams experiment with n_hparams hparam infos and n_metrics metric infos (run 'exp'), and
    n_sessions session runs each with every hparam set and one scalar per metric tag."""
    import os
    n_hparams, n_metrics, n_sessions = int(n_hparams), int(n_metrics), int(n_sessions)
    infos = b"".join(field(4, field(1, f"hp{i}".encode()) + bytes([0x20, 3])) for i in range(n_hparams))
    metrics = b"".join(field(5, field(1, field(2, f"m{i}".encode()))) for i in range(n_metrics))
    exp = field(2, infos + metrics)
    os.makedirs(f"{out}/exp", exist_ok=True)
    events(f"{out}/exp/events.out.tfevents.1.exp", summary_event(0, "_hparams_/experiment", "hparams", exp))
    number = struct.pack("<Bd", 0x11, 0.5)
    start = field(3, b"".join(field(1, field(1, f"hp{i}".encode()) + field(2, number)) for i in range(n_hparams)))
    for s in range(n_sessions):
        os.makedirs(f"{out}/s{s}", exist_ok=True)
        scalars = [struct.pack("<Bd", 0x09, 2.0) + bytes([0x10, 1]) +
                   field(5, field(1, field(1, f"m{i}".encode()) + struct.pack("<Bf", 0x15, i))) for i in range(n_metrics)]
        events(f"{out}/s{s}/events.out.tfevents.1.s", summary_event(0, "_hparams_/session_start_info", "hparams", start), *scalars)


def empty_groups(out, n):
    """A .weights.h5 holding n empty groups under layers/ (no layer kcb's model has)."""
    import h5py
    with h5py.File(out, "w") as f:
        g = f.create_group("layers")
        for i in range(int(n)):
            g.create_group(f"g{i}")
        f.create_group("vars")


def dtype_h5(out, src, kind):
    """A copy of src (a kcb .weights.h5) whose layers/dense/vars/0 has a crafted datatype message:
    committed (a shared, named datatype), noterm (a compound member's name and padding overwritten
    up to the message's end, so no NUL ends it), outside (a compound member at an offset past its
    compound's size), null (no dataspace extent), rank9 (9 dimensions), huge (10^12 values never written), naninf (NaN and infinities), bf16 (bfloat16 as Keras stores it)."""
    import shutil
    import h5py
    import numpy as np
    name = "layers/dense/vars/0"
    shutil.copyfile(src, out)
    with h5py.File(out, "r+") as f:
        data = f[name][()]
        del f[name]
        if kind == "null":  # a dataspace with no data at all (h5py.Empty), which reads as no value
            f.create_dataset(name, data=h5py.Empty("f4"))
            return
        if kind == "huge":  # 10^12 values declared in a few kilobytes: chunked, no chunk ever written
            f.create_dataset(name, shape=(10**6, 10**6), dtype="f4", chunks=(1000, 1000))
            return
        if kind == "naninf":  # a diverged kernel: 2 NaN and 3 infinite values among finite ones
            flat = data.astype("f4").ravel()
            flat[:5] = [np.nan, np.inf, -np.inf, np.nan, np.inf]
            f.create_dataset(name, data=flat.reshape(data.shape))
            return
        if kind == "bf16":  # as Keras stores bfloat16: 2-byte opaque elements, attribute dtype
            upper = (data.astype("<f4").view("<u4") >> 16).astype("<u2")
            ds = f.create_dataset(name, data=upper.view("V2"))
            ds.attrs["dtype"] = "bfloat16"
            return
        if kind == "rank9":
            f.create_dataset(name, data=np.zeros((1,) * 9, "f4"))
            return
        if kind == "committed":
            f["float_type"] = np.dtype("<f4")
            f.create_dataset(name, data=data, dtype=f["float_type"])
            return
        ct = np.dtype([("memberAAAAAAAAAAAAAAA", "<f4")])
        f.create_dataset(name, data=np.zeros(data.shape, ct))
    raw = bytearray(open(out, "rb").read())
    at = raw.index(b"memberAAAAAAAAAAAAAAA\0")
    if kind == "noterm":  # name, padding, offset, dimension bytes and the member's type: all non-NUL
        for i in range(at, at + 24 + 4 + 28 + 20):
            raw[i] = 0x41
    elif kind == "outside":  # the member's byte offset (after the name padded to 24 bytes) = 1000
        raw[at + 24:at + 28] = struct.pack("<I", 1000)
    open(out, "wb").write(bytes(raw))


def float_fields(out, src):
    """A copy of src whose first little-endian float32 datatype message puts the exponent's 8 bits at
    bit 30, past the type's 32 bits (type conversion would read outside each element)."""
    raw = bytearray(open(src, "rb").read())
    f32 = bytes([0x11, 0x20, 0x1F, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0])
    at = raw.index(f32)
    raw[at + 12] = 30
    open(out, "wb").write(bytes(raw))


def backup_state(out, src, kind):
    """A copy of the kcb file src with the state a mid-epoch backup keeps, damaged: kind rngzero
    (the shuffle generator's four words all zero, a state xoshiro256** never leaves), meansnan (a
    running total NaN)."""
    import shutil
    import h5py
    import numpy as np
    shutil.copyfile(src, out)
    with h5py.File(out, "r+") as f:
        rng = np.array(f.attrs["kcb_rng_state"], dtype="<u8") if "kcb_rng_state" in f.attrs else np.arange(1, 13, dtype="<u8")
        if kind == "rngzero":
            rng[8:12] = 0
        f.attrs["kcb_rng_state"] = rng
        means = np.zeros(2 * (1 + 8))  # (total, count) of the loss and 8 metrics
        means[0:4] = [12.5, 10, 5.0, 10]
        if kind == "meansnan":
            means[0] = np.nan
        f.attrs["kcb_epoch_means"] = means
        f.attrs["kcb_epoch"] = np.int64(0)
        f.attrs["kcb_batch"] = np.int64(2)
        f.attrs["kcb_batch_size"] = np.int64(32)
        f.attrs["kcb_train_samples"] = np.int64(200)


def hardlink_dag(out, src, depth):
    """A copy of the store src with a chain of groups under layers/, each linked twice ('a' and 'b')
    to the next by hard links: depth + 1 groups, 2^depth paths to the last."""
    import shutil
    import h5py
    shutil.copyfile(src, out)
    with h5py.File(out, "r+") as f:
        prev = f.create_group("layers/chain")
        for i in range(1, int(depth) + 1):
            g = f.create_group("pool/g%d" % i)
            prev["a"] = g
            prev["b"] = g
            prev = g


def null_vars_name(out, src):
    """A copy of src whose root vars group's `name` attribute holds no string (a null dataspace), which
    Keras's loader never reads."""
    import shutil
    import h5py
    shutil.copyfile(src, out)
    with h5py.File(out, "r+") as f:
        f["vars"].attrs["name"] = h5py.Empty(h5py.string_dtype())


def huge_length(out, length):
    """An event file whose second record's length, with a correct length CRC, is `length` bytes."""
    events(out)
    head = struct.pack("<Q", int(length))
    with open(out, "ab") as f:
        f.write(head + struct.pack("<I", masked(head)) + b"abc")

def main():
    kind, out, *args = sys.argv[1:]
    globals()[kind](out, *args)


if __name__ == "__main__":
    main()
