#!/usr/bin/env python3
"""PyTorch baseline: the training throughput and peak memory of kcb-train's preset CNN.

Usage:
    /usr/bin/python3 bench/torch_cnn.py [--threads N] [--samples N] [--epochs E] [--batch-size B]

The network of kcb_model_spec_preset("cnn"), in PyTorch's NCHW layout and Keras's settings:
Conv2d(1, 32, 3) + ReLU, BatchNorm2d(eps=1e-3, momentum=0.01), MaxPool2d(2),
Conv2d(32, 64, 3) + ReLU, BatchNorm2d, MaxPool2d(2), Dropout(0.25), Flatten, Linear(1600, 128) +
ReLU, Dropout(0.4), Linear(128, 10); cross-entropy on logits; Adam(lr=1e-3, eps=1e-7). Synthetic data of
Fashion-MNIST's shape, the same recipe as bench/bench_cnn.c; the batches are built before the
timer starts, so only training steps (forward, loss, backward, step, zero_grad) are timed.

Prints one line:
    torch_cnn threads=<N> batch=<B> samples_per_sec=<float> epochs=<E> seconds=<float> \
max_rss_kb=<int> torch=<version>
Debian's python3-torch is installed for /usr/bin/python3 (not in CI's dependencies).
"""
import argparse
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=8192)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    try:
        import torch
        from torch import nn
    except ImportError as e:
        sys.exit("torch_cnn: cannot import torch (%s): apt-get install python3-torch, run with /usr/bin/python3" % e)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, bs = args.samples, args.batch_size
    idx = torch.arange(n * 784, dtype=torch.int64)
    x = ((idx * 7919) % 256).to(torch.float32).div_(255.0).reshape(n, 28, 28, 1).permute(0, 3, 1, 2).contiguous()
    y = torch.arange(n, dtype=torch.int64) % 10
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    model.train()

    def step(xb, yb):
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=False)

    gen = torch.Generator()
    gen.manual_seed(0)
    epochs = []
    for _ in range(args.epochs):
        perm = torch.randperm(n, generator=gen)
        xs, ys = x[perm], y[perm]
        epochs.append([(xs[i:i + bs], ys[i:i + bs]) for i in range(0, n, bs)])
    for xb, yb in epochs[0][:5]:  # warm-up: allocator, Adam state, thread pool
        step(xb, yb)
    t0 = time.perf_counter()
    for batches in epochs:
        for xb, yb in batches:
            step(xb, yb)
    seconds = time.perf_counter() - t0
    print("torch_cnn threads=%d batch=%d samples_per_sec=%.1f epochs=%d seconds=%.2f max_rss_kb=%d torch=%s"
          % (args.threads, bs, n * args.epochs / seconds, args.epochs, seconds,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, torch.__version__))


if __name__ == "__main__":
    main()
