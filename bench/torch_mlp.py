#!/usr/bin/env python3
"""PyTorch baseline: MLP training throughput on Fashion-MNIST.

Usage:
    python3 bench/torch_mlp.py [--threads N] [--epochs E] [--data DIR]
                               [--batch-size B] [--limit N]

Model 784-256-128-10 (ReLU), softmax cross-entropy on logits,
Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-7), shuffled mini-batches.
All data lives in pre-built in-memory tensors; only the training step
(forward, loss, backward, optimizer step, zero_grad) is timed.

Prints exactly one line on stdout:
    torch_mlp threads=<N> batch=<B> samples_per_sec=<float> epochs=<E> \
seconds=<float> final_loss=<float> torch=<version>

Note: Debian's python3-torch is installed for the system interpreter
(/usr/bin/python3). If `python3` resolves to another interpreter (e.g. a
pyenv shim) that cannot import torch, this script re-executes itself once
under /usr/bin/python3.
"""

import argparse
import gzip
import os
import struct
import sys
import time

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
IMAGES_FILE = "train-images-idx3-ubyte.gz"
LABELS_FILE = "train-labels-idx1-ubyte.gz"
SYSTEM_PYTHON = "/usr/bin/python3"
REEXEC_GUARD = "KCB_TORCH_MLP_REEXEC"


def die(msg):
    sys.stderr.write("torch_mlp: error: %s\n" % msg)
    sys.exit(1)


def import_torch():
    try:
        import numpy  # noqa: F401
        import torch  # noqa: F401
        return
    except ImportError as e:
        err = e
    # Fall back to the system interpreter, where Debian installs torch.
    if (os.environ.get(REEXEC_GUARD) != "1"
            and os.path.exists(SYSTEM_PYTHON)
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)):
        sys.stderr.write("torch_mlp: note: %s (%s); re-running under %s\n"
                         % (err, sys.executable, SYSTEM_PYTHON))
        sys.stderr.flush()
        env = dict(os.environ)
        env[REEXEC_GUARD] = "1"
        os.execve(SYSTEM_PYTHON,
                  [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:],
                  env)
    die("cannot import torch/numpy (%s) with %s; install Debian's "
        "python3-torch (apt-get install python3-torch)" % (err, sys.executable))


def report_blas_threads(threads):
    """Diagnostic on stderr: torch.set_num_threads() does not limit the
    thread pool of the BLAS that Debian's torch uses for Linear layers
    (OpenBLAS, pthreads build by default), so "threads=1" may still run
    matrix multiplies on every core. Set OPENBLAS_NUM_THREADS to control it.
    """
    try:
        import ctypes
        lib = ctypes.CDLL("libopenblas.so.0")
        n = lib.openblas_get_num_threads()
        kind = {0: "sequential", 1: "pthreads", 2: "openmp"}.get(
            lib.openblas_get_parallel(), "unknown")
    except (OSError, AttributeError):
        return
    msg = "torch_mlp: note: OpenBLAS (%s) uses %d thread(s)" % (kind, n)
    if n != threads:
        msg += (" while torch threads=%d; set OPENBLAS_NUM_THREADS=%d to "
                "match" % (threads, threads))
    sys.stderr.write(msg + "\n")


def read_idx(path, magic, ndim):
    import numpy as np
    if not os.path.isfile(path):
        die("data file not found: %s" % path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))
    hdr = 4 + 4 * ndim
    if len(raw) < hdr:
        die("%s: truncated IDX header" % path)
    (m,) = struct.unpack(">I", raw[:4])
    if m != magic:
        die("%s: bad IDX magic 0x%08x (expected 0x%08x)" % (path, m, magic))
    dims = struct.unpack(">" + "I" * ndim, raw[4:hdr])
    count = 1
    for d in dims:
        count *= d
    if len(raw) - hdr < count:
        die("%s: truncated IDX payload" % path)
    return np.frombuffer(raw, dtype=np.uint8, count=count,
                         offset=hdr).reshape(dims)


def load_fashion_mnist(data_dir, limit):
    import numpy as np
    images = read_idx(os.path.join(data_dir, IMAGES_FILE), 0x00000803, 3)
    labels = read_idx(os.path.join(data_dir, LABELS_FILE), 0x00000801, 1)
    if images.shape[0] != labels.shape[0]:
        die("image/label count mismatch: %d vs %d"
            % (images.shape[0], labels.shape[0]))
    if limit is not None and limit > 0:
        images = images[:limit]
        labels = labels[:limit]
    x = images.reshape(images.shape[0], -1).astype(np.float32) * (1.0 / 255.0)
    y = labels.astype(np.int64)
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--limit", type=int, default=None,
                    help="use only the first N training samples")
    ap.add_argument("--warmup-batches", type=int, default=20)
    args = ap.parse_args()
    if args.threads < 1 or args.epochs < 1 or args.batch_size < 1:
        die("--threads, --epochs and --batch-size must be >= 1")

    import_torch()
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    report_blas_threads(args.threads)

    x_np, y_np = load_fashion_mnist(args.data, args.limit)
    n = x_np.shape[0]
    if n == 0:
        die("no training samples")
    x = torch.from_numpy(np.ascontiguousarray(x_np))
    y = torch.from_numpy(np.ascontiguousarray(y_np))
    bs = args.batch_size

    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3,
                           betas=(0.9, 0.999), eps=1e-7)
    model.train()

    def make_batches(gen):
        perm = torch.randperm(n, generator=gen)
        xs = x[perm]
        ys = y[perm]
        return [(xs[i:i + bs], ys[i:i + bs]) for i in range(0, n, bs)]

    def step(xb, yb):
        out = model(xb)
        loss = loss_fn(out, yb)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss

    gen = torch.Generator()
    gen.manual_seed(0)

    # Warm-up (allocator, Adam state, thread pool); not timed.
    warm = make_batches(gen)[:max(0, args.warmup_batches)]
    for xb, yb in warm:
        step(xb, yb)

    # Pre-build every epoch's shuffled batches so only training is timed.
    epochs = [make_batches(gen) for _ in range(args.epochs)]

    total = 0
    loss = None
    t0 = time.perf_counter()
    for batches in epochs:
        for xb, yb in batches:
            loss = step(xb, yb)
            total += xb.shape[0]
    seconds = time.perf_counter() - t0
    final_loss = float(loss.item())

    print("torch_mlp threads=%d batch=%d samples_per_sec=%.1f epochs=%d "
          "seconds=%.4f final_loss=%.6f torch=%s"
          % (args.threads, bs, total / seconds, args.epochs, seconds,
             final_loss, torch.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
