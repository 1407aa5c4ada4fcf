#!/usr/bin/python3
"""Times the SAE training loop of benchmarks/IoiBench.Benchmarks/SaeTrainingBenchmark.cs in PyTorch (CPU): 20 Adam
steps of 64->512 SAEs at batch 512 (forward, autograd backward, Adam, unit-norm decoder rows), for one SAE and for
48 SAEs. 48 SAEs run two ways: one after another, and stacked into one batched model (torch.bmm), which is how one
would train many small SAEs at once in PyTorch.

    /usr/bin/python3 tools/bench_torch_sae.py [--threads 2] [--repeats 5] [--variant vanilla|topk]

Prints the median time per 20 steps, GFLOP/s (same flop count as the C# benchmark) and examples x latents per second.
"""
import argparse
import statistics
import time

import torch

D_IN, WIDTH, BATCH, STEPS = 64, 512, 512, 20
L1, K = 2.5, 8


def make(n=None):
    """One SAE (2-D weights, plain matrix products) or n stacked SAEs (a leading axis, batched products):
    W_enc [d, w], W_dec [w, d] with unit rows, b_enc [1, w], b_dec [1, d]."""
    lead = () if n is None else (n,)
    w_dec = torch.nn.init.kaiming_uniform_(torch.empty(*lead, WIDTH, D_IN))
    w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True)
    params = [w_dec.transpose(-1, -2).clone(), torch.zeros(*lead, 1, WIDTH), w_dec, torch.zeros(*lead, 1, D_IN)]
    return [p.requires_grad_() for p in params]


def loss_fn(variant, params, x):
    w_enc, b_enc, w_dec, b_dec = params
    pre = torch.matmul(x - b_dec, w_enc) + b_enc
    if variant == "vanilla":
        f = torch.relu(pre)
        penalty = L1 * f.sum(-1).mean()
    else:
        values, indices = pre.topk(K, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, indices, torch.relu(values))
        penalty = 0
    x_hat = torch.matmul(f, w_dec) + b_dec
    return (x_hat - x).pow(2).sum(-1).mean(-1).sum() + penalty


def train(variant, params, optimizer, x):
    for _ in range(STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(variant, params, x).backward()
        optimizer.step()
        with torch.no_grad():
            params[2] /= params[2].norm(dim=-1, keepdim=True)


def time_it(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", choices=["vanilla", "topk"], default="vanilla")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x1 = torch.randn(BATCH, D_IN)

    def report(label, saes, seconds):
        flops = saes * STEPS * 6 * 2.0 * BATCH * D_IN * WIDTH
        rate = saes * STEPS * BATCH * WIDTH / seconds
        print(f"{args.variant} {label}: {seconds * 1000:.1f} ms per {STEPS} steps, {flops / seconds / 1e9:.1f} GFLOP/s, "
              f"{rate / 1e6:.0f}M examples x latents/s")

    one = make()
    one_opt = torch.optim.Adam(one, lr=1e-4)
    report("1 SAE", 1, time_it(lambda: train(args.variant, one, one_opt, x1), args.repeats))

    many = [make() for _ in range(48)]
    many_opt = [torch.optim.Adam(p, lr=1e-4) for p in many]
    report("48 SAEs one after another", 48, time_it(lambda: [train(args.variant, p, o, x1) for p, o in zip(many, many_opt)], args.repeats))

    stacked = make(48)
    stacked_opt = torch.optim.Adam(stacked, lr=1e-4)
    x48 = x1.expand(48, BATCH, D_IN).contiguous()
    report("48 SAEs stacked (bmm)", 48, time_it(lambda: train(args.variant, stacked, stacked_opt, x48), args.repeats))


if __name__ == "__main__":
    main()
