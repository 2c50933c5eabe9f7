#!/bin/sh
# One command for the bf16 figures of docs/precision.md: weft's bench_bf16 (GEMM peaks,
# d12 B=4 T=64 and d6 B=8 T=256 in fp32 and bf16, MFU three ways), then PyTorch's
# autocast(bfloat16) on the same shapes (tools/bench_torch.py --bf16), then the ratio.
# Usage: tools/bench_bf16.sh [BUILD_DIR] [THREADS]   (about 2-3 min on a quiet 2-core machine)
set -eu
build=${1:-build/release}
threads=${2:-2}
export OMP_WAIT_POLICY=PASSIVE
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$build/bench/bench_bf16" --threads "$threads" --steps 4 | tee "$out"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 "$(dirname "$0")/bench_torch.py" --bf16 --threads "$threads" --steps 4 | tee -a "$out"
  # weft bf16 ms/step (wall) against torch's s/step, per config.
  for cfg in d12 d6; do
    w=$(awk -v c="$cfg" '$1 == c && $4 == "bf16" { for (i = 1; i <= NF; ++i) if ($i == "wall") { print $(i + 1); exit } }' "$out")
    t=$(awk -v c="${cfg}_bf16" '$1 == "torch" && $2 == c { print $4 * 1000; exit }' "$out")
    [ -n "$w" ] && [ -n "$t" ] && awk -v c="$cfg" -v w="$w" -v t="$t" \
      'BEGIN { printf "%s bf16: weft %.1f ms/step vs torch autocast %.1f ms/step: %.2fx\n", c, w, t, t / w }' || true
  done
else
  echo "no PyTorch under /usr/bin/python3: torch baseline skipped"
fi
