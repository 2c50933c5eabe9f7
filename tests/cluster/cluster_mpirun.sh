#!/usr/bin/env bash
# Runs one command under mpirun on a fresh netns cluster, then removes the cluster.
# Usage: cluster_mpirun.sh NODES SLOTS_PER_NODE NP MIN_MB CMD...
# Fails unless the job succeeds, its rank map puts ranks on every node (and equals
# $CLUSTER_EXPECT_MAP, e.g. "node0 node0 node1 node1", when set), and every node's
# link carried at least MIN_MB MiB (proof that the ranks talked over the network).
# Exits 77 (ctest skip) where network namespaces are not permitted.
set -uo pipefail
source "$(dirname "$0")/cluster_lib.sh"
nodes=$1 slots=$2 np=$3 min_mb=$4
shift 4
cluster_start "$nodes" "$slots"
out=$(mktemp "/tmp/${CLUSTER}_out.XXXXXX")
cluster_mpirun "$np" "$@" 2>&1 | tee "$out" | grep -vE "^ *(Data for|Process OMPI|=+ *(JOB MAP)? *=*$|$)"
rc=${PIPESTATUS[0]}
# Rank → node, from mpirun's --display-map.
map=$(awk '/Data for node:/ {node=$4} /Process rank:/ {for (i=1;i<=NF;i++) if ($i=="rank:") print $(i+1), node}' "$out" |
  sort -u | sort -n)
echo "rank map: $(awk '{printf "%srank %s on %s", (NR > 1 ? ", " : ""), $1, $2}' <<<"$map")"
if [[ -n ${CLUSTER_EXPECT_MAP:-} && $(awk '{print $2}' <<<"$map" | xargs) != "$CLUSTER_EXPECT_MAP" ]]; then
  echo "FAIL: expected ranks 0.. on: $CLUSTER_EXPECT_MAP"; rc=1
fi
for ((k = 0; k < nodes; ++k)); do
  grep -q "Data for node: node$k" "$out" || { echo "FAIL: no rank was placed on node$k"; rc=1; }
  bytes=$(cluster_link_bytes "$k")
  echo "node$k's link carried $((bytes / 1024)) KiB"
  ((bytes >= min_mb * 1048576)) || { echo "FAIL: node$k's link carried less than $min_mb MiB"; rc=1; }
done
rm -f "$out"
exit "$rc"
