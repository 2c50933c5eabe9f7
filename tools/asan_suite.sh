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
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan:strip_path_prefix=$root/"
export LSAN_OPTIONS="suppressions=$root/tools/lsan_suppressions.txt:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$logs/ubsan:strip_path_prefix=$root/"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@"
rc=$?
end=$(date +%s)

echo "asan_suite: build $((built - start)) s, tests $((end - built)) s"
shopt -s nullglob
reports=("$logs"/*)
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
