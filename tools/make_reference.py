#!/usr/bin/python3
"""Makes the PyTorch reference fixture for weft's GPT-2 engine (tests/fixtures/gpt2/).

A small GPT-2 written here in plain PyTorch (float32, CPU), with a non-trivial init
(random LayerNorm weights and biases, non-zero linear biases), writes:
  model.bin         llm.c GPT-2 checkpoint (magic 20240326, version 3, float32)
  state.bin         llm.c debug state (magic 20240327, version 2): x, y, logits, loss, grads
  state_masked.bin  the same batch with per-token 0/1 loss weights (mask in reference.json):
                    loss = weighted mean, grads of that loss
  reference.json    config, the 10 losses of 10 AdamW steps (lr 1e-4, betas 0.9/0.999,
                    eps 1e-8, wd 0) on that batch, the mask and the masked loss.
Run from the repository root:  /usr/bin/python3 tools/make_reference.py [OUT_DIR]
Needs PyTorch (Debian python3-torch, 1.13). Never needed to build or run weft.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

V, C, L, NH, MAX_T = 101, 64, 2, 4, 32
B, T = 2, 16
SEED = 1234
VP = (V + 127) // 128 * 128


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(C)
        self.qkv = nn.Linear(C, 3 * C)
        self.attproj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C)
        self.fc = nn.Linear(C, 4 * C)
        self.fcproj = nn.Linear(4 * C, C)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        hs = C // NH
        q = q.view(b, t, NH, hs).transpose(1, 2)  # (B, NH, T, hs)
        k = k.view(b, t, NH, hs).transpose(1, 2)
        v = v.view(b, t, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, C)
        x = x + self.attproj(y)
        h = F.gelu(self.fc(self.ln2(x)), approximate="tanh")
        return x + self.fcproj(h)


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(MAX_T, C)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(C)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        for block in self.blocks:
            x = block(x)
        return self.lnf(x) @ self.wte.weight.t()  # tied LM head, (B, T, V)


def init_nontrivial(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                p.normal_(0.0, 0.02)
            elif "ln" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:  # LayerNorm and linear biases
                p.normal_(0.0, 0.05)
        # Residual projections scaled as in GPT-2.
        for block in model.blocks:
            block.attproj.weight.mul_(1.0 / math.sqrt(2 * L))
            block.fcproj.weight.mul_(1.0 / math.sqrt(2 * L))


def llmc_order(model):
    """Tensors in llm.c's order; per-layer tensors stacked over L; wte padded to Vp."""
    bl = model.blocks
    wte = torch.zeros(VP, C)
    wte[:V] = model.wte.weight.detach()
    stack = lambda f: torch.stack([f(b).detach() for b in bl])
    return [wte, model.wpe.weight.detach().clone(),
            stack(lambda b: b.ln1.weight), stack(lambda b: b.ln1.bias),
            stack(lambda b: b.qkv.weight), stack(lambda b: b.qkv.bias),
            stack(lambda b: b.attproj.weight), stack(lambda b: b.attproj.bias),
            stack(lambda b: b.ln2.weight), stack(lambda b: b.ln2.bias),
            stack(lambda b: b.fc.weight), stack(lambda b: b.fc.bias),
            stack(lambda b: b.fcproj.weight), stack(lambda b: b.fcproj.bias),
            model.lnf.weight.detach().clone(), model.lnf.bias.detach().clone()]  # copies, not views


def grads_llmc_order(model):
    saved = {n: p.data.clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.data.copy_(p.grad)
    out = llmc_order(model)  # wte grad padded with zero rows, as llm.c does
    for n, p in model.named_parameters():
        p.data.copy_(saved[n])
    return out


def floats(tensors):
    return b"".join(t.contiguous().to(torch.float32).numpy().tobytes() for t in tensors)


def header(values):
    h = [0] * 256
    h[: len(values)] = values
    return struct.pack("<256i", *h)


def write_atomic(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def weighted_loss(logits, y, w):
    per_token = F.cross_entropy(logits.view(-1, V), y.view(-1), reduction="none")
    return (per_token * w.view(-1)).sum() / w.sum()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/gpt2"
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = Gpt()
    init_nontrivial(model)
    tokens = torch.randint(0, V, (B, T + 1))
    x, y = tokens[:, :T].contiguous(), tokens[:, 1:].contiguous()
    mask = (torch.rand(B, T) < 0.6).float()
    mask[0, 0] = 1.0

    write_atomic(os.path.join(out_dir, "model.bin"),
                 header([20240326, 3, MAX_T, V, L, NH, C, VP]) + floats(llmc_order(model)))

    def state_bytes(logits, loss):
        return (header([20240327, 2, B, T]) + x.numpy().astype("<i4").tobytes()
                + y.numpy().astype("<i4").tobytes() + floats([logits.detach()])
                + struct.pack("<f", loss.item()) + floats(grads_llmc_order(model)))

    logits = model(x)
    loss = F.cross_entropy(logits.view(-1, V), y.view(-1))
    model.zero_grad()
    loss.backward()
    write_atomic(os.path.join(out_dir, "state.bin"), state_bytes(logits, loss))

    model.zero_grad()
    masked = weighted_loss(model(x), y, mask)
    masked.backward()
    write_atomic(os.path.join(out_dir, "state_masked.bin"), state_bytes(logits, masked))

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0, foreach=False)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        step_loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        step_loss.backward()
        opt.step()
        losses.append(step_loss.item())

    ref = {"generator": "tools/make_reference.py", "torch_version": torch.__version__,
           "seed": SEED, "config": {"vocab": V, "padded_vocab": VP, "n_embd": C, "n_layer": L,
                                    "n_head": NH, "max_seq": MAX_T},
           "B": B, "T": T,
           "adamw": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
           "losses": losses, "mask": [int(v) for v in mask.view(-1).tolist()],
           "masked_loss": masked.item()}
    write_atomic(os.path.join(out_dir, "reference.json"), json.dumps(ref, indent=1).encode())
    print("wrote", out_dir, "loss", loss.item(), "masked", masked.item(), "losses", losses)


if __name__ == "__main__":
    main()
