#!/usr/bin/python3
"""Checks the PNG charts `test_plot --write DIR` draws, with decoders independent of kcb:
pngcheck (when installed) and a PNG reader written here over Python's zlib (chunk CRCs, IHDR,
all five row filters). Usage: plot_check.py PATH/TO/test_plot"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# The palette's first color (Tableau blue), which the first series is drawn in.
BLUE = (31, 119, 180)


def decode_png(path):
    """Returns (width, height, rows) with rows a list of lists of (r, g, b[, a]) tuples."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG signature"
    pos, idat, ihdr, chunks = 8, b"", None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(ctype + body) & 0xFFFFFFFF == crc, f"{path}: bad CRC in {ctype!r}"
        chunks.append(ctype)
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND", f"{path}: chunks {chunks}"
    assert pos == len(data), f"{path}: bytes after IEND"
    width, height, depth, color_type, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0, f"{path}: depth {depth}, interlace {interlace}"
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    raw = zlib.decompress(idat)
    stride = width * bpp
    assert len(raw) == height * (stride + 1), f"{path}: {len(raw)} bytes of rows"
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 0:
                pred = 0
            elif ftype == 1:
                pred = a
            elif ftype == 2:
                pred = b
            elif ftype == 3:
                pred = (a + b) // 2
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            else:
                raise AssertionError(f"{path}: row {y} has filter {ftype}")
            line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x * bpp:(x + 1) * bpp]) for x in range(width)])
        prev = line
    return width, height, rows


def main():
    test_plot = sys.argv[1]
    out = tempfile.mkdtemp(prefix="kcb_plot_check_")
    try:
        subprocess.run([test_plot, "--write", out], check=True)
        expected = {"rising.png": (640, 400), "runs.png": (800, 500), "runs_log.png": (800, 500),
                    "odd_size.png": (321, 207)}
        assert sorted(os.listdir(out)) == sorted(expected), os.listdir(out)  # no temp files left
        pngcheck = shutil.which("pngcheck")
        for name, (w, h) in expected.items():
            path = os.path.join(out, name)
            if pngcheck:
                subprocess.run([pngcheck, "-q", path], check=True)
            width, height, rows = decode_png(path)
            assert (width, height) == (w, h), f"{name}: {width}x{height}, expected {w}x{h}"
            colors = {px for row in rows for px in row}
            assert len(colors) > (20 if name != "odd_size.png" else 5), f"{name}: only {len(colors)} colors"
            print(f"{name}: {width}x{height} ok")

        # The rising series: its blue pixels climb from left to right across the plot.
        width, height, rows = decode_png(os.path.join(out, "rising.png"))
        centers = []
        for x in range(100, width - 40, 40):
            ys = [y for y in range(height) if rows[y][x][:3] == BLUE]
            if ys:
                centers.append(sum(ys) / len(ys))
        assert len(centers) >= 10, centers
        assert all(b < a for a, b in zip(centers, centers[1:])), f"not rising: {centers}"
        assert centers[0] > height * 0.6 and centers[-1] < height * 0.3, centers
        # The single point of odd_size.png is one blue dot in the middle of the plot.
        width, height, rows = decode_png(os.path.join(out, "odd_size.png"))
        dot = [(x, y) for y in range(height) for x in range(width) if rows[y][x][:3] == BLUE]
        assert dot, "no dot"
        cx = sum(x for x, _ in dot) / len(dot)
        cy = sum(y for _, y in dot) / len(dot)
        assert width * 0.35 < cx < width * 0.75 and height * 0.25 < cy < height * 0.65, (cx, cy)
        print("pixel checks ok")
    finally:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
