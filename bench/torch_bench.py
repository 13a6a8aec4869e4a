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
resnet-step   SimCLR on the small ResNet: 2 x 64 images 28x28x1; stem
              conv3x3(1->16)+BN+ReLU; three stages of one basic block (32, 64,
              128 channels; conv3x3 stride 2 + BN + ReLU, conv3x3 + BN, 1x1
              stride-2 projection + BN, add, ReLU; no conv biases); global
              average pool; head 128->128+ReLU->64; NT-Xent (tau 0.5);
              Adam(lr=1e-3). Items: images. `steps` timed steps.
transformer-step  a character GPT: vocabulary 96, context 32, batch 32, width
              64, 4 heads, 2 pre-norm blocks (LN, causal attention with q/k/v/out
              projections, LN, MLP 64->256 GELU(tanh)->64), final LN, output tied
              to the token embedding plus a bias, learned positions; mean
              next-token cross-entropy; Adam(lr=3e-3). Items: sequences.
              10 x `steps`.
mae-step      MAE: 64 images 28x28x1 cut into 16 patches of 7x7; per image a
              new random 75% hidden; ViT encoder (patch embedding 49->64, learned
              positions, 2 pre-norm blocks as above, final LN) on the 4 visible
              patches; decoder: 64->64 embedding, a learned mask token at the
              hidden positions, its own positions, 1 block, LN, 64->49 head;
              squared error on the hidden patches; Adam(lr=1e-3). Items: images.
              10 x `steps`.
log-mel       no training: log-mel spectrograms of 512 one-second waves at 8 kHz,
              frames of 256 (periodic Hann), hop 128, no centring, 32 HTK mel
              bands 60-4000 Hz, log(power @ bank + 1e-6). Items: recordings.
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
    return simclr_on(small_cnn(), 256, steps)


def simclr_on(encoder, batch, steps):
    """One SimCLR step of `encoder` on 2 x `batch` fixed images, head 128->128->64, NT-Xent."""
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


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim=64, heads=4, causal=False):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.mlp_in, self.mlp_out = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        scores = q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5
        if self.causal:
            scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(attended)
        return x + self.mlp_out(F.gelu(self.mlp_in(self.norm2(x)), approximate="tanh"))


def small_resnet():
    def conv_bn(cin, cout, k, stride):
        return [nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout)]

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(cin, cout, 3, 2), nn.ReLU(), *conv_bn(cout, cout, 3, 1))
            self.shortcut = nn.Sequential(*conv_bn(cin, cout, 1, 2))

        def forward(self, x):
            return F.relu(self.body(x) + self.shortcut(x))

    return nn.Sequential(*conv_bn(1, 16, 3, 1), nn.ReLU(), BasicBlock(16, 32), BasicBlock(32, 64),
                         BasicBlock(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def resnet_step(steps):
    return simclr_on(small_resnet(), 64, steps)


def transformer_step(steps):
    vocab, context, batch, dim = 96, 32, 32, 64
    embedding = nn.Embedding(vocab, dim)
    positions = nn.Parameter(0.02 * torch.randn(context, dim))
    blocks = nn.Sequential(Block(dim, 4, causal=True), Block(dim, 4, causal=True))
    norm, out_bias = nn.LayerNorm(dim), nn.Parameter(torch.zeros(vocab))
    params = [*embedding.parameters(), positions, *blocks.parameters(), *norm.parameters(), out_bias]
    opt = torch.optim.Adam(params, lr=3e-3)
    windows = torch.randint(0, vocab, (batch, context + 1))

    def step():
        opt.zero_grad()
        h = norm(blocks(embedding(windows[:, :-1]) + positions))
        logits = h @ embedding.weight.t() + out_bias
        loss = F.cross_entropy(logits.reshape(-1, vocab), windows[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step, batch, steps * 10


def mae_step(steps):
    batch, patches, patch_dim, dim, visible = 64, 16, 49, 64, 4
    embed, positions = nn.Linear(patch_dim, dim), nn.Parameter(0.02 * torch.randn(patches, dim))
    encoder, encoder_norm = nn.Sequential(Block(dim), Block(dim)), nn.LayerNorm(dim)
    decoder_embed, mask_token = nn.Linear(dim, dim), nn.Parameter(0.02 * torch.randn(dim))
    decoder_positions = nn.Parameter(0.02 * torch.randn(patches, dim))
    decoder, decoder_norm, head = Block(dim), nn.LayerNorm(dim), nn.Linear(dim, patch_dim)
    modules = [embed, encoder, encoder_norm, decoder_embed, decoder, decoder_norm, head]
    params = [p for m in modules for p in m.parameters()] + [positions, mask_token, decoder_positions]
    opt = torch.optim.Adam(params, lr=1e-3)
    images = torch.rand(batch, 1, 28, 28)
    # [batch, 16, 49]: row-major 4 x 4 grid of 7 x 7 patches.
    target = images.view(batch, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(batch, patches, patch_dim)

    def step():
        opt.zero_grad()
        order = torch.rand(batch, patches).argsort(1)
        keep, hidden = order[:, :visible], order[:, visible:]
        tokens = embed(target.gather(1, keep.unsqueeze(2).expand(-1, -1, patch_dim))) + positions[keep]
        encoded = decoder_embed(encoder_norm(encoder(tokens)))
        full = mask_token.expand(batch, patches, dim).scatter(1, keep.unsqueeze(2).expand(-1, -1, dim), encoded)
        predictions = head(decoder_norm(decoder(full + decoder_positions)))
        mask = torch.zeros(batch, patches).scatter(1, hidden, 1.0).unsqueeze(2)
        loss = (((predictions - target) ** 2) * mask).sum() / (mask.sum() * patch_dim)
        loss.backward()
        opt.step()
        return loss.item()
    return step, batch, steps * 10


def mel_bank(sample_rate=8000, fft=256, bands=32, f_min=60.0, f_max=4000.0):
    mel = lambda hz: 2595 * torch.log10(1 + hz / 700)
    edges = 700 * (10 ** (torch.linspace(mel(torch.tensor(f_min)), mel(torch.tensor(f_max)), bands + 2) / 2595) - 1)
    freqs = torch.linspace(0, sample_rate / 2, fft // 2 + 1).unsqueeze(1)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    return torch.clamp(torch.minimum((freqs - lower) / (centre - lower), (upper - freqs) / (upper - centre)), min=0)


def log_mel(steps):
    count, samples = 512, 8000
    waves = torch.rand(count, samples) * 2 - 1
    window, bank = torch.hann_window(256, periodic=True), mel_bank()

    def step():
        with torch.no_grad():
            spectrum = torch.stft(waves, 256, 128, window=window, center=False, return_complex=True)
            power = spectrum.abs().pow(2).transpose(1, 2)  # [count, frames, 129]
            return torch.log(power @ bank + 1e-6).mean().item()
    return step, count, steps * 10


WORKLOADS = {"simclr-step": simclr_step, "sgns-step": sgns_step, "linear-probe": linear_probe,
             "resnet-step": resnet_step, "transformer-step": transformer_step, "mae-step": mae_step,
             "log-mel": log_mel}


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
