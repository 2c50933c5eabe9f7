#!/usr/bin/env python3
"""Writes llm.c-format token shards (256 x int32 header: magic 20240520, version 1, token
count; then uint16 tokens) of a synthetic, learnable token stream: a fixed random order-2
Markov chain over `--distinct` token ids spread across GPT-2's vocabulary. Used by
tools/gpu_check.sh (GPU vs CPU losses, d12 speed) on machines without a text corpus.

  python3 tools/make_synthetic_shards.py OUT_DIR --tokens 3000000 [--seed 1]
Writes OUT_DIR/synth_train_000.bin and OUT_DIR/synth_val_000.bin (1/10 the size)."""
import argparse
import array
import os
import random
import struct


def stream(n, distinct, vocab, rnd):
    ids = rnd.sample(range(vocab), distinct)
    # Each (prev2, prev1) context prefers 3 successors (80%), otherwise any id.
    table = {}
    out = array.array("H")
    a, b = 0, 1
    for _ in range(n):
        key = (a, b)
        if key not in table:
            table[key] = [rnd.randrange(distinct) for _ in range(3)]
        c = rnd.choice(table[key]) if rnd.random() < 0.8 else rnd.randrange(distinct)
        out.append(ids[c])
        a, b = b, c
    return out


def write(path, tokens):
    header = [0] * 256
    header[0], header[1], header[2] = 20240520, 1, len(tokens)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<256i", *header))
        f.write(tokens.tobytes())
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tokens", type=int, default=3_000_000)
    p.add_argument("--distinct", type=int, default=512)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rnd = random.Random(a.seed)
    write(os.path.join(a.out, "synth_train_000.bin"), stream(a.tokens, a.distinct, a.vocab, rnd))
    write(os.path.join(a.out, "synth_val_000.bin"), stream(a.tokens // 10, a.distinct, a.vocab, rnd))


if __name__ == "__main__":
    main()
