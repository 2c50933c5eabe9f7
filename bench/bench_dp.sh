#!/usr/bin/env bash
# Data-parallel throughput of `weft train` on this machine (issue 5 "Speed"):
# d6, global batch B×T, tokens/s and exposed (non-overlapped) communication ms per
# step for 1 rank × 2 threads, 2 MPI ranks × 1 thread, 2 thread-ranks × 1 thread,
# and ZeRO-1/2/3 against ZeRO-0 (2 MPI ranks); 2 MPI ranks also with wte's gradient
# reduced late (--dp-early-wte false, the baseline of the early reduction). Medians
# over the steps after the first two. First checks that the 2-rank run's losses equal
# the 1-rank run's, and that the late-wte run's losses and parameters are bitwise the
# early run's.
# Two rows run with WEFT_HUGE_PAGES=0 (every buffer on 4 KiB pages, as before huge
# pages): the baseline of that change, in the same run.
# Exposed comm is rank 0's wait (which also holds waiting for a slower peer) and the
# least over the ranks (`ms_comm_min`: the last rank to arrive waits for the
# communication alone).
# Beside wall time it prints rank 0's CPU ms per step (its own thread: with 2
# OpenMP threads the second one is not counted) and its voluntary context switches
# (waits that slept), which a loaded machine disturbs less than tokens/s.
# Usage: bench/bench_dp.sh [BUILD_DIR=build/release] [STEPS=8] [B=8] [T=64]
# Env: MPIRUN_ARGS (extra mpirun options, e.g. "--bind-to none" on a shared machine),
#      (the script sets WEFT_DP_PROGRESS_IN_BLOCKS=1 itself for its progress_in_blocks row),
#      WEFT_COMM_SPIN_US (MPI wait: µs of sched_yield polling before sleeping, default 200).
# Takes about 2.5 min on a quiet 2-core machine (13 runs of d6), ~10 min at load 20.
set -euo pipefail
build=${1:-build/release}; steps=${2:-8}; B=${3:-8}; T=${4:-64}
weft=$build/weft; cmp=$build/tests/weft_dp_compare
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=PASSIVE
"$cmp" --make-shard "$work/syn_train_000.bin"
args=(train --model d6 --max-seq 128 --data "$work/syn_train_000.bin" --batch "$B" --seq "$T"
      --steps "$steps" --lr 1e-4 --peak-gflops 1 -q --overwrite)
# shellcheck disable=SC2206
mpirun=(mpirun --oversubscribe --allow-run-as-root -x OMP_WAIT_POLICY ${MPIRUN_ARGS:-})
[ -n "${WEFT_COMM_SPIN_US:-}" ] && mpirun+=(-x WEFT_COMM_SPIN_US)

