#!/usr/bin/python3
"""Writes the new-style HDF5 fixtures of test_h5_dense with h5py (an independent writer): kcb's
checkpoint `src` (the 4 -> 8 relu -> 3 Adam model of the fuzz corpus) copied into
  order.weights.h5  track_order=True: every group new-style (Link Info + compact Link messages);
                    optimizer/vars (10 datasets) beyond 8 links, so in dense storage
  dense.weights.h5  libver='latest' (v2 object headers), plus 40 root attributes (dense attribute
                    storage, a B-tree of two levels) and 40 more groups in the root (its links in
                    a fractal heap whose root is an indirect block of direct blocks)
Run:  /usr/bin/python3 tests/data/saving/h5_dense_make.py SRC.weights.h5 OUTDIR
(SRC: tests/fuzz/corpus/checkpoint_h5/weights_h5 without its first byte, the fuzz layout byte)."""
import sys

import h5py
import numpy as np


def copy(src, dst, **kw):
    with h5py.File(src, "r") as a, h5py.File(dst, "w", track_order=True, **kw) as b:
        def rec(s, d):
            for k, v in s.attrs.items():
                d.attrs[k] = v
            for k in s:
                o = s[k]
                if isinstance(o, h5py.Group):
                    rec(o, d.create_group(k, track_order=True))
                else:
                    ds = d.create_dataset(k, data=o[()])
                    for ak, av in o.attrs.items():
                        ds.attrs[ak] = av
        rec(a, b)
        return b.filename


def main():
    src, out = sys.argv[1], sys.argv[2]
    copy(src, out + "/order.weights.h5")
    copy(src, out + "/dense.weights.h5", libver="latest")
    with h5py.File(out + "/dense.weights.h5", "a", libver="latest") as b:
        for i in range(40):
            b.attrs["extra_%03d" % i] = np.int32(i)
        for i in range(40):
            b.create_group("x%03d" % i)


main()
