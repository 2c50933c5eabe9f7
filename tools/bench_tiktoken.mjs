#!/usr/bin/env node
// Baseline for bench/bench_tokenizer: tiktoken's `gpt2` encode_ordinary speed (npm
// package, Rust core compiled to wasm) on one file, single-threaded.
// Prints one line: "tiktoken_mbps <median MB/s> cpu_mbps <median MB per CPU-second> tokens <n>".
//   node tools/bench_tiktoken.mjs FILE [REPEATS]
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "package.json"));
const { get_encoding } = require("tiktoken");

const file = process.argv[2];
const repeats = Number(process.argv[3] ?? 5);
const bytes = fs.readFileSync(file);
const text = bytes.toString("utf8");
const enc = get_encoding("gpt2");
let n = 0;
const mbps = [], cpuMbps = [];
for (let r = 0; r < repeats; r++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  n = enc.encode_ordinary(text).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  mbps.push(bytes.length / 1e6 / s);
  cpuMbps.push(bytes.length / 1e6 / ((c.user + c.system) / 1e6));
}
const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`tiktoken_mbps ${median(mbps).toFixed(2)} cpu_mbps ${median(cpuMbps).toFixed(2)} tokens ${n}`);
enc.free();
