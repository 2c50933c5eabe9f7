#!/usr/bin/env bash
# One data-parallel equivalence test: runs a training command into RUN_DIR, then
# compares it with the single-rank reference REF_DIR (weft_dp_compare).
# Usage: dp_check.sh COMPARE REF_DIR RUN_DIR PARAM_RTOL CMD...  (CMD gets --out RUN_DIR)
set -euo pipefail
compare=$1 ref=$2 run=$3 ptol=$4
shift 4
rm -rf "$run"
"$@" --out "$run"
"$compare" "$ref" "$run" 1e-5 "$ptol"
