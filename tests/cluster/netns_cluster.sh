#!/usr/bin/env bash
# A simulated cluster on one machine: N hosts as Linux network namespaces joined by
# veth pairs to a bridge that lives in its own namespace (the "switch", which also
# holds the launch node where mpirun runs). Addresses only on a private /24; the
# host's own network is never touched. Needs root (ip netns). docs/cluster.md.
# Usage (CLUSTER is a unique name, e.g. wc$$; SUBNET the first three octets):
#   netns_cluster.sh check                 exit 77 with a reason if netns is unavailable
#   netns_cluster.sh up CLUSTER N SUBNET   hosts node0..node{N-1} at SUBNET.1..N,
#                                          launch node CLUSTER-sw at SUBNET.254
#   netns_cluster.sh down CLUSTER          remove every namespace of CLUSTER
#   netns_cluster.sh link CLUSTER K up|down   switch port of node K (a pulled cable)
#   netns_cluster.sh shape CLUSTER K RATE     token-bucket limit on node K's port (tc tbf)
#   netns_cluster.sh exec CLUSTER CMD...   run CMD on the launch node, with
#                                          WEFT_CLUSTER=CLUSTER (netns_agent.sh reads it)
# Hosts are named nodeK (their UTS hostname, set by netns_agent.sh); the netns
# names are CLUSTER-nodeK, so clusters of concurrent tests never collide.
set -euo pipefail
cmd=${1:-}
shift || true

die() { echo "netns_cluster: $*" >&2; exit 1; }

check() {
  [[ $(id -u) == 0 ]] || { echo "SKIP: the netns cluster needs root (ip netns)"; exit 77; }
  command -v ip >/dev/null || { echo "SKIP: iproute2 (ip) is not installed"; exit 77; }
  command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) is not installed"; exit 77; }
  if ! unshare --net --uts true 2>/dev/null; then
    echo "SKIP: creating network/UTS namespaces is not permitted here"; exit 77
  fi
}

down() {
  local cluster=$1 ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${cluster}-(sw|node[0-9]+)$" || true); do
    # Processes left inside (a hung rank) would keep the namespace's links alive.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

up() {
  local cluster=$1 n=$2 subnet=$3 sw=$1-sw k
  [[ $subnet =~ ^10\.[0-9]+\.[0-9]+$ ]] || die "SUBNET must look like 10.X.Y (got '$subnet')"
  ((n >= 1 && n <= 250)) || die "N must be 1..250"
  trap 'down "$cluster"' ERR
  # One `ip -batch` per namespace: a loaded machine pays ~0.2 s per ip process.
  { echo "netns add $sw"; for ((k = 0; k < n; ++k)); do echo "netns add $cluster-node$k"; done; } |
    ip -batch -
  {
    echo "link set lo up"
    echo "link add br0 type bridge"
    echo "addr add $subnet.254/24 dev br0"
    echo "link set br0 up"
    for ((k = 0; k < n; ++k)); do
      # Created inside the switch namespace: no link ever appears on the host.
      echo "link add port$k type veth peer name eth0 netns $cluster-node$k"
      echo "link set port$k master br0"
      echo "link set port$k up"
    done
  } | ip -n "$sw" -batch -
  for ((k = 0; k < n; ++k)); do
    printf '%s\n' "link set lo up" "addr add $subnet.$((k + 1))/24 dev eth0" "link set eth0 up" |
      ip -n "$cluster-node$k" -batch -
  done
  trap - ERR
  # Wait until every port forwards (operstate UP on both ends).
  for ((k = 0; k < n; ++k)); do
    local tries=0
    until [[ $(ip -n "$sw" -br link show "port$k") == *" UP "* &&
             $(ip -n "$cluster-node$k" -br link show eth0) == *" UP "* ]]; do
      ((++tries < 50)) || { down "$cluster"; die "node$k's link does not come up"; }
      sleep 0.1
    done
  done
}

case $cmd in
check) check ;;
up) (($# == 3)) || die "usage: up CLUSTER N SUBNET"; up "$@" ;;
down) (($# == 1)) || die "usage: down CLUSTER"; down "$1" ;;
link)
  (($# == 3)) || die "usage: link CLUSTER K up|down"
  ip -n "$1-sw" link set "port$2" "$3" ;;
shape)
  (($# == 3)) || die "usage: shape CLUSTER K RATE"
  # Both directions: the switch port shapes traffic to the node, the node's eth0 from
  # it. The bucket must hold ≥ one timer tick of traffic (rate/HZ), else the kernel's
  # timer, not the rate, limits the link (64 KiB at HZ 250 caps 1gbit at ~130 Mbit/s):
  # 10 ms of traffic, at least 64 KiB.
  [[ $3 =~ ^([0-9]+)([kmg]?)bit$ ]] || die "RATE must look like 200mbit, 1gbit or 500kbit"
  bits=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in k) bits=$((bits * 1000)) ;; m) bits=$((bits * 1000000)) ;; g) bits=$((bits * 1000000000)) ;; esac
  burst=$((bits / 8 / 100 > 65536 ? bits / 8 / 100 : 65536))
  tc -n "$1-sw" qdisc replace dev "port$2" root tbf rate "$3" burst "$burst" latency 100ms
  tc -n "$1-node$2" qdisc replace dev eth0 root tbf rate "$3" burst "$burst" latency 100ms ;;
exec)
  (($# >= 2)) || die "usage: exec CLUSTER CMD..."
  cluster=$1; shift
  WEFT_CLUSTER=$cluster exec ip netns exec "$cluster-sw" "$@" ;;
*) die "unknown command '$cmd' (check, up, down, link, shape, exec)" ;;
esac
