#!/usr/bin/python3
"""Builds the tiny random GPT-2 test fixture and its golden outputs with an independent PyTorch forward.

Writes, under tests/IoiBench.Tests/Fixtures/:
  tiny-gpt2/                 a Hugging Face GPT-2 directory (config.json, model.safetensors, word-level vocab.json)
  tiny-gpt2-reference.json   the token batch and the hooks the reference patched
  tiny-gpt2-reference.safetensors
      logits            [B, T, V]   all positions, no intervention
      {q,k,v,z}.L       [B, T, H, dh] per-head activations, raw (unprocessed) basis
      pattern.L         [B, H, T, T]
      {resid_pre,resid_mid,resid_post,attn_out,mlp_out}.L   [B, T, d] the layer's residual-stream hooks, raw basis
      logits.patch_z / logits.patch_q / logits.patch_v / logits.patch_pattern   [B, T, V] after one patch each
      logits.patch_{resid_pre,resid_mid,resid_post,attn_out,mlp_out,z_all}      [B, T, V] after a whole-layer patch
      grad.target [B, V] and grad.{q,k,v,z,resid_*,attn_out,mlp_out}.L   the gradients of L = Σ_b CE(target_b,
                               logits[b, T-1]) at each hook, autograd's; grad.patch_z.* the same under patch_z's patch,
                               grad.patch_z.values the gradient with respect to its patched values
      tl.resid_pre.L, tl.z.L   the same activations as TransformerLens's from_pretrained basis defines them: the
                               residual stream centred over d_model (fold_ln, center_writing_weights), and z less
                               the value bias fold_ln leaves (β·W_V + b_V; fold_value_biases moves it into b_O)

Run with Debian's python3-torch: /usr/bin/python3 tools/make_tiny_gpt2.py
The reference is computed in float64; the C# runtime (float32) is compared against it within tolerance.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "IoiBench.Tests", "Fixtures")
MODEL_DIR = os.path.join(OUT, "tiny-gpt2")

WORDS = ["<|endoftext|>", "Then", ",", ".", " and", " went", " to", " the", " store", " park", " gave", " a",
         " drink", " ball", " book", " said", " Mary", " John", " Alice", " Bob", " Carol", " Dave", " had",
         " fun", " at", " school", " When", " Afterwards", " decided", " give", " was", " in", " with", " ring",
         " bone", " kiss", " Tom", " Anna", " office", " house", " Eve", " Frank", " Grace", " Henry"]
N_LAYER, N_HEAD, D_MODEL, N_POSITIONS = 2, 4, 32, 24
D_HEAD = D_MODEL // N_HEAD
VOCAB = len(WORDS)


def make_weights(gen):
    def randn(*shape, scale):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale

    w = {"wte.weight": randn(VOCAB, D_MODEL, scale=0.5), "wpe.weight": randn(N_POSITIONS, D_MODEL, scale=0.3)}
    for l in range(N_LAYER):
        p = f"h.{l}."
        w[p + "ln_1.weight"] = 1 + randn(D_MODEL, scale=0.2)
        w[p + "ln_1.bias"] = randn(D_MODEL, scale=0.2)
        w[p + "attn.c_attn.weight"] = randn(D_MODEL, 3 * D_MODEL, scale=0.35)
        w[p + "attn.c_attn.bias"] = randn(3 * D_MODEL, scale=0.2)
        w[p + "attn.c_proj.weight"] = randn(D_MODEL, D_MODEL, scale=0.2)
        w[p + "attn.c_proj.bias"] = randn(D_MODEL, scale=0.1)
        w[p + "ln_2.weight"] = 1 + randn(D_MODEL, scale=0.2)
        w[p + "ln_2.bias"] = randn(D_MODEL, scale=0.2)
        w[p + "mlp.c_fc.weight"] = randn(D_MODEL, 4 * D_MODEL, scale=0.2)
        w[p + "mlp.c_fc.bias"] = randn(4 * D_MODEL, scale=0.1)
        w[p + "mlp.c_proj.weight"] = randn(4 * D_MODEL, D_MODEL, scale=0.1)
        w[p + "mlp.c_proj.bias"] = randn(D_MODEL, scale=0.1)
    w["ln_f.weight"] = 1 + randn(D_MODEL, scale=0.2)
    w["ln_f.bias"] = randn(D_MODEL, scale=0.2)
    return w


def forward(w, tokens, patch=None, track=False):
    """GPT-2 forward in float64. patch = (hook, layer, head, position, values[B, width]) or None.
    Returns logits [B, T, V] and the per-layer activations; with track, the activations keep their gradients."""
    B, T = tokens.shape
    x = w["wte.weight"][tokens] + w["wpe.weight"][:T][None]
    if track:
        x.requires_grad_(True)
    acts = TrackedActivations(track)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def apply(hook, layer, tensor):  # tensor [B, T, H, dh], pattern [B, H, T, T] or a stream [B, T, d]
        if patch is None or patch[0] != hook or patch[1] != layer:
            return tensor
        _, _, head, pos, values = patch
        tensor = tensor.clone()
        if hook == "pattern":
            tensor[:, head, pos, :] = values
        elif head is None and tensor.dim() == 4:   # every head of the layer, head-major
            tensor[:, pos, :, :] = values.reshape(B, N_HEAD, D_HEAD)
        elif head is None:
            tensor[:, pos, :] = values
        else:
            tensor[:, pos, head, :] = values
        return tensor

    for l in range(N_LAYER):
        p = f"h.{l}."
        x = apply("resid_pre", l, x)
        acts[f"resid_pre.{l}"] = x
        h = F.layer_norm(x, (D_MODEL,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps=1e-5)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (t.reshape(B, T, N_HEAD, D_HEAD) for t in qkv.split(D_MODEL, dim=-1))
        q, k, v = apply("q", l, q), apply("k", l, k), apply("v", l, v)
        scores = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(D_HEAD)
        scores = scores.masked_fill(~causal, float("-inf"))
        pattern = apply("pattern", l, scores.softmax(dim=-1))
        pattern = pattern.masked_fill(~causal, 0.0)
        z = apply("z", l, torch.einsum("bhij,bjhd->bihd", pattern, v))
        acts.update({f"q.{l}": q, f"k.{l}": k, f"v.{l}": v, f"z.{l}": z, f"pattern.{l}": pattern})
        attn_out = apply("attn_out", l, z.reshape(B, T, D_MODEL) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"])
        x = apply("resid_mid", l, x + attn_out)
        acts.update({f"attn_out.{l}": attn_out, f"resid_mid.{l}": x})
        h = F.layer_norm(x, (D_MODEL,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps=1e-5)
        m = F.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        mlp_out = apply("mlp_out", l, m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"])
        x = apply("resid_post", l, x + mlp_out)
        acts.update({f"mlp_out.{l}": mlp_out, f"resid_post.{l}": x})
    x = F.layer_norm(x, (D_MODEL,), w["ln_f.weight"], w["ln_f.bias"], eps=1e-5)
    return x @ w["wte.weight"].T, acts


class TrackedActivations(dict):
    """The activations by name; with track, each one retains its gradient (pattern too, unused)."""

    def __init__(self, track):
        super().__init__()
        self.track = track

    def __setitem__(self, name, tensor):
        if self.track:
            tensor.retain_grad()
        super().__setitem__(name, tensor)

    def update(self, items):
        for name, tensor in items.items():
            self[name] = tensor


def gradients(w, tokens, target, patch=None):
    """Autograd's gradients of L = Σ_b CE(target_b, softmax(logits[b, T-1])) at every hook of every layer."""
    logits, acts = forward(w, tokens, patch, track=True)
    loss = -(target * logits[:, -1].log_softmax(dim=-1)).sum()
    loss.backward()
    return {name: t.grad for name, t in acts.items() if not name.startswith("pattern")}


