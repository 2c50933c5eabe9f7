#!/usr/bin/env bash
# Checkpoint drills of `weft train` driven as processes (tests/train/ckpt_tests.cmake).
# Usage: ckpt_drills.sh MODE WORK_DIR COMPARE WEFT [MPIRUN...] -- TRAIN_ARGS...
#   signal   : SIGTERM mid-run (2 thread ranks) → finishes the step, saves, exits 0;
#              --resume continues from it.
#   mpi_bitwise: mpirun -np 2, ZeRO-1: 40 steps == 20 + --resume + 20, bit for bit.
#   mpi_kill : mpirun -np 2, rank 1 killed (-9) at step 13 → the job fails naming it;
#              --resume restarts from step_10 and the run equals the reference
#              REF (WORK_DIR/../ref_n2) step by step: no batch skipped or repeated.
#   pp_bitwise: 2 pipeline stages (thread ranks, 1f1b): 40 steps == 20 + --resume
#              + 20, bit for bit (losses, grad norms, model.bin).
#   pp_reshard: pp2 stops at step 20; one rank with --grad-accum 2 (= the pipeline's
#              micro-batches) resumes to 40; equal to the uninterrupted pp2 run (1e-5).
#   tppp_bitwise: mpirun -np 4, tp2·pp2: 12 steps == 6 + --resume + 6, bit for bit.
#   grid_reshard: one run of 20 steps through five layouts, each resuming the last
#              one's checkpoint: dp2·tp2·pp2 (np 8, steps 1-2) → 1 rank (3-8) → tp2
#              (9-12) → pp2 (13-16) → tp2·pp2 (17-20); the dp2·tp2·pp2 checkpoint
#              converts (weft convert --to llmc) to its model.bin bit for bit;
#              equal to the uninterrupted one-rank reference REF (1e-5; params 5e-3,
#              the tp rounding noise of tp_tests.cmake).
#   tppp_kill: mpirun -np 4, tp2·pp2, world rank 3 killed (-9) at step 13 → the job
#              fails naming it; --resume restarts from step_10; equal to REF.
#   tppp_nan : mpirun -np 4, tp2·pp2, a NaN in world rank 3's gradient only (stage
#              1) at step 4: --on-nan stop ends every rank naming step 4 and fcw
#              layer 2; --on-nan skip equals one rank skipping step 4 (1e-5).
#   tmpfs    : the disk fills while saving (a small tmpfs; skipped unless mountable)
#              → the error says so and the previous checkpoint still loads.
set -uo pipefail
mode=$1 work=$2 compare=$3 weft=$4
shift 4
launcher=()
while [[ $1 != -- ]]; do launcher+=("$1"); shift; done
shift
args=("$@")
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

case $mode in
signal)
  run=$work/run
  "$weft" train "${args[@]}" --steps 100000 --ranks 2 --ranks-as threads --out "$run" &
  pid=$!
  for _ in $(seq 300); do
    [[ -f $run/metrics.jsonl && $(wc -l <"$run/metrics.jsonl") -ge 3 ]] && break
    sleep 0.1
  done
  kill -TERM $pid
  wait $pid; rc=$?
  ((rc == 0)) || fail "weft train exited $rc after SIGTERM (expected 0)"
  n=$(wc -l <"$run/metrics.jsonl")
  latest=$(cat "$run/ckpt/latest")
  [[ $latest == "step_$n" ]] || fail "latest is '$latest', the run did $n steps"
  echo "SIGTERM after step $n: checkpoint $latest"
  "$weft" train "${args[@]}" --steps 100000 --ranks 2 --ranks-as threads --resume \
    --stop-after $((n + 2)) --out "$run" || fail "resume failed"
  [[ $(wc -l <"$run/metrics.jsonl") -eq $((n + 2)) ]] || fail "metrics.jsonl does not have $((n + 2)) steps"
  ;;
mpi_bitwise)
  "${launcher[@]}" "$weft" train "${args[@]}" --zero 1 --steps 40 --out "$work/whole" || fail "whole run"
  "${launcher[@]}" "$weft" train "${args[@]}" --zero 1 --steps 40 --stop-after 20 --out "$work/split" || fail "first half"
  "${launcher[@]}" "$weft" train "${args[@]}" --zero 1 --steps 40 --resume --out "$work/split" || fail "resume"
  "$compare" "$work/whole" "$work/split" 0 0 || fail "20 + resume + 20 differs from 40 steps"
  ;;
