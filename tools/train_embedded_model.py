#!/usr/bin/python3
"""Trains IoiBench's embedded default model, models/ioi-tiny: a small GPT-2 (3 layers, 4 heads of 64 dimensions,
d_model 256, word-level vocabulary) that performs indirect-object identification. Two phases:

    /usr/bin/python3 tools/train_embedded_model.py --steps 3000                                  # phase 1
    /usr/bin/python3 tools/train_embedded_model.py --continue-from models/ioi-tiny --steps 600 --lr 3e-4   # phase 2

Phase 1 trains from scratch with two templates and eight base names held out of every IOI prompt, and measures how
far the behaviour generalises to them. Phase 2 continues from phase 1's weights (and vocabulary) on the full
distribution, so that the shipped model covers every benchmark prompt.

Needs Debian's python3-torch and python3-yaml, and the .NET SDK (it calls ./ioibench for the prompts, so the
training text comes from IoiBench's own generator). Deterministic: fixed seeds, 2 threads.

Training data: IoiBench's IOI prompts (generator seed 1, so the benchmark's default seed-0 splits stay unseen; any
prompt identical to a seed-0 test prompt is dropped), plus simple one-name sentences that use every name (so held-out
names still get trained embeddings). Loss: next-token cross entropy over all positions plus the cross entropy of the
answer (IO) at the final position.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
import yaml

from safetensors_io import read_safetensors, write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = os.path.join(ROOT, "prompts")
HELD_OUT_TEMPLATES = ["long-day", "dinner"]
HELD_OUT_NAME_COUNT = 8  # the last eight names of the base half of names.yaml
# One-name sentences; a name always follows a space, as in the IOI templates.
FILLER = ["Then, {N} went to the {P}.", "Then, {N} had lots of fun at the {P}.", "Afterwards, {N} was working at the {P}.",
          "Afterwards, {N} found a {O}.", "When {N} got a {O}, the {P} was busy.", "Then, {N} said that the {O} was in the {P}."]
N_LAYER, N_HEAD, D_MODEL, N_POSITIONS = 3, 4, 256, 32
# GPT-2's pre-tokenisation for ASCII text (the texts here are ASCII).
PIECES = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")


def load_words():
    def load(name, key):
        with open(os.path.join(PROMPTS, name)) as f:
            return yaml.safe_load(f)[key]
    return load("templates.yaml", "templates"), load("names.yaml", "names"), load("objects.yaml", "objects"), load("places.yaml", "places")


def build_vocab(templates, names, objects, places):
    pieces = {"<|endoftext|>"}
    for text in [t["text"] for t in templates] + FILLER:
        filled = text.replace("{A}", "X").replace("{B}", "X").replace("{S}", "X").replace("{N}", "X")
        filled = filled.replace("{PLACE}", "X").replace("{P}", "X").replace("{OBJECT}", "X").replace("{O}", "X")
        pieces.update(p for p in PIECES.findall(filled) if p.strip(" ") != "X")
    pieces.update(" " + w for w in names + objects + places)
    ordered = ["<|endoftext|>"] + sorted(pieces - {"<|endoftext|>"})
    return {piece: i for i, piece in enumerate(ordered)}


def ioibench_prompts(model_dir, seed, split, out, **sizes):
    args = [os.path.join(ROOT, "ioibench"), "prompts", "--model", model_dir, "--seed", str(seed), "--split", split,
            "--format", "json", "--output", out] + [x for k, v in sizes.items() for x in (f"--{k}", str(v))]
    subprocess.run(args, check=True)
    with open(out) as f:
        return [json.loads(line) for line in f]


class Gpt2(torch.nn.Module):
    """GPT-2 in Hugging Face's Conv1D layout (weights [in, out]) so that saving needs no transposes."""

    def __init__(self, vocab):
        super().__init__()
        d, p = D_MODEL, torch.nn.Parameter
        std, proj_std = 0.02, 0.02 / math.sqrt(2 * N_LAYER)
        self.wte = p(torch.randn(vocab, d) * std)
        self.wpe = p(torch.randn(N_POSITIONS, d) * 0.01)
        self.blocks = torch.nn.ModuleList()
        for _ in range(N_LAYER):
            b = torch.nn.Module()
            b.ln_1_w, b.ln_1_b = p(torch.ones(d)), p(torch.zeros(d))
            b.attn_w, b.attn_b = p(torch.randn(d, 3 * d) * std), p(torch.zeros(3 * d))
            b.proj_w, b.proj_b = p(torch.randn(d, d) * proj_std), p(torch.zeros(d))
            b.ln_2_w, b.ln_2_b = p(torch.ones(d)), p(torch.zeros(d))
            b.fc_w, b.fc_b = p(torch.randn(d, 4 * d) * std), p(torch.zeros(4 * d))
            b.out_w, b.out_b = p(torch.randn(4 * d, d) * proj_std), p(torch.zeros(d))
            self.blocks.append(b)
        self.ln_f_w, self.ln_f_b = p(torch.ones(d)), p(torch.zeros(d))

    def forward(self, ids):
        B, T = ids.shape
        dh = D_MODEL // N_HEAD
        x = self.wte[ids] + self.wpe[:T]
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        for b in self.blocks:
            h = F.layer_norm(x, (D_MODEL,), b.ln_1_w, b.ln_1_b, eps=1e-5)
            q, k, v = (t.reshape(B, T, N_HEAD, dh).transpose(1, 2) for t in (h @ b.attn_w + b.attn_b).split(D_MODEL, -1))
            z = ((q @ k.transpose(-1, -2)) / math.sqrt(dh) + mask).softmax(-1) @ v
            x = x + z.transpose(1, 2).reshape(B, T, D_MODEL) @ b.proj_w + b.proj_b
            h = F.layer_norm(x, (D_MODEL,), b.ln_2_w, b.ln_2_b, eps=1e-5)
            x = x + F.gelu(h @ b.fc_w + b.fc_b, approximate="tanh") @ b.out_w + b.out_b
        return F.layer_norm(x, (D_MODEL,), self.ln_f_w, self.ln_f_b, eps=1e-5) @ self.wte.T

    def state_dict_hf(self):
        sd = {"wte.weight": self.wte, "wpe.weight": self.wpe, "ln_f.weight": self.ln_f_w, "ln_f.bias": self.ln_f_b}
        for i, b in enumerate(self.blocks):
            for ours, theirs in [("ln_1_w", "ln_1.weight"), ("ln_1_b", "ln_1.bias"), ("attn_w", "attn.c_attn.weight"),
                                 ("attn_b", "attn.c_attn.bias"), ("proj_w", "attn.c_proj.weight"), ("proj_b", "attn.c_proj.bias"),
                                 ("ln_2_w", "ln_2.weight"), ("ln_2_b", "ln_2.bias"), ("fc_w", "mlp.c_fc.weight"),
                                 ("fc_b", "mlp.c_fc.bias"), ("out_w", "mlp.c_proj.weight"), ("out_b", "mlp.c_proj.bias")]:
                sd[f"h.{i}.{theirs}"] = getattr(b, ours)
        return sd


