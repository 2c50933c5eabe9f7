#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (the
# `asan` CMake preset): configure, build, ctest, then lists every sanitizer report.
# Reports go to files (log_path), not stderr, so a report from a child process whose
# failure a test expects (bad input, killed rank) is still seen. Leak checking is on,
# with tools/lsan_suppressions.txt (third-party libraries only).
#
#   bash tools/asan_suite.sh                 # everything (about 2 h on 2 busy cores)
#   bash tools/asan_suite.sh -R dp_          # extra arguments go to ctest
#   JOBS=4 WEFT_ASAN_NO_BUILD=1 bash tools/asan_suite.sh -L cluster
# Exit status: non-zero when a test failed or any sanitizer report was written.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-2}
build=build/asan
logs=$root/$build/sanitizer_logs

start=$(date +%s)
if [[ ${WEFT_ASAN_NO_BUILD:-0} != 1 ]]; then
  cmake --preset asan >/dev/null || exit 1
  cmake --build "$build" -j"$jobs" || exit 1
fi
built=$(date +%s)

rm -rf "$logs" && mkdir -p "$logs"
asan="detect_leaks=1:log_path=$logs/asan:strip_path_prefix=$root/"
export LSAN_OPTIONS="suppressions=$root/tools/lsan_suppressions.txt:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/ubsan:strip_path_prefix=$root/"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE

# Two passes. Tests that start MPI ranks (mpirun; the demo and cluster tests too) get
# the slow unwinder: Open MPI unloads its plugins in MPI_Finalize, so fast-unwound
# stacks of their allocations stop in an <unknown module> and match no suppression
# (tools/lsan_suppressions.txt). It makes every malloc ~5x slower, hence not for the
# rest. (Open MPI's mca_base_env_list could give it to the ranks alone, but it refuses
# to run beside mpirun -x, which several tests use.)
mpi_re='mpi|^cluster|Demo|ParallelBench'
mapfile -t names < <(ctest --test-dir "$build" -N "$@" | sed -n 's/^ *Test *#[0-9]*: //p')
mpi=() rest=()
for n in "${names[@]}"; do
  if [[ $n =~ $mpi_re ]]; then mpi+=("$n"); else rest+=("$n"); fi
done
as_regex() {  # exact names -> ^(a|b)$, regex characters escaped
  printf '^(%s)$' "$(printf '%s\n' "$@" | sed 's/[][\\.^$*+?(){}|]/\\&/g' | paste -sd'|')"
}
echo "asan_suite: ${#rest[@]} tests, then ${#mpi[@]} MPI tests (slow unwinder)"
rc=0
if ((${#rest[@]})); then
  ASAN_OPTIONS=$asan ctest --test-dir "$build" --output-on-failure -j"$jobs" -R "$(as_regex "${rest[@]}")" || rc=1
fi
if ((${#mpi[@]})); then
  ASAN_OPTIONS=$asan:fast_unwind_on_malloc=0 \
    ctest --test-dir "$build" --output-on-failure -j"$jobs" -R "$(as_regex "${mpi[@]}")" || rc=1
fi
end=$(date +%s)

echo "asan_suite: build $((built - start)) s, tests $((end - built)) s"
# (a log file without an error line would only hold LSan's suppression counts)
mapfile -t reports < <(grep -lE "ERROR: |runtime error:" "$logs"/* 2>/dev/null)
if ((${#reports[@]})); then
  echo "asan_suite: ${#reports[@]} sanitizer report(s) in $logs:"
  for f in "${reports[@]}"; do
    echo "=== $f"
    grep -m1 -E "ERROR: |runtime error:" "$f"
  done
  rc=1
else
  echo "asan_suite: no sanitizer reports"
fi
exit "$rc"