median() { python3 -c "import json,sys,statistics as s
rows=[json.loads(l) for l in open(sys.argv[1])][2:]
m=lambda k: s.median(r.get(k,0.0) for r in rows)
print('%.0f %.1f %.2f %.0f %.0f %.0f %.2f' % (m('tokens_per_s'), m('ms'), m('ms_comm'), m('thread_cpu_ms'), m('csw'), m('minflt'), m('ms_comm_min')))" "$1"; }

run() {  # name, env threads, command...
  local name=$1 th=$2; shift 2
  OMP_NUM_THREADS=$th "$@" --out "$work/$name" >/dev/null 2>&1
  read -r tok ms comm cpu csw flt least < <(median "$work/$name/metrics.jsonl")
  printf "%-24s %6s tok/s %8s ms/step %7s ms exposed comm (%4.1f%%; least rank %4.1f%%) | rank0 cpu %6s ms/step, %5s waits/step, %6s minflt/step\n" \
    "$name" "$tok" "$ms" "$comm" "$(python3 -c "print(100*$comm/$ms)")" "$(python3 -c "print(100*$least/$ms)")" "$cpu" "$csw" "$flt"
  eval "tok_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$tok"
  eval "cpu_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$cpu"
}

echo "d6, global batch ${B}x${T}, $steps steps (median of steps 3..$steps); shared machine: $(nproc) cores"
run 1rank_x2threads 2 "$weft" "${args[@]}" --threads 2
run 2mpi_x1thread_zero0 1 "${mpirun[@]}" -np 2 "$weft" "${args[@]}" --threads 1 --zero 0
"$cmp" "$work/1rank_x2threads" "$work/2mpi_x1thread_zero0" 1e-4 1 | tail -1
run 2mpi_zero0_late_wte 1 "${mpirun[@]}" -np 2 "$weft" "${args[@]}" --threads 1 --zero 0 --dp-early-wte false
"$cmp" "$work/2mpi_x1thread_zero0" "$work/2mpi_zero0_late_wte" 0 0 | tail -1
# Pending reductions also tested twice inside each block's backward (not only between blocks).
run 2mpi_zero0_progress_in_blocks 1 env WEFT_DP_PROGRESS_IN_BLOCKS=1 "${mpirun[@]}" \
  -x WEFT_DP_PROGRESS_IN_BLOCKS -np 2 "$weft" "${args[@]}" --threads 1 --zero 0
run 2threadranks_x1_zero0 1 "$weft" "${args[@]}" --threads 1 --ranks 2 --ranks-as threads --zero 0
# Small pages only (WEFT_HUGE_PAGES=0): the TLB cost of 4 KiB pages in this machine.
run 1rank_x2threads_small_pages 2 env WEFT_HUGE_PAGES=0 "$weft" "${args[@]}" --threads 2
run 2mpi_zero0_small_pages 1 env WEFT_HUGE_PAGES=0 "${mpirun[@]}" -x WEFT_HUGE_PAGES -np 2 \
  "$weft" "${args[@]}" --threads 1 --zero 0
for z in 1 2 3; do
  run 2mpi_x1thread_zero$z 1 "${mpirun[@]}" -np 2 "$weft" "${args[@]}" --threads 1 --zero $z
done
# The default --zero-release grads gives unowned gradient pages back to the OS (whole
# 2 MiB pages) and the next backward faults them in again (minflt in metrics.jsonl):
# the same runs keeping them, and ZeRO-3 also releasing its parameters (`all`).
for z in 2 3; do
  run 2mpi_x1thread_zero${z}_keep 1 "${mpirun[@]}" -np 2 "$weft" "${args[@]}" --threads 1 --zero $z \
    --zero-release none
done
run 2mpi_x1thread_zero3_all 1 "${mpirun[@]}" -np 2 "$weft" "${args[@]}" --threads 1 --zero 3 \
  --zero-release all
python3 - "$tok_1rank_x2threads" "$tok_2mpi_x1thread_zero0" "$tok_2threadranks_x1_zero0" \
  "$tok_2mpi_x1thread_zero1" "$tok_2mpi_x1thread_zero2" "$tok_2mpi_x1thread_zero3" \
  "$cpu_2mpi_x1thread_zero0" "$cpu_2threadranks_x1_zero0" \
  "$tok_2mpi_x1thread_zero2_keep" "$tok_2mpi_x1thread_zero3_keep" "$tok_2mpi_x1thread_zero3_all" \
  "$tok_2mpi_zero0_late_wte" "$tok_2mpi_zero0_progress_in_blocks" \
  "$tok_1rank_x2threads_small_pages" "$tok_2mpi_zero0_small_pages" <<'PY'
import sys
b, m, t, z1, z2, z3, cm, ct, k2, k3, a3, lw, pu, sb, sm = map(float, sys.argv[1:])
print(f"2 MPI ranks / 1 rank x 2 threads: {m/b:.2f} (target >= 0.9); "
      f"with wte reduced late (--dp-early-wte false): {lw/b:.2f}; "
      f"progress also inside blocks: {pu/b:.2f}")
print(f"2 thread-ranks / 1 rank x 2 threads: {t/b:.2f} (target >= 0.9)")
print(f"huge pages vs 4 KiB pages (WEFT_HUGE_PAGES=0): 1 rank x 2 threads {b/sb:.2f}x, "
      f"2 MPI ranks {m/sm:.2f}x; 2 MPI ranks / 1 rank x 2 threads on small pages: {sm/sb:.2f}")
print(f"ZeRO-1/2/3 vs ZeRO-0 (2 MPI ranks): {z1/m:.2f} {z2/m:.2f} {z3/m:.2f} (target ZeRO-3 >= 0.8)")
print(f"ZeRO-2/3 vs ZeRO-0 with --zero-release none: {k2/m:.2f} {k3/m:.2f} (cost of the default release)")
print(f"ZeRO-3 --zero-release all vs ZeRO-0: {a3/m:.2f} (parameters released too)")
print(f"CPU per step, MPI rank / thread rank: {cm/ct:.2f} (extra copies of the MPI path)")
PY
