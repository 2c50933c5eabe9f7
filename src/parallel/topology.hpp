// Topology: which world ranks share a node (host), so the grid can keep tensor-
// parallel groups inside a node and data-parallel all-reduce can go hierarchical
// (parallel/hier_communicator.hpp). Discovered collectively from each rank's host
// name and, under MPI, its shared-memory group (comm/node_info.hpp); thread ranks
// all share one node. A Topology is a plain value, owned by the caller, any thread.
//
// Testing aid: WEFT_RANKS_PER_NODE=k pretends world ranks [0,k) are node 0, [k,2k)
// node 1, ... (hosts named "<host>/fake<i>"), so hierarchical paths run on one
// machine (threads or mpirun). It must be the same on every rank (mpirun -x).
#pragma once

#include <string>
#include <vector>

#include "parallel/comm/communicator.hpp"
#include "parallel/comm/node_info.hpp"

namespace weft::parallel {

struct Topology {
  std::vector<int> node_of;        // (world) node index of each world rank
  std::vector<std::string> hosts;  // (nodes) host name of each node
  int fake_ranks_per_node = 0;     // > 0: the nodes come from WEFT_RANKS_PER_NODE

  int world() const { return static_cast<int>(node_of.size()); }
  int nodes() const { return static_cast<int>(hosts.size()); }
  std::vector<int> ranks_on(int node) const;  // world ranks on `node`, ascending
  // "2 nodes: a (ranks 0-1), b (ranks 2-3)"; "1 node: a (4 ranks)".
  std::string describe() const;
};

// The override: 0 when WEFT_RANKS_PER_NODE is unset or empty; an input error
// naming the variable when it is not a positive integer.
int topology_fake_ranks_per_node();

// Pure: nodes from each world rank's (host, shared leader); nodes are numbered in
// order of their lowest rank. fake_ranks_per_node > 0 replaces that grouping.
Topology topology_from(const std::vector<comm::NodeInfo>& ranks, int fake_ranks_per_node);

// Collective over `world` (every rank, same order as other collectives); every
// rank gets the same Topology. Throws a config error when ranks disagree on
// WEFT_RANKS_PER_NODE.
Topology topology_discover(comm::Communicator& world);

// (c.size()) node index of each member of `c`, a communicator split from the world
// the topology was discovered on (uses Communicator::world_rank_of).
std::vector<int> topology_nodes_of(const Topology& topo, const comm::Communicator& c);

}  // namespace weft::parallel
