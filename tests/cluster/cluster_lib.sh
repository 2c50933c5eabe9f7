# Shell functions shared by the cluster tests (sourced, not run): bring up a netns
# cluster owned by this process, run mpirun across it, report the bytes each host's
# link carried, and always remove the cluster on exit. netns_cluster.sh builds it.
# Variables set by cluster_start: CLUSTER, SUBNET, HOSTFILE, NODES.
cluster_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cluster_net=$cluster_here/netns_cluster.sh

# Clusters of test processes that died without cleaning up (ctest's timeout kills
# with SIGKILL, so no trap runs): their namespaces are named wc<pid>-*.
cluster_reap_stale() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^wc[0-9]+-sw$' || true); do
    pid=${ns#wc}; pid=${pid%-sw}
    [[ -d /proc/$pid ]] || "$cluster_net" down "wc$pid"
  done
}

cluster_stop() {
  [[ -n ${CLUSTER:-} ]] && "$cluster_net" down "$CLUSTER"
  [[ -n ${HOSTFILE:-} ]] && rm -f "$HOSTFILE"
  CLUSTER=
}

# cluster_start NODES SLOTS_PER_NODE: exits 77 (ctest SKIP) where netns is unavailable.
cluster_start() {
  NODES=$1
  local slots=$2 rc=0 k
  "$cluster_net" check || rc=$?
  ((rc == 0)) || exit "$rc"
  cluster_reap_stale
  CLUSTER=wc$$
  # Clusters never share a bridge, so equal subnets could not meet; distinct ones
  # keep any stray route or capture unambiguous anyway.
  SUBNET=10.$((100 + ($$ >> 8) % 150)).$(($$ % 256))
  trap cluster_stop EXIT
  trap 'exit 143' INT TERM
  "$cluster_net" up "$CLUSTER" "$NODES" "$SUBNET"
  HOSTFILE=$(mktemp "/tmp/${CLUSTER}_hosts.XXXXXX")
  for ((k = 0; k < NODES; ++k)); do echo "node$k slots=$slots"; done >"$HOSTFILE"
}

# cluster_mpirun NP CMD...: mpirun on the launch node; ranks fill node0's slots
# first, then node1's (so consecutive ranks share a host). TCP only, and only on the
# cluster's subnet (as between real nodes); the daemons' out-of-band channel too.
cluster_mpirun() {
  local np=$1
  shift
  "$cluster_net" exec "$CLUSTER" "${MPIRUN:-mpirun}" --allow-run-as-root --oversubscribe \
    --hostfile "$HOSTFILE" -np "$np" --map-by slot --bind-to none --display-map \
    --mca plm_rsh_agent "$cluster_here/netns_agent.sh" \
    --mca btl tcp,self --mca btl_tcp_if_include "$SUBNET.0/24" \
    --mca oob_tcp_if_include "$SUBNET.0/24" "$@"
}

# cluster_link_bytes K: bytes node K's link carried (both directions), from the
# switch port's counters.
cluster_link_bytes() {
  local d=/sys/class/net/port$1/statistics
  ip netns exec "$CLUSTER-sw" sh -c "echo \$((\$(cat $d/rx_bytes) + \$(cat $d/tx_bytes)))"
}
