#!/usr/bin/env python3
"""Times the makelov2024 SAE sweep (presets/makelov2024.yaml) in PyTorch on a CUDA GPU, for comparison with
`ioibench bench-train --device cuda`: 55 nodes x (4 vanilla + 4 gated + 4 top-k) SAEs of 64 -> 512, batch 512, on
20,000 random training activations per node, each node's rows reshuffled every epoch, Adam at 3e-4.

Two ways, both with autograd and torch.optim.Adam:
  plain    one SAE at a time, as the reference trains them: one epoch of one SAE per variant is timed and scaled to
           the sweep (220 SAEs per variant x EPOCHS epochs);
  stacked  every SAE of a variant in one model with a leading SAE axis (torch.bmm); EPOCHS_TIMED epochs are timed
           and scaled to EPOCHS.
Resampling (twice in 2,000 epochs) and checkpoints are left out of both.

    python3 tools/bench_torch_sweep_gpu.py [--epochs-timed 10] [--nodes 55]
"""
import argparse
import time

import torch

D_IN, WIDTH, BATCH, EXAMPLES, EPOCHS, LR = 64, 512, 512, 20_000, 2000, 3e-4

LAMBDAS, KS = [0.5, 1, 2.5, 5], [3, 6, 12, 24]


def init(variant, g, device):
    """Parameters of g SAEs with a leading SAE axis, initialised as IoiBench does (presets: the reference's quirks)."""
    w_dec = torch.nn.init.kaiming_uniform_(torch.empty(g, WIDTH, D_IN, device=device))
    w_dec = w_dec / w_dec.norm(dim=-1, keepdim=True)
    b_dec = torch.zeros(g, 1, D_IN, device=device)
    if variant == "gated":
        w_gate = torch.empty(g, D_IN, WIDTH, device=device).uniform_(-1, 1) * (6 / WIDTH) ** 0.5
        rest = [torch.zeros(g, 1, WIDTH, device=device) for _ in range(3)]  # b_gate, r_mag, b_mag
        params = [w_gate, *rest, w_dec, b_dec]
    elif variant == "vanilla":
        params = [w_dec.transpose(1, 2).contiguous(), torch.zeros(g, 1, WIDTH, device=device), w_dec, b_dec]
    else:
        params = [w_dec.transpose(1, 2).contiguous(), w_dec, b_dec]
    return [p.requires_grad_() for p in params]


def loss(variant, params, x, setting):
    """Batch loss summed over SAEs (each SAE's term: squared error summed over dims, averaged over the batch)."""
    if variant == "vanilla":
        w_enc, b_enc, w_dec, b_dec = params
        f = torch.relu(torch.bmm(x - b_dec, w_enc) + b_enc)
        x_hat = torch.bmm(f, w_dec) + b_dec
        return ((x_hat - x).pow(2).sum(-1).mean(-1) + setting * f.sum(-1).mean(-1)).sum()
    if variant == "gated":
        w_gate, b_gate, r_mag, b_mag, w_dec, b_dec = params
        centred = x - b_dec
        gate = torch.bmm(centred, w_gate) + b_gate
        magnitude = torch.bmm(centred, w_gate * r_mag.exp()) + b_mag   # no ReLU on the magnitude path (reference)
        f = (gate > 0).float() * magnitude
        x_hat = torch.bmm(f, w_dec) + b_dec
        gate_relu = torch.relu(gate)
        aux = torch.bmm(gate_relu, w_dec.detach()) + b_dec.detach()
        per_sae = (x_hat - x).pow(2).sum(-1).mean(-1) + setting * gate_relu.sum(-1).mean(-1) + (aux - x).pow(2).sum(-1).mean(-1)
        return per_sae.sum()
    w_enc, w_dec, b_dec = params
    pre = torch.bmm(x - b_dec, w_enc)                                    # no encoder bias, no ReLU (reference)
    f = torch.zeros_like(pre)
    for i, k in enumerate(setting):                                      # k differs per SAE: one top-k per distinct k
        values, indices = pre[i::len(setting)].topk(k, dim=-1)
        f[i::len(setting)] = torch.zeros_like(pre[i::len(setting)]).scatter(-1, indices, values)
    x_hat = torch.bmm(f, w_dec) + b_dec
    return (x_hat - x).pow(2).sum(-1).mean(-1).sum()


def epoch(variant, params, optimizer, data, setting, per_node):
    """One epoch: each node's rows in a fresh order, the node's SAEs all seeing the same batches."""
    nodes = data.shape[0]
    order = torch.argsort(torch.rand(nodes, EXAMPLES, device=data.device), dim=1)
    for start in range(0, EXAMPLES, BATCH):
        index = order[:, start:start + BATCH]
        batch = torch.gather(data, 1, index[:, :, None].expand(-1, -1, D_IN))
        x = batch.repeat_interleave(per_node, dim=0)
        optimizer.zero_grad(set_to_none=True)
        loss(variant, params, x, setting).backward()
        optimizer.step()
        if variant != "topk":                                             # unit-norm decoder rows
            with torch.no_grad():
                params[-2] /= params[-2].norm(dim=-1, keepdim=True)


def timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs-timed", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=55)
    parser.add_argument("--device", default="cuda", help="cpu only to check the script")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = False                          # float32 products, as IoiBench's
    data = torch.randn(args.nodes, EXAMPLES, D_IN, device=device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    print(f"PyTorch {torch.__version__} on {name}; {args.nodes} nodes, {EXAMPLES} examples, "
          f"batch {BATCH}, {EPOCHS} epochs")

    total_stacked = total_plain = 0.0
    for variant, settings in [("vanilla", LAMBDAS), ("gated", LAMBDAS), ("topk", KS)]:
        per_node = len(settings)
        g = args.nodes * per_node
        setting = torch.tensor(settings * args.nodes, device=device)[:, None] if variant != "topk" else settings
        if variant != "topk":
            setting = setting.squeeze(1)
        params = init(variant, g, device)
        optimizer = torch.optim.Adam(params, lr=LR)
        timed(lambda: epoch(variant, params, optimizer, data, setting, per_node))                  # warm-up
        seconds = timed(lambda: [epoch(variant, params, optimizer, data, setting, per_node) for _ in range(args.epochs_timed)])
        sweep = seconds / args.epochs_timed * EPOCHS
        total_stacked += sweep
        print(f"stacked {variant:8s}: {g} SAEs, {seconds / args.epochs_timed * 1000:8.1f} ms/epoch -> {sweep / 60:7.1f} min for {EPOCHS} epochs")

        one = init(variant, 1, device)
        one_optimizer = torch.optim.Adam(one, lr=LR)
        one_setting = setting[:1] if variant != "topk" else settings[:1]
        one_data = data[:1]
        timed(lambda: epoch(variant, one, one_optimizer, one_data, one_setting, 1))
        seconds = timed(lambda: epoch(variant, one, one_optimizer, one_data, one_setting, 1))
        sweep = seconds * EPOCHS * g
        total_plain += sweep
        print(f"plain   {variant:8s}: 1 SAE {seconds * 1000:8.1f} ms/epoch -> {sweep / 3600:7.1f} h for {g} SAEs x {EPOCHS} epochs")
    print(f"sweep total: stacked {total_stacked / 60:.1f} min, plain {total_plain / 3600:.1f} h")


if __name__ == "__main__":
    main()
