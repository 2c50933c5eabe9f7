#!/usr/bin/env bash
# Every GPU check of issue 11 in one run, for a machine with an NVIDIA GPU (written on a
# machine without one: these checks have not been run by their author; see docs/gpu.md).
#
#   bash scripts/setup.sh --no-build   # once: the Debian packages weft builds against
#   bash tools/gpu_check.sh            # from the repository root; ~5-10 min on one H100
#   WEFT_GPU_CHECK_DIR=/tmp/x bash tools/gpu_check.sh
#
# 1. builds weft with -DWEFT_CUDA=ON for this GPU's architecture (build/gpu);
# 2. runs the GPU unit tests (tests/cuda: kernels vs CPU reference in fp32/bf16, the model
#    vs the PyTorch fixture, determinism, recompute) and the NCCL tests — none may SKIP;
# 3. trains d4 for 20 steps on CPU (fp32) and GPU (fp32 and bf16) from the same init and
#    data, and compares the losses (fp32: |Δ| <= 2e-3; bf16: |Δ| <= 2% of the CPU loss);
# 4. times d12 (GPT-2 124M) at B=64, T=1024, bf16 for 12 steps: median tokens/s and MFU
#    against the H100 SXM dense bf16 peak (989 TFLOP/s; override with WEFT_PEAK_GFLOPS);
# 5. with >= 2 GPUs, the NCCL collectives on two GPUs (part of step 2's filter);
# 6. `weft hw` lists the GPU.
# Prints a PASS/FAIL line per check and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
work=${WEFT_GPU_CHECK_DIR:-build/gpu_check}
peak=${WEFT_PEAK_GFLOPS:-989000}
jobs=$(nproc)
mkdir -p "$work"
declare -a results=()
fail=0
record() {  # name status detail
  results+=("$(printf '%-34s %s  %s' "$1" "$2" "$3")")
  [[ $2 == FAIL ]] && fail=1
  return 0
}

echo "== GPU"
if ! nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; then
  echo "gpu_check: nvidia-smi failed: no NVIDIA GPU/driver here" >&2
  exit 2
fi
ngpu=$(nvidia-smi --list-gpus | wc -l)

echo "== 1. build (CUDA on, native architecture)"
start=$SECONDS
if cmake -S . -B build/gpu -DCMAKE_BUILD_TYPE=Release -DWEFT_CUDA=ON -DWEFT_BUILD_BENCH=OFF \
      -DCMAKE_CUDA_ARCHITECTURES=native -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -march=native" \
      >"$work/configure.log" 2>&1 &&
   cmake --build build/gpu -j"$jobs" --target weft weft_tests >"$work/build.log" 2>&1; then
  record "build -DWEFT_CUDA=ON" PASS "$((SECONDS - start)) s"
else
  tail -30 "$work/configure.log" "$work/build.log"
  record "build -DWEFT_CUDA=ON" FAIL "see $work/build.log"
  printf '%s\n' "${results[@]}"
  exit 1
fi
weft=build/gpu/weft

echo "== 2. GPU unit tests"
filter='Cuda*:CudaModel*:CudaMemoryPlan*:CommNccl*'
OMP_NUM_THREADS=4 build/gpu/tests/weft_tests --gtest_filter="$filter" 2>&1 | tee "$work/tests.log"
test_rc=${PIPESTATUS[0]}
skipped=$(grep -c '^\[  SKIPPED \]' "$work/tests.log" || true)
# NCCL two-GPU tests skip on one GPU (expected); nothing else may.
bad_skips=$(grep '^\[  SKIPPED \]' "$work/tests.log" | grep -v 'CommNccl' | grep -vc 'listed below' || true)
if ((test_rc == 0 && bad_skips == 0)); then
  record "GPU unit tests" PASS "$(grep -c '^\[       OK \]' "$work/tests.log") ok, $skipped skipped"
else
  record "GPU unit tests" FAIL "rc $test_rc, $bad_skips unexpected skips (see $work/tests.log)"
fi

echo "== data (synthetic shards)"
python3 tools/make_synthetic_shards.py "$work/data" --tokens 3000000 || { echo "cannot make shards" >&2; exit 1; }

