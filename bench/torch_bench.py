#!/usr/bin/env python3
"""PyTorch CPU reference for the ssl-workbook benchmark (bench/workloads.ts).

Times the same three training steps as the TensorFlow.js benchmark and prints
one JSON line per workload:
{"workload", "items_per_s", "ms_per_step", "threads", "engine"}.
`npm run bench` runs this with the thread count TensorFlow.js uses and prints
the ratio tfjs / pytorch per workload.

simclr-step   2 x 256 images 28x28x1; encoder conv3x3(1->32)+ReLU, maxpool2,
              conv3x3(32->64)+ReLU, maxpool2, conv3x3(64->128)+ReLU, global
              average pool; head 128->128+ReLU->64; NT-Xent (cosine, tau 0.5);
              Adam(lr=1e-3). Items: images per second. `steps` timed steps.
sgns-step     skip-gram, negative sampling: vocabulary 20000, dimension 100,
              1024 (center, context) pairs, 5 negatives each, separate input and
              output tables; loss -log sig(u.v) - sum log sig(-u.n), mean over
              pairs; Adam(lr=1e-3). Items: pairs per second. 10 x `steps`.
linear-probe  softmax regression on 8000 x 128 features, 10 classes, full
              batch; Adam(lr=1e-2). Items: examples x steps per second.
              10 x `steps`.

One warm-up step precedes the timed steps; each step ends with loss.item(),
so the time includes reading the loss, as on the TensorFlow.js side.

Needs PyTorch (Debian: apt-get install python3-torch; run with /usr/bin/python3).
Usage: torch_bench.py [--threads N] [--steps N] [--only NAME]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


def nt_xent(z, tau=0.5):
    z = F.normalize(z, dim=1)
    n = z.shape[0] // 2
    sim = z @ z.t() / tau
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def simclr_step(steps):
    batch = 256
    encoder = small_cnn()
    head = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 64))
    opt = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=1e-3)
    images = torch.randn(2 * batch, 1, 28, 28)

    def step():
        opt.zero_grad()
        loss = nt_xent(head(encoder(images)))
        loss.backward()
        opt.step()
        return loss.item()
    return step, 2 * batch, steps


def sgns_step(steps):
    vocab, dim, batch, k = 20000, 100, 1024, 5
    table_in, table_out = nn.Embedding(vocab, dim), nn.Embedding(vocab, dim)
    opt = torch.optim.Adam(list(table_in.parameters()) + list(table_out.parameters()), lr=1e-3)
    center = torch.randint(0, vocab, (batch,))
    context = torch.randint(0, vocab, (batch,))
    negatives = torch.randint(0, vocab, (batch, k))

    def step():
        opt.zero_grad()
        u = table_in(center)
        positive = F.logsigmoid((u * table_out(context)).sum(1))
        negative = F.logsigmoid(-(table_out(negatives) @ u.unsqueeze(2)).squeeze(2)).sum(1)
        loss = -(positive + negative).mean()
        loss.backward()
        opt.step()
        return loss.item()
    return step, batch, steps * 10


def linear_probe(steps):
    n, d, classes = 8000, 128, 10
    features, labels = torch.randn(n, d), torch.randint(0, classes, (n,))
    linear = nn.Linear(d, classes)
    opt = torch.optim.Adam(linear.parameters(), lr=1e-2)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(linear(features), labels)
        loss.backward()
        opt.step()
        return loss.item()
    return step, n, steps * 10


WORKLOADS = {"simclr-step": simclr_step, "sgns-step": sgns_step, "linear-probe": linear_probe}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--only", default=None, choices=sorted(WORKLOADS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, make in WORKLOADS.items():
        if args.only and name != args.only:
            continue
        step, items, steps = make(args.steps)
        step()  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            step()
        ms = (time.perf_counter() - start) / steps * 1000
        print(json.dumps({"workload": name, "items_per_s": round(items * 1000 / ms, 1),
                          "ms_per_step": round(ms, 2), "threads": torch.get_num_threads(),
                          "engine": "torch-" + torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
