#!/usr/bin/python3
"""PyTorch fp32 baseline for bench/bench_train: the same GPT-2 shapes (d12 B=4 T=64,
d6 B=8 T=256; V=50257, tied head, tanh GELU) trained with AdamW on a fixed random
batch, 2 threads. Prints "torch <name> s_per_step <median seconds>" per config.
--bf16: forward and loss under torch.autocast("cpu", dtype=torch.bfloat16), as
PyTorch users train in bf16 on CPUs (fp32 master weights); the names get a "_bf16" suffix.
Run: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tools/bench_torch.py [--steps N] [--only d12] [--bf16]
Never needed to build or run weft.
"""
import argparse
import math
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

CONFIGS = {"d12": (12, 768, 12, 4, 64), "d6": (6, 384, 6, 8, 256)}  # L, C, NH, B, T
V = 50257


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.fc, self.fcproj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.NH, C // self.NH).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.NH)
        att = att.masked_fill(~torch.tril(torch.ones(T, T, dtype=torch.bool)), float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.proj(y)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, L, C, NH):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(1024, C)
        self.blocks = nn.ModuleList(Block(C, NH) for _ in range(L))
        self.lnf = nn.LayerNorm(C)
        for name, p in self.named_parameters():  # GPT-2 init, as weft's (timing-neutral)
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="")
    ap.add_argument("--bf16", action="store_true", help="autocast(bfloat16) forward")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for name, (L, C, NH, B, T) in CONFIGS.items():
        if args.only and args.only != name:
            continue
        model = Gpt(L, C, NH)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
        x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))
        times = []
        for step in range(args.steps + 1):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                loss = model(x, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            if step > 0:  # the first step pays allocation
                times.append(time.perf_counter() - t0)
        times.sort()
        tag = name + ("_bf16" if args.bf16 else "")
        print(f"torch {tag} s_per_step {times[len(times) // 2]:.4f} (threads {args.threads}, "
              f"median of {len(times)}, loss {loss.item():.3f})", flush=True)


if __name__ == "__main__":
    main()