echo "== 3. d4: 20 steps CPU fp32 vs GPU fp32 and bf16"
common=(--model d4 --data "$work/data" --batch 8 --seq 256 --steps 20 --lr 1e-3 --seed 7
        --overwrite --peak-gflops 1)
"$weft" train "${common[@]}" --device cpu --out "$work/d4_cpu" >"$work/d4_cpu.log" 2>&1
r_cpu=$?
"$weft" train "${common[@]}" --device cuda --precision fp32 --out "$work/d4_gpu32" >"$work/d4_gpu32.log" 2>&1
r_g32=$?
"$weft" train "${common[@]}" --device cuda --precision bf16 --out "$work/d4_gpu16" >"$work/d4_gpu16.log" 2>&1
r_g16=$?
if ((r_cpu || r_g32 || r_g16)); then
  tail -5 "$work"/d4_*.log
  record "d4 GPU vs CPU losses" FAIL "a run failed (rc cpu $r_cpu, fp32 $r_g32, bf16 $r_g16)"
else
  cmp_out=$(python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
load = lambda d: [json.loads(l)["loss"] for l in open(f"{w}/{d}/metrics.jsonl")]
cpu, g32, g16 = load("d4_cpu"), load("d4_gpu32"), load("d4_gpu16")
d32 = max(abs(a - b) for a, b in zip(cpu, g32))
d16 = max(abs(a - b) / a for a, b in zip(cpu, g16))
for i, (a, b, c) in enumerate(zip(cpu, g32, g16)):
    print(f"  step {i+1:2d}  cpu {a:.6f}  gpu-fp32 {b:.6f}  gpu-bf16 {c:.6f}", file=sys.stderr)
ok = len(cpu) == len(g32) == len(g16) == 20 and d32 <= 2e-3 and d16 <= 0.02 and cpu[-1] < cpu[0]
print(("PASS" if ok else "FAIL") + f" max|fp32-cpu| {d32:.2e}, max bf16 rel {d16:.2e}, cpu loss {cpu[0]:.3f}->{cpu[-1]:.3f}")
PY
)
  record "d4 GPU vs CPU losses" "${cmp_out%% *}" "${cmp_out#* }"
fi

echo "== 4. d12 B=64 T=1024 bf16 speed"
"$weft" train --model d12 --data "$work/data" --batch 64 --seq 1024 --steps 12 --lr 6e-4 \
  --device cuda --precision bf16 --peak-gflops "$peak" --overwrite --out "$work/d12" 2>&1 |
  tee "$work/d12.log"
if [[ ${PIPESTATUS[0]} == 0 ]]; then
  speed=$(python3 - "$work" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/d12/metrics.jsonl")][2:]  # skip warm-up
tok = statistics.median(r["tokens_per_s"] for r in rows)
mfu = statistics.median(r["mfu"] for r in rows)
ms = statistics.median(r["ms"] for r in rows)
print(f"median {tok:,.0f} tok/s, {ms:.0f} ms/step, MFU {100*mfu:.1f}% of bf16 peak (target >= 50%)")
PY
)
  record "d12 B=64 T=1024 speed" PASS "$speed"
  grep -h "peak device memory" "$work/d12.log" | sed 's/^/  /'
else
  record "d12 B=64 T=1024 speed" FAIL "run failed (see $work/d12.log)"
fi

echo "== 5. NCCL on 2 GPUs"
if ((ngpu >= 2)); then
  if grep -q '^\[       OK \] CommNccl.CollectivesMatchClosedFormsOnTwoGpus' "$work/tests.log"; then
    record "NCCL 2-GPU collectives" PASS "thread ranks, one GPU each"
  else
    record "NCCL 2-GPU collectives" FAIL "see $work/tests.log"
  fi
else
  record "NCCL 2-GPU collectives" SKIP "only $ngpu GPU (not a failure)"
fi

echo "== 6. weft hw"
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
if "$weft" hw 2>&1 | tee "$work/hw.log" | grep -qF "$gpu_name"; then
  record "weft hw lists the GPU" PASS "$gpu_name"
else
  record "weft hw lists the GPU" FAIL "see $work/hw.log"
fi

echo
echo "== summary ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), $ngpu GPU(s))"
printf '%s\n' "${results[@]}"
exit $fail
