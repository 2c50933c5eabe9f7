#!/usr/bin/env bash
# Open MPI's rsh launcher agent for the netns cluster (--mca plm_rsh_agent): called
# as `netns_agent.sh HOST CMD...` like ssh, it runs CMD with sh inside HOST's network
# namespace ($WEFT_CLUSTER-HOST) and in a fresh UTS namespace whose hostname is HOST,
# so the daemons and ranks started there see themselves on host HOST.
set -eu
host=$1
shift
[[ -n ${WEFT_CLUSTER:-} ]] || { echo "netns_agent: WEFT_CLUSTER is not set" >&2; exit 255; }
ns=$WEFT_CLUSTER-$host
[[ -e /run/netns/$ns ]] || { echo "netns_agent: no namespace $ns for host $host" >&2; exit 255; }
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec sh -c "$1"' "$host" "$*"
