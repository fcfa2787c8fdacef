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


def mnist(out):
    """A tiny MNIST-format data set: 40 training and 10 test 4x4 images of 10 classes."""
    for split, n in (("train", 40), ("t10k", 10)):
        idx(f"{out}/{split}-images-idx3-ubyte", (n, 4, 4), [(i * 37 + j * 11) % 256 for i in range(n) for j in range(16)])
        idx(f"{out}/{split}-labels-idx1-ubyte", (n,), [i % 10 for i in range(n)])


def main():
    kind, out, *args = sys.argv[1:]
    globals()[kind](out, *args)


if __name__ == "__main__":
    main()
