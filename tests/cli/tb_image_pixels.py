"""Checks kcb's --write-images pixels against tf.image.convert_image_dtype's float -> uint8 rule.

Usage: tb_image_pixels.py set WEIGHTS_H5        puts weights on the Dense kernel (784, 10) whose
                                                float32 product with 255.5 rounds up to a whole
                                                number, and their neighbours
       tb_image_pixels.py check WEIGHTS_H5 PNG  decodes the kernel's image (8-bit grey PNG, the
                                                kernel transposed to 10 x 784 as Keras draws it)
                                                and compares every pixel; prints "ok N pixels"
The rule: x * 255.5 in float32, clipped to [0, 255], truncated (TensorFlow's saturate_cast).
"""
import struct
import sys
import zlib

import h5py
import numpy as np


def kernel_path(f):
    for name in f["layers"]:
        if "vars" in f["layers"][name] and f["layers"][name]["vars"]["0"].ndim == 2:
            return f"layers/{name}/vars/0"
    raise SystemExit("no Dense kernel")


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour == 0, "not 8-bit grey"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, rows, prev = zlib.decompress(idat), [], bytearray(width)
    for r in range(height):
        line = raw[r * (width + 1):(r + 1) * (width + 1)]
        kind, cur = line[0], bytearray(line[1:])
        for i in range(width):
            left = cur[i - 1] if i else 0
            up, upleft = prev[i], prev[i - 1] if i else 0
            if kind == 1: cur[i] = (cur[i] + left) & 255
            elif kind == 2: cur[i] = (cur[i] + up) & 255
            elif kind == 3: cur[i] = (cur[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                cur[i] = (cur[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 255
        rows.append(bytes(cur))
        prev = cur
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width)


if sys.argv[1] == "set":
    with h5py.File(sys.argv[2], "r+") as f:
        path = kernel_path(f)
        k = f[path][()]
        levels = np.arange(256, dtype=np.float32)
        exact = levels / np.float32(255.5)  # products near whole numbers, on both sides
        values = np.concatenate([exact, np.nextafter(exact, np.float32(1)), np.nextafter(exact, np.float32(-1)),
                                 np.float32([0.03131115436553955, -0.5, 1.5, 0.999, 1.0])])
        flat = k.reshape(-1).copy()
        flat[:values.size] = values
        f[path][...] = flat.reshape(k.shape)
else:
    with h5py.File(sys.argv[2], "r") as f:
        k = f[kernel_path(f)][()].astype(np.float32)
    want = np.clip(k.T * np.float32(255.5), 0, 255).astype(np.uint8)  # float32 product, then truncated
    got = read_png(sys.argv[3])
    assert got.shape == want.shape, f"image {got.shape}, kernel transposed {want.shape}"
    bad = np.argwhere(got != want)
    if bad.size:
        r, c = bad[0]
        raise SystemExit(f"{len(bad)} pixels differ; first at {r},{c}: weight {k.T[r, c]!r} -> {got[r, c]}, want {want[r, c]}")
    print(f"ok {got.size} pixels")