mpi_kill)
  out=$(timeout -k 5 60 "${launcher[@]}" "$weft" train "${args[@]}" --steps 20 --save-every 5 --comm-timeout 2 \
    --test-fault kill --test-fault-rank 1 --test-fault-step 13 --out "$work/run" 2>&1); rc=$?
  echo "$out" | grep -vE "^\[r[0-9]\] train: (model|2 data)" | tail -12
  ((rc != 0)) || fail "the job survived a killed rank"
  grep -qE "process rank 1 .*signal 9|rank 1 has not arrived" <<<"$out" || fail "the error does not name rank 1"
  [[ $(cat "$work/run/ckpt/latest") == step_10 ]] || fail "latest is not step_10"
  "${launcher[@]}" "$weft" train "${args[@]}" --steps 20 --resume --out "$work/run" || fail "resume"
  "$compare" "$work/../ref_n2" "$work/run" 1e-5 1e-5 || fail "resumed run differs from the reference"
  ;;
pp_bitwise)
  pp=(--pp 2 --schedule 1f1b --ranks-as threads)
  "$weft" train "${args[@]}" "${pp[@]}" --steps 40 --out "$work/whole" || fail "whole run"
  "$weft" train "${args[@]}" "${pp[@]}" --steps 40 --stop-after 20 --out "$work/split" || fail "first half"
  "$weft" train "${args[@]}" "${pp[@]}" --steps 40 --resume --out "$work/split" || fail "resume"
  "$compare" "$work/whole" "$work/split" 0 0 || fail "pp2: 20 + resume + 20 differs from 40 steps"
  ;;
pp_reshard)
  pp=(--pp 2 --schedule 1f1b --ranks-as threads)
  "$weft" train "${args[@]}" "${pp[@]}" --steps 40 --out "$work/whole" || fail "whole run"
  "$weft" train "${args[@]}" "${pp[@]}" --steps 40 --save-every 10 --stop-after 20 --out "$work/split" || fail "first half"
  "$weft" train "${args[@]}" --grad-accum 2 --steps 40 --resume --out "$work/split" || fail "resume on one rank"
  "$compare" "$work/whole" "$work/split" 1e-5 1e-5 || fail "pp2 -> 1 rank resume differs from the pp2 run"
  ;;
tppp_bitwise)
  grid=("${launcher[@]}" -np 4 "$weft" train "${args[@]}" --tp 2 --pp 2 --steps 12)
  "${grid[@]}" --out "$work/whole" || fail "whole run"
  "${grid[@]}" --save-every 3 --stop-after 6 --out "$work/split" || fail "first half"
  "${grid[@]}" --resume --out "$work/split" || fail "resume"
  "$compare" "$work/whole" "$work/split" 0 0 || fail "tp2·pp2: 6 + resume + 6 differs from 12 steps"
  ;;
grid_reshard)
  run=$work/run
  one=("$weft" train "${args[@]}" --steps 20 --out "$run")
  mpi=("${launcher[@]}" -np)
  "${mpi[@]}" 8 "${one[@]}" --dp 2 --tp 2 --pp 2 --stop-after 2 || fail "dp2·tp2·pp2 steps 1-2"
  # The 8 rank files hold the model the gather path saved as model.bin, bit for bit.
  "$weft" convert "$run/ckpt/step_2" "$work/step2.bin" --to llmc || fail "convert step_2"
  cmp "$run/model.bin" "$work/step2.bin" || fail "dp2·tp2·pp2 checkpoint != its model.bin"
  "${one[@]}" --resume --stop-after 8 || fail "1 rank steps 3-8"
  "${mpi[@]}" 2 "${one[@]}" --tp 2 --resume --stop-after 12 || fail "tp2 steps 9-12"
  "${mpi[@]}" 2 "${one[@]}" --pp 2 --resume --stop-after 16 || fail "pp2 steps 13-16"
  "${mpi[@]}" 4 "${one[@]}" --tp 2 --pp 2 --resume || fail "tp2·pp2 steps 17-20"
  [[ $(grep -c '"step"' "$run/metrics.jsonl") == 20 ]] || fail "metrics.jsonl does not hold 20 steps"
  "$compare" "$work/../ref_n2" "$run" 1e-5 5e-3 || fail "resharded run differs from the reference"
  ;;
