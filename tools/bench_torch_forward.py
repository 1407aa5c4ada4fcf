#!/usr/bin/python3
"""Times the same GPT-2-small-shaped forward as benchmarks/IoiBench.Benchmarks/ForwardBenchmark.cs in PyTorch (CPU):
random weights, 64 prompts x 19 tokens, logits at the last position, float32, no autograd.

    /usr/bin/python3 tools/bench_torch_forward.py [--threads 2] [--repeats 10]

Prints the median time per forward and its GFLOP/s (same flop count as the C# benchmark).
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

LAYERS, HEADS, D, MLP, VOCAB, POSITIONS = 12, 12, 768, 3072, 50257, 1024
BATCH, SEQ = 64, 19
DH = D // HEADS


def flops():
    rows = BATCH * SEQ
    per_layer = 2 * rows * D * (3 * D + D + 2 * MLP) + 2 * 2 * BATCH * HEADS * (SEQ * (SEQ + 1) // 2) * DH
    return LAYERS * per_layer + 2 * BATCH * D * VOCAB


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    def rand(*shape):
        return (torch.rand(*shape) * 2 - 1) * 0.035

    wte, wpe = rand(VOCAB, D), rand(POSITIONS, D)
    layers = [dict(attn_w=rand(D, 3 * D), attn_b=torch.zeros(3 * D), proj_w=rand(D, D), proj_b=torch.zeros(D),
                   fc_w=rand(D, MLP), fc_b=torch.zeros(MLP), out_w=rand(MLP, D), out_b=torch.zeros(D),
                   ln1=(torch.ones(D), torch.zeros(D)), ln2=(torch.ones(D), torch.zeros(D))) for _ in range(LAYERS)]
    ln_f = (torch.ones(D), torch.zeros(D))
    tokens = torch.randint(0, VOCAB, (BATCH, SEQ))
    mask = torch.triu(torch.full((SEQ, SEQ), float("-inf")), diagonal=1)

    def forward():
        x = (wte[tokens] + wpe[:SEQ]).reshape(BATCH * SEQ, D)
        for p in layers:
            h = F.layer_norm(x, (D,), *p["ln1"], eps=1e-5)
            q, k, v = torch.addmm(p["attn_b"], h, p["attn_w"]).split(D, dim=-1)
            q, k, v = (t.reshape(BATCH, SEQ, HEADS, DH).transpose(1, 2) for t in (q, k, v))
            pattern = (q @ k.transpose(-1, -2) / math.sqrt(DH) + mask).softmax(dim=-1)
            z = (pattern @ v).transpose(1, 2).reshape(BATCH * SEQ, D)
            x = x + torch.addmm(p["proj_b"], z, p["proj_w"])
            h = F.layer_norm(x, (D,), *p["ln2"], eps=1e-5)
            x = x + torch.addmm(p["out_b"], F.gelu(torch.addmm(p["fc_b"], h, p["fc_w"]), approximate="tanh"), p["out_w"])
        last = F.layer_norm(x.reshape(BATCH, SEQ, D)[:, -1], (D,), *ln_f, eps=1e-5)
        return last @ wte.T

    with torch.no_grad():
        for _ in range(3):
            forward()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            forward()
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: median {median * 1e3:.1f} ms "
          f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}) over {args.repeats} forwards, "
          f"{flops() / median / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
