#!/usr/bin/python3
"""Times the same GPT-2-small-shaped forward as benchmarks/IoiBench.Benchmarks/ForwardBenchmark.cs in PyTorch:
random weights, 64 prompts x 19 tokens, logits at the last position, float32 (no TF32), no autograd.

    /usr/bin/python3 tools/bench_torch_forward.py [--threads 2] [--repeats 10]
    python3 tools/bench_torch_forward.py --device cuda --patch --repeats 20

--patch overwrites z of head 0 in the last layer at the last position and copies the logits to the host: the pass
the logit-difference-recovered evaluation repeats, as `ioibench bench-forward` times it. --start-layer 11 starts each
pass from the residual stream entering layer 11, computed once (TransformerLens's start_at_layer): bench-forward's
second timing.
--backward times benchmarks/IoiBench.Benchmarks/BackpropBenchmark.cs's step instead: z of head 0 in layer 0 at the
last position patched with a tensor that requires its gradient, the forward, a cross-entropy on the last position's
logits, and autograd's backward to the patch (the weights need none).
Prints the median time per forward and its GFLOP/s (same flop count as the C# benchmark).
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

LAYERS, HEADS, D, MLP, VOCAB, POSITIONS = 12, 12, 768, 3072, 50257, 1024
DH = D // HEADS


def flops(BATCH, SEQ, start_layer, backward=False):
    rows = BATCH * SEQ
    attention = 2 * 2 * BATCH * HEADS * (SEQ * (SEQ + 1) // 2) * DH
    per_layer = 2 * rows * D * (3 * D + D + 2 * MLP) + attention
    forward = (LAYERS - start_layer) * per_layer + 2 * BATCH * D * VOCAB
    return 2 * forward + LAYERS * attention if backward else forward


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seq", type=int, default=19)
    parser.add_argument("--patch", action="store_true")
    parser.add_argument("--start-layer", type=int, default=0)
    parser.add_argument("--backward", action="store_true")
    args = parser.parse_args()
    if args.backward and (args.patch or args.start_layer):
        parser.error("--backward patches layer 0 itself; it takes neither --patch nor --start-layer")
    if not 0 <= args.start_layer < LAYERS:
        parser.error(f"--start-layer must be in 0..{LAYERS - 1}")
    BATCH, SEQ, device = args.batch, args.seq, torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)

    def rand(*shape):
        return ((torch.rand(*shape) * 2 - 1) * 0.035).to(device)

    def zeros(n):
        return torch.zeros(n, device=device)

    def ones(n):
        return torch.ones(n, device=device)

    wte, wpe = rand(VOCAB, D), rand(POSITIONS, D)
    layers = [dict(attn_w=rand(D, 3 * D), attn_b=zeros(3 * D), proj_w=rand(D, D), proj_b=zeros(D),
                   fc_w=rand(D, MLP), fc_b=zeros(MLP), out_w=rand(MLP, D), out_b=zeros(D),
                   ln1=(ones(D), zeros(D)), ln2=(ones(D), zeros(D))) for _ in range(LAYERS)]
    ln_f = (ones(D), zeros(D))
    tokens = torch.randint(0, VOCAB, (BATCH, SEQ)).to(device)
    mask = torch.triu(torch.full((SEQ, SEQ), float("-inf")), diagonal=1).to(device)
    patch = torch.randn(BATCH, DH).to(device)
    target = torch.randn(BATCH, VOCAB).softmax(dim=-1).to(device)

    def forward(start_layer=0, stop_layer=LAYERS, residual=None):
        x = (wte[tokens] + wpe[:SEQ]).reshape(BATCH * SEQ, D) if residual is None else residual
        for layer in range(start_layer, stop_layer):
            p = layers[layer]
            h = F.layer_norm(x, (D,), *p["ln1"], eps=1e-5)
            q, k, v = torch.addmm(p["attn_b"], h, p["attn_w"]).split(D, dim=-1)
            q, k, v = (t.reshape(BATCH, SEQ, HEADS, DH).transpose(1, 2) for t in (q, k, v))
            pattern = (q @ k.transpose(-1, -2) / math.sqrt(DH) + mask).softmax(dim=-1)
            z = (pattern @ v).transpose(1, 2)  # [batch, seq, heads, d_head]
            if (args.patch and layer == LAYERS - 1) or (args.backward and layer == 0):
                z = z.clone()
                z[:, -1, 0] = patch
            x = x + torch.addmm(p["proj_b"], z.reshape(BATCH * SEQ, D), p["proj_w"])
            h = F.layer_norm(x, (D,), *p["ln2"], eps=1e-5)
            x = x + torch.addmm(p["out_b"], F.gelu(torch.addmm(p["fc_b"], h, p["fc_w"]), approximate="tanh"), p["out_w"])
        if stop_layer < LAYERS:
            return x
        last = F.layer_norm(x.reshape(BATCH, SEQ, D)[:, -1], (D,), *ln_f, eps=1e-5)
        logits = last @ wte.T
        return logits.cpu() if args.patch else logits

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def step():
        patch.requires_grad_(True)
        loss = -(target * forward().log_softmax(dim=-1)).sum()
        loss.backward()
        patch.grad = None

    def run():
        if args.backward:
            step()
        else:
            with torch.no_grad():
                forward(args.start_layer, residual=entering)

    with torch.no_grad():
        entering = forward(stop_layer=args.start_layer) if args.start_layer > 0 else None
    for _ in range(3):
        run()
    synchronize()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        synchronize()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    started = f", from layer {args.start_layer}" if args.start_layer > 0 else ""
    what = "forward and backward passes to z@0.0" if args.backward else "forwards"
    print(f"torch {torch.__version__}, {where}, {BATCH} prompts x {SEQ} tokens{', z patched, logits to host' if args.patch else ''}{started}: "
          f"median {median * 1e3:.1f} ms (min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}) over {args.repeats} {what}, "
          f"{flops(BATCH, SEQ, args.start_layer, args.backward) / median / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