def main():
    gen = torch.Generator().manual_seed(20241122)
    w = make_weights(gen)
    os.makedirs(MODEL_DIR, exist_ok=True)

    # Hugging Face layout: 'transformer.' prefix, tied lm_head, causal-mask buffers (U8) that loaders must ignore.
    hf = {"transformer." + k: v for k, v in w.items()}
    hf["lm_head.weight"] = w["wte.weight"]
    dtypes = {}
    for l in range(N_LAYER):
        hf[f"transformer.h.{l}.attn.bias"] = torch.tril(torch.ones(1, 1, N_POSITIONS, N_POSITIONS))
        dtypes[f"transformer.h.{l}.attn.bias"] = "U8"
    write_safetensors(os.path.join(MODEL_DIR, "model.safetensors"), hf, dtypes)
    with open(os.path.join(MODEL_DIR, "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": N_LAYER, "n_head": N_HEAD,
                   "n_embd": D_MODEL, "n_positions": N_POSITIONS, "vocab_size": VOCAB, "layer_norm_epsilon": 1e-5,
                   "activation_function": "gelu_new", "n_inner": None}, f, indent=2)
    with open(os.path.join(MODEL_DIR, "vocab.json"), "w") as f:
        json.dump({word: i for i, word in enumerate(WORDS)}, f, indent=1, ensure_ascii=False)
    with open(os.path.join(MODEL_DIR, "README.md"), "w") as f:
        f.write("# tiny-gpt2 (random test fixture)\n\nA 2-layer, 4-head, 32-dimensional GPT-2 with random weights and a "
                f"{VOCAB}-word word-level vocabulary. It exists to test the runtime against an independent PyTorch "
                "forward pass; it has learned nothing. Regenerate with `/usr/bin/python3 tools/make_tiny_gpt2.py`.\n")

    B, T = 3, 9
    tokens = torch.randint(1, VOCAB, (B, T), generator=gen)
    tokens[:, 0] = 0  # BOS
    logits, acts = forward(w, tokens)
    reference = {"logits": logits}
    reference.update(acts)

    patches = {
        "patch_z": ("z", 0, 2, 4),
        "patch_q": ("q", 1, 1, 6),
        "patch_v": ("v", 0, 0, 3),
        "patch_pattern": ("pattern", 0, 3, 5),
    }
    meta = {"tokens": tokens.tolist(), "patches": {}}
    for name, (hook, layer, head, pos) in patches.items():
        if hook == "pattern":
            values = torch.rand(B, T, generator=gen, dtype=torch.float64)
            values[:, pos + 1:] = 0
            values = values / values.sum(dim=-1, keepdim=True)
        else:
            values = torch.randn(B, D_HEAD, generator=gen, dtype=torch.float64)
        patched, _ = forward(w, tokens, (hook, layer, head, pos, values))
        reference["logits." + name] = patched
        reference["values." + name] = values
        meta["patches"][name] = {"hook": hook, "layer": layer, "head": head, "position": pos}
    # Whole-layer hooks (head None), drawn after the per-head patches so that their values stay as they were.
    layer_patches = {
        "patch_resid_pre": ("resid_pre", 1, None, 5),
        "patch_resid_mid": ("resid_mid", 0, None, 4),
        "patch_resid_post": ("resid_post", 0, None, 6),
        "patch_attn_out": ("attn_out", 1, None, 3),
        "patch_mlp_out": ("mlp_out", 0, None, 7),
        "patch_z_all": ("z", 1, None, 2),
    }
    for name, (hook, layer, head, pos) in layer_patches.items():
        values = torch.randn(B, D_MODEL, generator=gen, dtype=torch.float64)
        patched, _ = forward(w, tokens, (hook, layer, head, pos, values))
        reference["logits." + name] = patched
        reference["values." + name] = values
        meta["patches"][name] = {"hook": hook, "layer": layer, "head": -1, "position": pos}

    # TransformerLens's default basis, by its definition: every write to the residual stream centred, so the stream
    # is the raw one centred over d_model; fold_ln moves ln_1's bias into the value bias (β·W_V + b_V), and
    # fold_value_biases moves that into b_O, so z loses it (attention rows sum to 1).
    for l in range(N_LAYER):
        resid = acts[f"resid_pre.{l}"]
        reference[f"tl.resid_pre.{l}"] = resid - resid.mean(dim=-1, keepdim=True)
        w_v = w[f"h.{l}.attn.c_attn.weight"][:, 2 * D_MODEL:]
        b_v = (w[f"h.{l}.ln_1.bias"] @ w_v + w[f"h.{l}.attn.c_attn.bias"][2 * D_MODEL:]).reshape(N_HEAD, D_HEAD)
        reference[f"tl.z.{l}"] = acts[f"z.{l}"] - b_v

    # The backward pass's reference: the gradients of a cross-entropy at the last position to a random distribution,
    # at every hook without intervention (grad.*), and with patch_z's patch (grad.patch_z.*, its values' too).
    target = torch.randn(B, VOCAB, generator=gen, dtype=torch.float64).softmax(dim=-1)
    reference["grad.target"] = target
    for name, g in gradients(w, tokens, target).items():
        reference["grad." + name] = g
    hook, layer, head, pos = patches["patch_z"]
    values = reference["values.patch_z"].clone().requires_grad_(True)
    for name, g in gradients(w, tokens, target, (hook, layer, head, pos, values)).items():
        reference["grad.patch_z." + name] = g
    reference["grad.patch_z.values"] = values.grad
    write_safetensors(os.path.join(OUT, "tiny-gpt2-reference.safetensors"), reference)
    with open(os.path.join(OUT, "tiny-gpt2-reference.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"wrote {MODEL_DIR} and the reference outputs")


if __name__ == "__main__":
    main()
