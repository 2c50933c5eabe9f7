#!/usr/bin/env node
// Writes the tokenizer golden files: token ids of tiktoken's `gpt2` encoding
// (npm package tiktoken, encode_ordinary) for the KJV Bible (`bible -f ...`, Debian
// bible-kjv), every UTF-8 fortunes file (Debian fortunes) and the adversarial text.
// Output: tests/fixtures/tokenizer/golden/<name>.u16 (uint16 little-endian ids) and
// index.json (source, input SHA-256, byte and token counts). weft's test re-reads
// the same inputs and compares id by id, so node is not needed at test time.
//
//   cd tools && npm install --no-save gpt-3-encoder tiktoken && cd .. && node tools/make_tokenizer_golden.mjs
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const require = createRequire(path.join(here, "package.json"));
const { get_encoding } = require("tiktoken");

export const KJV_ARGS = ["-f", "Gen1:1-Rev22:21"];
const FORTUNES_DIR = "/usr/share/games/fortunes";
const outDir = path.join(repo, "tests/fixtures/tokenizer/golden");

function inputs() {
  const list = [];
  list.push({ name: "kjv", source: `bible ${KJV_ARGS.join(" ")}`,
              bytes: execFileSync("bible", KJV_ARGS, { maxBuffer: 64 << 20 }) });
  for (const f of fs.readdirSync(FORTUNES_DIR).sort()) {
    const p = path.join(FORTUNES_DIR, f);
    if (f.endsWith(".dat") || f.endsWith(".u8") || !fs.lstatSync(p).isFile()) continue;
    list.push({ name: `fortunes_${f}`, source: p, bytes: fs.readFileSync(p) });
  }
  const adv = "tests/fixtures/tokenizer/adversarial.txt";
  list.push({ name: "adversarial", source: adv, bytes: fs.readFileSync(path.join(repo, adv)) });
  return list;
}

const enc = get_encoding("gpt2");
const strict = new TextDecoder("utf-8", { fatal: true });
fs.mkdirSync(outDir, { recursive: true });
const index = { encoding: "gpt2", tool: "tiktoken (npm) encode_ordinary", files: [] };
for (const inp of inputs()) {
  let text;
  try {
    text = strict.decode(inp.bytes);
  } catch {
    console.error(`skip ${inp.source}: not valid UTF-8 (tiktoken takes strings)`);
    continue;
  }
  const ids = enc.encode_ordinary(text);
  const out = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] > 0xffff) throw new Error(`id ${ids[i]} does not fit uint16`);
    out.writeUInt16LE(ids[i], 2 * i);
  }
  fs.writeFileSync(path.join(outDir, `${inp.name}.u16`), out);
  index.files.push({ name: inp.name, source: inp.source, n_bytes: inp.bytes.length,
                     n_tokens: ids.length,
                     input_sha256: createHash("sha256").update(inp.bytes).digest("hex") });
  console.log(`${inp.name}: ${inp.bytes.length} bytes -> ${ids.length} tokens`);
}
enc.free();
fs.writeFileSync(path.join(outDir, "index.json"), JSON.stringify(index, null, 1) + "\n");