tppp_kill)
  out=$(timeout -k 5 90 "${launcher[@]}" -np 4 "$weft" train "${args[@]}" --tp 2 --pp 2 --steps 20 \
    --save-every 5 --comm-timeout 2 --test-fault kill --test-fault-rank 3 --test-fault-step 13 \
    --out "$work/run" 2>&1); rc=$?
  echo "$out" | grep -vE "^\[r[0-9]\] train: (model|4 ranks|pipeline)" | tail -12
  ((rc != 0 && rc != 124)) || fail "the job survived a killed rank (rc $rc)"
  grep -qE "process rank 3 .*signal 9|rank 3 has not arrived" <<<"$out" || fail "the error does not name rank 3"
  [[ $(cat "$work/run/ckpt/latest") == step_10 ]] || fail "latest is not step_10"
  "${launcher[@]}" -np 4 "$weft" train "${args[@]}" --tp 2 --pp 2 --steps 20 --resume --out "$work/run" || fail "resume"
  [[ $(grep -c '"step"' "$work/run/metrics.jsonl") == 20 ]] || fail "metrics.jsonl does not hold 20 steps"
  "$compare" "$work/../ref_n2" "$work/run" 1e-5 5e-3 || fail "resumed run differs from the reference"
  ;;
tppp_nan)
  nan=(--steps 8 --test-fault nan --test-fault-step 4)
  grid=("${launcher[@]}" -np 4 "$weft" train "${args[@]}" --tp 2 --pp 2 "${nan[@]}" --test-fault-rank 3)
  out=$(timeout -k 5 90 "${grid[@]}" --out "$work/stop" 2>&1); rc=$?
  echo "$out" | grep -E "non-finite|test fault" | head -4
  ((rc != 0 && rc != 124)) || fail "--on-nan stop: the job did not stop (rc $rc)"
  grep -q "step 4: loss is finite .*first non-finite gradient: fcw (layer 2, element" <<<"$out" ||
    fail "--on-nan stop: the error does not name step 4 and fcw layer 2"
  "$weft" train "${args[@]}" "${nan[@]}" --test-fault-rank 0 --on-nan skip --out "$work/one" || fail "one rank, skip"
  out=$("${grid[@]}" --on-nan skip --out "$work/skip" 2>&1) || { echo "$out" | tail; fail "tp2·pp2, skip"; }
  grep -q "step 4: .*fcw (layer 2, element .*update skipped" <<<"$out" || fail "the skip is not logged"
  "$compare" "$work/one" "$work/skip" 1e-5 5e-3 || fail "tp2·pp2 skip differs from one rank skipping step 4"
  ;;
tmpfs)
  [[ $(id -u) == 0 ]] || { echo "SKIP: mounting a tmpfs needs root"; exit 77; }
  "$weft" train "${args[@]}" --steps 2 --stop-after 1 --out "$work/probe" >/dev/null || fail "probe run"
  bytes=$(du -sb "$work/probe/ckpt/step_1" | cut -f1)
  mkdir -p "$work/small"
  mount -t tmpfs -o size=$((bytes * 3 / 2 + 65536)) tmpfs "$work/small" 2>/dev/null ||
    { echo "SKIP: cannot mount a tmpfs here"; exit 77; }
  trap 'umount "$work/small"' EXIT
  out=$("$weft" train "${args[@]}" --steps 20 --save-every 5 --keep 1 --out "$work/small/run" 2>&1); rc=$?
  echo "$out" | tail -3
  ((rc != 0)) || fail "the run did not report the failed save"
  grep -q "step_10 was NOT saved: .*No space left on device.*step_5 is intact" <<<"$out" || fail "message"
  [[ $(ls -A "$work/small/run/ckpt") == $'latest\nstep_5' ]] || fail "ckpt/ holds: $(ls -A "$work/small/run/ckpt")"
  "$weft" convert "$work/small/run" "$work/step5.bin" --to llmc || fail "step_5 does not load"
  ;;
*) fail "unknown mode $mode" ;;
esac
echo PASS
