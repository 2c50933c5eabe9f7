#!/usr/bin/env bash
# Slow link between hosts (issue 12): dp2 across 2 netns hosts (tests/cluster/), first
# at veth speed (the baseline), then with node1's link limited by a token bucket (tc
# tbf) to each of RATES; prints ms/step, exposed communication (metrics.jsonl ms_comm,
# medians of steps 3..), the bytes node1's link carried per step and the time they
# take on the wire at that rate. Needs root (network namespaces) and tc.
# Usage: bench/bench_cluster_slowlink.sh [BUILD_DIR=build/release] [STEPS=8] [RATES="1gbit 200mbit"]
set -euo pipefail
build=${1:-build/release}; steps=${2:-8}
export RATES=${3:-1gbit 200mbit} OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$build/tests/weft_dp_compare" --make-shard "$work/syn_train_000.bin"
bash "$(dirname "$0")/../tests/cluster/cluster_drills.sh" slowlink "$work/runs" - - "$build/weft" -- \
  --model d4 --vocab 512 --max-seq 32 --data "$work/syn_train_000.bin" --seq 16 --batch 4 \
  --steps "$steps" --lr 1e-3 --warmup 2 --threads 1 --peak-gflops 1 --bucket-mb 0.5 --overwrite -q
