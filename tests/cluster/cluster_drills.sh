#!/usr/bin/env bash
# Network drills on a 2-host netns cluster (tests/cluster/tests.cmake, docs/cluster.md).
# Usage: cluster_drills.sh MODE WORK_DIR COMPARE REF_DIR WEFT -- TRAIN_ARGS...
#   linkdown: dp2, one rank per host, checkpoints every 3 steps. Rank 1 pauses at the
#     start of step 7 (a test hook, so the cut lands at a known step); meanwhile
#     node1's switch port goes down. Every rank must exit within the communication
#     timeout (plus the diagnosis grace), rank 0 naming rank 1 and its host, and
#     mpirun must exit non-zero. The link comes back and --resume from step_6 must
#     reproduce REF_DIR (the single-rank run) step by step: no step lost, no batch
#     repeated.
#   slowlink: dp2 across the 2 hosts, without and with a token-bucket limit (tc tbf)
#     on node1's link; prints the exposed communication (metrics.jsonl ms_comm) of
#     each. COMPARE/REF_DIR unused (pass -). Env RATES (default "1gbit 200mbit").
set -uo pipefail
mode=$1 work=$2 compare=$3 ref=$4 weft=$5
shift 5
[[ $1 == -- ]] || { echo "usage: $0 MODE WORK COMPARE REF WEFT -- ARGS"; exit 2; }
shift
args=("$@")
source "$(dirname "$0")/cluster_lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc | awk '{printf "%.1f", $1}'; }
rm -rf "$work"; mkdir -p "$work"

# weft processes still alive on node K.
weft_on() { ip netns pids "$CLUSTER-node$1" 2>/dev/null | xargs -r ps -o comm= -p 2>/dev/null | grep -c '^weft$'; }

