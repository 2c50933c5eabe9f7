#!/usr/bin/env bash
# Issue 10 "calibrated on this machine": predicted vs measured weft step time for d6 and
# d12 on 1 rank (2 threads), dp2, tp2 and pp2 (thread ranks, 1 thread each).
#  1. calibrate once: `weft plan --calibrate --save-rates` measures every sgemm shape, the
#     memory-bound kernels and the local α–β those 8 runs use (shapes already measured are
#     skipped), into one rates file (or give RATES=FILE to reuse one: nothing is measured);
#  2. `weft train` runs each layout on a synthetic shard (fp32) for STEPS steps;
#  3. `weft plan --rates FILE` predicts each row (no measuring) and the table prints
#     predicted | measured | ratio on the wall clock, and the same in CPU-seconds per step
#     (getrusage of the process: `cpu_ms` in metrics.jsonl), which other jobs on a busy
#     machine disturb less. Rows outside ±25% are flagged. Medians of steps 2..STEPS.
# SAVE_RATES=FILE keeps the rates this run measured. LAYOUTS picks rows (default the
# issue's four; also dp2z1 dp2z2 dp2z3: dp2 with ZeRO-1/2/3). SHIELD=1 (root) runs the
# whole script under SCHED_FIFO, so other jobs on a busy machine cannot take its cores:
# a stand-in for a quiet machine (say so next to its figures).
# Usage: [RATES=file] [SAVE_RATES=file] [LAYOUTS=...] [SHIELD=1] bench/bench_calibrate.sh [BUILD_DIR=build/release] [STEPS=4] [B=4] [T=64] [MODELS="d6 d12"]
set -euo pipefail
if [ "${SHIELD:-}" = 1 ]; then SHIELD=on exec chrt -f 10 bash "$0" "$@"; fi
layouts=${LAYOUTS:-1rank dp2 tp2 pp2}
build=${1:-build/release}; steps=${2:-4}; B=${3:-4}; T=${4:-64}; models=${5:-d6 d12}
weft=$build/weft; cmp=$build/tests/weft_dp_compare
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=PASSIVE
cores=$(nproc)
"$cmp" --make-shard "$work/syn_train_000.bin" >/dev/null

# Every row trains B sequences of T tokens per step. weft train's --batch is the global
# batch of one micro-batch (split over dp); with --pp, --micro-batches more of them make
# the step, so pp2 trains --batch B/2 twice (measure() checks the tokens per step).
layout_args() {  # layout -> plan args | train args (threads, --batch, rest)
  case $1 in
    1rank) plan=(--gpus 1 --dp 1 --tp 1 --pp 1 --micro-batch "$B" --rank-threads "$cores")
           train=("$cores" "$B");;
    dp2) plan=(--gpus 2 --dp 2 --tp 1 --pp 1 --micro-batch $((B / 2)) --rank-threads 1)
         train=(1 "$B" --ranks 2 --ranks-as threads --dp 2 --zero 0);;
    dp2z[123]) z=${1#dp2z}
         plan=(--gpus 2 --dp 2 --tp 1 --pp 1 --micro-batch $((B / 2)) --rank-threads 1 --zero "$z")
         train=(1 "$B" --ranks 2 --ranks-as threads --dp 2 --zero "$z");;
    tp2) plan=(--gpus 2 --dp 1 --tp 2 --pp 1 --micro-batch "$B" --rank-threads 1)
         train=(1 "$B" --ranks 2 --ranks-as threads --tp 2);;
    pp2) plan=(--gpus 2 --dp 1 --tp 1 --pp 2 --micro-batch $((B / 2)) --rank-threads 1)
         train=(1 $((B / 2)) --ranks 2 --ranks-as threads --pp 2 --micro-batches 2 --schedule 1f1b);;
  esac
}
plan_common() { echo --preset "$1" --seq "$T" --global-batch "$B"; }

t0=$(date +%s)
rates=${RATES:-$work/rates.json}
if [ -z "${RATES:-}" ]; then
  for model in $models; do
    for layout in $layouts; do
      layout_args $layout
      in=(); [ -f "$rates" ] && in=(--rates "$rates")
      "$weft" plan --calibrate $(plan_common "$model") "${plan[@]}" "${in[@]}" \
        --save-rates "$rates" --json >/dev/null
    done
  done
fi
t1=$(date +%s)
[ -n "${SAVE_RATES:-}" ] && [ -z "${RATES:-}" ] && cp "$rates" "$SAVE_RATES"

measure() {  # model threads batch extra-args... -> "median wall s, median CPU s" (skip step 1)
  local model=$1 th=$2 batch=$3; shift 3
  OMP_NUM_THREADS=$th "$weft" train --model "$model" --vocab 50304 --max-seq 128 \
    --data "$work/syn_train_000.bin" --batch "$batch" --seq "$T" --steps "$steps" --lr 1e-4 \
    --peak-gflops 1 -q --overwrite --threads "$th" --out "$work/run" "$@" >/dev/null 2>&1
  python3 -c "import json,sys,statistics as s
rows=[json.loads(l) for l in open(sys.argv[1])][1:]
tokens=round(rows[0]['tokens_per_s'] * rows[0]['ms'] / 1e3)
if tokens != int(sys.argv[2]):  # the row must train what the plan predicts
    sys.exit('bench_calibrate: the run trained %d tokens per step, the plan prices %s' % (tokens, sys.argv[2]))
print(s.median(r['ms'] for r in rows) / 1e3, s.median(r['cpu_ms'] for r in rows) / 1e3)" \
    "$work/run/metrics.jsonl" $((B * T))
}

echo "B=$B T=$T fp32, $steps steps (median of steps 2..$steps); $cores cores shared with other jobs (load $(cut -d' ' -f1 /proc/loadavg))${SHIELD:+, shielded by SCHED_FIFO}"
printf "%-5s %-6s %9s %9s %6s   %9s %9s %6s\n" model layout "pred s" "meas s" ratio "pred cpu" "meas cpu" ratio
for model in $models; do
  for layout in $layouts; do
    layout_args $layout
    res=$(measure "$model" "${train[@]}")  # a failed check stops the script here
    read -r meas meas_cpu <<<"$res"
    read -r pred pred_cpu < <("$weft" plan --rates "$rates" $(plan_common "$model") "${plan[@]}" --json |
      python3 -c "import sys,json; j=json.load(sys.stdin); print(j['step_s'], j['cpu_s'])")
    python3 -c "
import sys
model, layout, pred, meas, pc, mc = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
flag = lambda r: '' if 0.75 <= r <= 1.25 else ' x'
r, rc = pred / meas, pc / mc
print('%-5s %-6s %9.3f %9.3f %6.2f%-2s %9.3f %9.3f %6.2f%s' % (model, layout, pred, meas, r, flag(r), pc, mc, rc, flag(rc)))" \
      "$model" "$layout" "$pred" "$meas" "$pred_cpu" "$meas_cpu"
  done
done
t2=$(date +%s)
echo "calibration $((t1 - t0)) s (rates: ${RATES:-measured in this run}), training + prediction $((t2 - t1)) s; x = outside ±25%"
