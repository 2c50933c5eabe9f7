#!/usr/bin/env bash
# Issue 10 "calibrated on this machine": `weft plan --calibrate` measures sgemm, memcpy
# and local-rank α–β here and predicts weft's step time (fp32, MFU 1 on the measured
# per-rank sgemm rate); then `weft train` runs the same layouts (thread ranks, 1 thread
# each; 1 rank gets 2 threads) and the table compares predicted with the median measured
# step (steps after the first). Rows outside ±25% are flagged.
# Usage: bench/bench_calibrate.sh [BUILD_DIR=build/release] [STEPS=4] [B=4] [T=64] [MODELS="d6 d12"]
set -euo pipefail
build=${1:-build/release}; steps=${2:-4}; B=${3:-4}; T=${4:-64}; models=${5:-d6 d12}
weft=$build/weft; cmp=$build/tests/weft_dp_compare
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=PASSIVE
"$cmp" --make-shard "$work/syn_train_000.bin" >/dev/null

predict() {  # model gpus dp tp pp micro_batch -> predicted step seconds
  "$weft" plan --calibrate --preset "$1" --seq "$T" --global-batch "$B" --micro-batch "$6" \
    --gpus "$2" --dp "$3" --tp "$4" --pp "$5" --json | python3 -c "
import sys, json
s = sys.stdin.read(); d = json.JSONDecoder(); rates, i = d.raw_decode(s)
plan, _ = d.raw_decode(s[i:].lstrip())
print(plan['time']['step_s'], rates['gemm_flops'] / 1e9, rates['mem_bandwidth'] / 1e9)"
}
measure() {  # model threads extra-args... -> median step seconds (skip step 1)
  local model=$1 th=$2; shift 2
  OMP_NUM_THREADS=$th "$weft" train --model "$model" --vocab 50304 --max-seq 128 \
    --data "$work/syn_train_000.bin" --batch "$B" --seq "$T" --steps "$steps" --lr 1e-4 \
    --peak-gflops 1 -q --overwrite --threads "$th" --out "$work/run" "$@" >/dev/null 2>&1
  python3 -c "import json,sys,statistics as s
rows=[json.loads(l) for l in open(sys.argv[1])][1:]
print(s.median(r['ms'] for r in rows) / 1e3)" "$work/run/metrics.jsonl"
}

echo "B=$B T=$T fp32, $steps steps (median of steps 2..$steps); $(nproc) cores shared with other jobs"
printf "%-5s %-6s %10s %10s %7s  %s\n" model layout "pred s" "meas s" ratio "sgemm GF/s, memcpy GB/s"
for model in $models; do
  for layout in 1rank dp2 tp2 pp2; do
    case $layout in
      1rank) p=(1 1 1 1 "$B"); m=(2);;
      dp2) p=(2 2 1 1 $((B / 2))); m=(1 --ranks 2 --ranks-as threads --dp 2 --zero 0);;
      tp2) p=(2 1 2 1 "$B"); m=(1 --ranks 2 --ranks-as threads --tp 2);;
      pp2) p=(2 1 1 2 $((B / 2))); m=(1 --ranks 2 --ranks-as threads --pp 2 --micro-batches 2 --schedule 1f1b);;
    esac
    read -r pred gf bw < <(predict "$model" "${p[@]}")
    meas=$(measure "$model" "${m[@]}")
    python3 -c "
import sys
model, layout, pred, meas, gf, bw = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
r = pred / meas
print('%-5s %-6s %10.3f %10.3f %7.2f  %.1f, %.1f%s' % (model, layout, pred, meas, r, gf, bw,
      '' if 0.75 <= r <= 1.25 else '   <-- outside 25%'))" "$model" "$layout" "$pred" "$meas" "$gf" "$bw"
  done
done