def pad(sequences):
    """Right-pads with BOS (0); returns ids and a mask of real next-token targets."""
    T = max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), T, dtype=torch.long)
    mask = torch.zeros(len(sequences), T, dtype=torch.bool)
    for i, s in enumerate(sequences):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s) - 1] = True
    return ids, mask


@torch.no_grad()
def evaluate(model, prompts):
    """Accuracy (IO logit > S logit at the end) and mean logit difference."""
    correct, total_ld = 0, 0.0
    for start in range(0, len(prompts), 256):
        chunk = prompts[start:start + 256]
        ids, _ = pad([p["ids"] for p in chunk])
        logits = model(ids)
        for row, p in enumerate(chunk):
            end = p["positions"]["end"]
            ld = (logits[row, end, p["answer"]["io"]] - logits[row, end, p["answer"]["s"]]).item()
            correct += ld > 0
            total_ld += ld
    return correct / max(len(prompts), 1), total_ld / max(len(prompts), 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--continue-from", help="phase 2: start from this model directory's weights and vocabulary and train on everything")
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "ioi-tiny"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    rng = random.Random(0)
    started = time.time()

    templates, names, objects, places = load_words()
    phase1 = None
    if args.continue_from:
        with open(os.path.join(args.continue_from, "vocab.json")) as f:
            vocab = json.load(f)
        with open(os.path.join(args.continue_from, "training.json")) as f:
            phase1 = json.load(f)
        initial = read_safetensors(os.path.join(args.continue_from, "model.safetensors"))
    else:
        vocab = build_vocab(templates, names, objects, places)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump(vocab, f, indent=1)

    base = names[:len(names) // 2]
    held_out_names = set(base[-HELD_OUT_NAME_COUNT:])
    with tempfile.TemporaryDirectory() as tmp:
        train_all = ioibench_prompts(args.out, 1, "train", os.path.join(tmp, "train.jsonl"), train=60000, validation=3000, test=0)
        validation = ioibench_prompts(args.out, 1, "validation", os.path.join(tmp, "val.jsonl"), train=60000, validation=3000, test=0)
        benchmark_test = {p["text"] for p in ioibench_prompts(args.out, 0, "test", os.path.join(tmp, "test.jsonl"))}

    def held_out(p):
        return not args.continue_from and (p["template"] in HELD_OUT_TEMPLATES or p["io"] in held_out_names or p["s"] in held_out_names)
    train = [p for p in train_all if not held_out(p) and p["text"] not in benchmark_test]
    val_in = [p for p in validation if not (p["template"] in HELD_OUT_TEMPLATES or p["io"] in held_out_names or p["s"] in held_out_names)]
    val_templates = [p for p in validation if p["template"] in HELD_OUT_TEMPLATES and p["io"] not in held_out_names and p["s"] not in held_out_names]
    val_names = [p for p in validation if p["template"] not in HELD_OUT_TEMPLATES and (p["io"] in held_out_names or p["s"] in held_out_names)]
    print(f"{len(train)} training prompts; validation: {len(val_in)} held-in, {len(val_templates)} held-out templates, "
          f"{len(val_names)} held-out names", flush=True)

    def filler_ids():
        text = rng.choice(FILLER).replace("{N}", rng.choice(names)).replace("{P}", rng.choice(places)).replace("{O}", rng.choice(objects))
        return [0] + [vocab[piece] for piece in PIECES.findall(text)]

    model = Gpt2(len(vocab))
    if phase1 is not None:
        with torch.no_grad():
            for name, parameter in model.state_dict_hf().items():
                parameter.copy_(initial[name])
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95))
    warmup = 100
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))))
    n_ioi = args.batch * 3 // 4
    loss_history = []
    for step in range(1, args.steps + 1):
        batch = [rng.choice(train) for _ in range(n_ioi)]
        sequences = [p["ids"] + [p["answer"]["io"]] for p in batch] + [filler_ids() for _ in range(args.batch - n_ioi)]
        ids, mask = pad(sequences)
        logits = model(ids[:, :-1])
        lm = F.cross_entropy(logits[mask[:, :-1]], ids[:, 1:][mask[:, :-1]])
        ends = torch.tensor([p["positions"]["end"] for p in batch])
        answer = F.cross_entropy(logits[torch.arange(n_ioi), ends], torch.tensor([p["answer"]["io"] for p in batch]))
        loss = lm + answer
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        loss_history.append((lm.item(), answer.item()))
        if step % 250 == 0 or step == args.steps:
            recent = loss_history[-250:]
            acc, ld = evaluate(model, val_in[:1000])
            print(f"step {step}: lm loss {sum(r[0] for r in recent) / len(recent):.4f}, answer loss "
                  f"{sum(r[1] for r in recent) / len(recent):.4f}, held-in accuracy {acc:.3f}, logit diff {ld:.2f} "
                  f"({time.time() - started:.0f} s)", flush=True)

    results = {name: evaluate(model, prompts) for name, prompts in
               [("held-in", val_in), ("held-out templates", val_templates), ("held-out names", val_names)]}
    recent = loss_history[-250:]
    final_lm, final_answer = sum(r[0] for r in recent) / len(recent), sum(r[1] for r in recent) / len(recent)
    elapsed = time.time() - started

    write_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict_hf())
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": N_LAYER, "n_head": N_HEAD,
                   "n_embd": D_MODEL, "n_positions": N_POSITIONS, "n_inner": None, "vocab_size": len(vocab),
                   "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "bos_token_id": 0, "eos_token_id": 0}, f, indent=2)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"phase": 2 if phase1 else 1, "previous_phase": phase1,
                   "command": " ".join(["/usr/bin/python3", "tools/train_embedded_model.py"] + sys.argv[1:]),
                   "torch": torch.__version__, "threads": 2, "steps": args.steps, "batch": args.batch, "lr": args.lr,
                   "seconds": round(elapsed), "final_lm_loss": round(final_lm, 4), "final_answer_loss": round(final_answer, 4),
                   "training_prompts": len(train), "held_out_templates": HELD_OUT_TEMPLATES, "held_out_names": sorted(held_out_names),
                   "validation": {k: {"prompts": len(p), "accuracy": round(v[0], 4), "logit_diff": round(v[1], 3)}
                                  for (k, v), p in zip(results.items(), [val_in, val_templates, val_names])}}, f, indent=2)
    print(json.dumps(results), f"{elapsed:.0f} s", flush=True)


if __name__ == "__main__":
    main()