linkdown() {
  local ct=8 run=$work/run
  cluster_start 2 1
  # mpirun (Open MPI 4.1's ORTE) waits for the lost host's daemon until TCP gives up
  # on the unacknowledged kill order: net.ipv4.tcp_retries2 = 15 retries, ~15 min by
  # default; 4 gives up after ~6 s. Only the launch node's namespace is tuned
  # (docs/cluster.md says why and what to do on a real cluster).
  ip netns exec "$CLUSTER-sw" sysctl -q -w net.ipv4.tcp_retries2=4
  cluster_mpirun 2 --output-filename "$work/out" "$weft" train "${args[@]}" --save-every 3 \
    --comm-timeout "$ct" --test-fault pause --test-fault-rank 1 --test-fault-step 7 \
    --out "$run" >"$work/log" 2>&1 &
  local pid=$! t0 k
  for _ in $(seq 1200); do
    [[ $(cat "$run/ckpt/latest" 2>/dev/null) == step_6 ]] && break
    kill -0 $pid 2>/dev/null || { cat "$work/log"; fail "the run ended before step 6"; }
    sleep 0.1
  done
  "$cluster_net" link "$CLUSTER" 1 down
  t0=$(now)
  echo "node1's link down after step $(wc -l <"$run/metrics.jsonl") (checkpoint step_6)"
  local gone0= gone1= limit=$((4 * ct + 30))
  while kill -0 $pid 2>/dev/null; do
    [[ -z $gone0 && $(weft_on 0) == 0 ]] && gone0=$(since "$t0")
    [[ -z $gone1 && $(weft_on 1) == 0 ]] && gone1=$(since "$t0")
    (($(echo "$(since "$t0") > $limit" | bc))) && { kill $pid; fail "mpirun still runs ${limit} s after the cut"; }
    sleep 0.2
  done
  wait $pid; local rc=$?
  local t_mpirun; t_mpirun=$(since "$t0")
  [[ -z $gone0 ]] && gone0=$t_mpirun
  [[ -z $gone1 && $(weft_on 1) == 0 ]] && gone1=$t_mpirun
  grep -vE "Process OMPI|Data for|=====|^ *$|^\[r0\] train: (model|2 ranks)" "$work/log" | head -12
  echo "after the cut: rank 0 (node0) exited at ${gone0} s, rank 1 (node1) at ${gone1:-never} s," \
       "mpirun at ${t_mpirun} s with exit code $rc (--comm-timeout $ct)"
  local err1; err1=$(cat "$work"/out/*/rank.1/stderr 2>/dev/null | grep -m1 "error:" || true)
  echo "rank 1's own error (from --output-filename): ${err1:-none}"
  ((rc != 0)) || fail "mpirun exited 0 after the cut"
  grep -qE "rank 1 has not arrived.*rank 1 runs on host node1" "$work/log" ||
    fail "rank 0's error does not name rank 1 on host node1"
  [[ -n $gone1 ]] || fail "rank 1 (cut off on node1) never exited"
  # Each rank: the timeout, the diagnosis grace (timeout/4) and a loaded machine's slack.
  for k in 0 1; do
    local g=gone$k
    (($(echo "${!g} <= 2 * $ct + 10" | bc))) || fail "rank $k took ${!g} s to exit"
  done
  # Nothing may stay behind: a daemon cut off from mpirun is killed by down(); say so.
  local left; left=$(ip netns pids "$CLUSTER-node1" | xargs -r ps -o comm= -p | tr '\n' ' ')
  [[ -n $left ]] && echo "left on node1 after mpirun ended: $left(killed now)"
  ip netns pids "$CLUSTER-node1" | xargs -r kill -9
  "$cluster_net" link "$CLUSTER" 1 up
  echo "link up; resuming from $(cat "$run/ckpt/latest")"
  cluster_mpirun 2 "$weft" train "${args[@]}" --save-every 3 --comm-timeout "$ct" --resume \
    --out "$run" 2>&1 | grep -E "resum|error" || true
  ((PIPESTATUS[0] == 0)) || fail "resume failed"
  "$compare" "$ref" "$run" 1e-5 1e-5 || fail "the resumed run differs from the single-rank reference"
}

# Median of metrics.jsonl field $2 over steps 3.. of run dir $1.
median() {
  python3 -c "
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1] + '/metrics.jsonl')][2:]
print('%.0f' % statistics.median(r.get(sys.argv[2], 0) for r in rows))" "$1" "$2"
}

slowlink() {
  cluster_start 2 1
  local rate rates=(none ${RATES:-1gbit 200mbit})
  # "wire ms": the step's traffic over node1's link at the limited rate — the
  # communication time if none of it overlapped compute.
  printf '%-10s %8s %13s %6s %14s %8s\n' "node1 link" "ms/step" "exposed comm" "share" "link MiB/step" "wire ms"
  for rate in "${rates[@]}"; do
    [[ $rate != none ]] && "$cluster_net" shape "$CLUSTER" 1 "$rate"
    local before; before=$(cluster_link_bytes 1)
    cluster_mpirun 2 "$weft" train "${args[@]}" --out "$work/$rate" >"$work/$rate.log" 2>&1 ||
      { cat "$work/$rate.log"; fail "run with node1 at $rate failed"; }
    local ms comm steps mib
    ms=$(median "$work/$rate" ms); comm=$(median "$work/$rate" ms_comm)
    steps=$(wc -l <"$work/$rate/metrics.jsonl")
    local bytes=$(($(cluster_link_bytes 1) - before))
    mib=$((bytes / steps / 1048576))
    # One direction (the port counts both; a dp2 all-reduce sends as much as it gets).
    local step_bytes=$((bytes / 2 / steps))
    local wire=-
    [[ $rate != none ]] && wire=$(python3 -c "
import re, sys
v, unit = re.fullmatch(r'([0-9.]+)([kmg]?)bit', sys.argv[1]).groups()
bits = float(v) * {'': 1, 'k': 1e3, 'm': 1e6, 'g': 1e9}[unit]
print('%.0f' % (float(sys.argv[2]) * 8 * 1000 / bits))" "$rate" "$step_bytes")
    printf '%-10s %8s %10s ms %5s%% %14s %8s\n' "$rate" "$ms" "$comm" "$((100 * comm / (ms > 0 ? ms : 1)))" "$mib" "$wire"
  done
}

case $mode in
linkdown) linkdown ;;
slowlink) slowlink ;;
*) fail "unknown mode $mode" ;;
esac
echo PASS
