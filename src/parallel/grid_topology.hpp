// The dp × tp × pp grid seen against the node topology: the rank → host → (dp, tp,
// pp) map printed at start, and the check that tensor-parallel groups (the most
// talkative axis) stay inside a node. Pure functions returning text; any thread.
#pragma once

#include <string>

#include "parallel/grid.hpp"
#include "parallel/topology.hpp"

namespace weft::parallel {

// One line per world rank, "rank 3 -> host-b  dp 1 tp 1 pp 0", after a header
// line with the topology; at most `max_lines` rank lines (then "... N more").
std::string grid_topology_map(const GridShape& shape, const Topology& topo, int max_lines = 64);

// Empty when every tp group lies inside one node; else a warning naming the first
// group that crosses nodes and what to change.
std::string grid_topology_warning(const GridShape& shape, const Topology& topo);

// Rank 0 logs the map (info) and the warning, once; other ranks log nothing.
void grid_topology_report(const GridShape& shape, const Topology& topo, int world_rank);

}  // namespace weft::parallel
