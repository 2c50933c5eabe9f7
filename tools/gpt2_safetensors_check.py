#!/usr/bin/python3
"""Loads a weft safetensors export (model.safetensors + config.json, Hugging Face
GPT-2 names and Conv1D shapes) into PyTorch WITHOUT the safetensors/transformers
packages (header parsed with json, tensors via torch.frombuffer), runs GPT-2's
forward written out here, and compares the logits with weft's.

Usage: gpt2_safetensors_check.py MODEL_DIR TOKENS.i32 B T WEFT_LOGITS.f32 [TOL]
  TOKENS.i32: B*T int32 token ids; WEFT_LOGITS.f32: B*T*vocab float32 from weft.
Exit 0 when max |torch - weft| <= TOL (default 1e-4), 1 otherwise, 2 on bad input.
"""
import json
import math
import struct
import sys

import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = bytearray(blob[8 + n :])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']} (expected F32)")
        begin, end = info["data_offsets"]
        count = (end - begin) // 4
        shape = info["shape"]
        if count != math.prod(shape):
            raise ValueError(f"{name}: {count} floats for shape {shape}")
        t = torch.frombuffer(data, dtype=torch.float32, count=count, offset=begin)
        tensors[name] = t.reshape(shape).clone()
    return tensors


def gpt2_logits(sd, cfg, idx):
    """GPT-2 forward (HF GPT2LMHeadModel semantics; Conv1D: y = x @ W + b)."""
    B, T = idx.shape
    C, NH, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg["layer_norm_epsilon"]
    assert cfg["activation_function"] == "gelu_new"

    def ln(x, p):
        return torch.nn.functional.layer_norm(x, (C,), sd[p + ".weight"], sd[p + ".bias"], eps)

    def conv1d(x, p):
        return x @ sd[p + ".weight"] + sd[p + ".bias"]

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))

    x = sd["transformer.wte.weight"][idx] + sd["transformer.wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = f"transformer.h.{l}."
        qkv = conv1d(ln(x, h + "ln_1"), h + "attn.c_attn")
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (t.view(B, T, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // NH)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + conv1d(y, h + "attn.c_proj")
        m = gelu_new(conv1d(ln(x, h + "ln_2"), h + "mlp.c_fc"))
        x = x + conv1d(m, h + "mlp.c_proj")
    x = ln(x, "transformer.ln_f")
    return x @ sd["transformer.wte.weight"].t()  # tied LM head


def main(argv):
    if len(argv) < 6:
        print(__doc__)
        return 2
    model_dir, tok_path, B, T, logits_path = argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5]
    tol = float(argv[6]) if len(argv) > 6 else 1e-4
    with open(model_dir + "/config.json") as f:
        cfg = json.load(f)
    sd = load_safetensors(model_dir + "/model.safetensors")
    V, C, L = cfg["vocab_size"], cfg["n_embd"], cfg["n_layer"]
    expect = {"transformer.wte.weight": [V, C], "transformer.wpe.weight": [cfg["n_positions"], C]}
    for l in range(L):
        h = f"transformer.h.{l}."
        expect.update({h + "attn.c_attn.weight": [C, 3 * C], h + "attn.c_proj.weight": [C, C],
                       h + "mlp.c_fc.weight": [C, 4 * C], h + "mlp.c_proj.weight": [4 * C, C]})
    for name, shape in expect.items():
        if list(sd[name].shape) != shape:
            print(f"FAIL: {name} has shape {list(sd[name].shape)}, Hugging Face GPT-2 wants {shape}")
            return 1
    with open(tok_path, "rb") as f:
        idx = torch.frombuffer(bytearray(f.read()), dtype=torch.int32).long().view(B, T)
    with open(logits_path, "rb") as f:
        ref = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).view(B, T, V)
    with torch.no_grad():
        logits = gpt2_logits(sd, cfg, idx)
    diff = (logits - ref).abs().max().item()
    print(f"torch {torch.__version__}: {len(sd)} tensors, logits {list(logits.shape)}, "
          f"max |torch - weft| = {diff:.3g} (tolerance {tol:g})")
    return 0 if diff <= tol else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
