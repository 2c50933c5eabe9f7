#!/usr/bin/python3
"""Writes tests/fixtures/kernels/adamw_torch.json: ten torch.optim.AdamW steps (PyTorch,
fp32, foreach=False) on a 2-D weight (weight decay) and a 1-D bias (no decay), with
clip_grad_norm_ before every step. The kernel test replays it with weft::cpu::adamw_update.
Run: /usr/bin/python3 tools/make_adamw_fixture.py  (PyTorch 1.13 as packaged by Debian)."""
import json
import os

import torch

torch.manual_seed(1234)
lr, betas, eps, wd, max_norm, steps = 1e-2, (0.9, 0.95), 1e-8, 0.1, 1.0, 10
w = torch.nn.Parameter(torch.randn(5, 7))
b = torch.nn.Parameter(torch.randn(9) * 0.1)
opt = torch.optim.AdamW([{"params": [w], "weight_decay": wd},
                         {"params": [b], "weight_decay": 0.0}],
                        lr=lr, betas=betas, eps=eps, foreach=False)


def flat(*ts):
    return [float(x) for t in ts for x in t.detach().reshape(-1).tolist()]


record = {"lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps, "weight_decay": wd,
          "max_norm": max_norm, "decay_count": w.numel(), "nodecay_count": b.numel(),
          "params0": flat(w, b), "grads": [], "clip_scale": [], "params": [], "m": [], "v": []}
for step in range(steps):
    # Gradients of mixed magnitude, some steps large enough to be clipped.
    scale = 3.0 if step % 3 == 0 else 0.05
    w.grad = torch.randn_like(w) * scale
    b.grad = torch.randn_like(b) * scale
    w.grad[0, 0] = 1e-7
    record["grads"].append(flat(w.grad, b.grad))
    total = torch.nn.utils.clip_grad_norm_([w, b], max_norm)
    # The float factor clip_grad_norm_ multiplied the gradients by (same float ops).
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    record["clip_scale"].append(float(coef))
    opt.step()
    record["params"].append(flat(w, b))
    record["m"].append(flat(opt.state[w]["exp_avg"], opt.state[b]["exp_avg"]))
    record["v"].append(flat(opt.state[w]["exp_avg_sq"], opt.state[b]["exp_avg_sq"]))

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "kernels", "adamw_torch.json")
with open(out, "w") as f:
    json.dump(record, f)
print("wrote", os.path.normpath(out), "torch", torch.__version__)
