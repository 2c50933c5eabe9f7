// The grid's placement on nodes: map and tp-locality check. See grid_topology.hpp.
#include "parallel/grid_topology.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"

namespace weft::parallel {

std::string grid_topology_map(const GridShape& shape, const Topology& topo, int max_lines) {
  WEFT_CHECK(topo.world() == shape.world(), "topology of ", topo.world(), " ranks, grid of ",
             shape.world());
  std::string s = str("grid ", shape.describe(), " on ", topo.describe(), "\n");
  const int shown = std::min(shape.world(), std::max(max_lines, 0));
  for (int r = 0; r < shown; ++r) {
    const GridCoord c = grid_coord_of(shape, r);
    s += str("  rank ", r, " -> ", topo.hosts[static_cast<std::size_t>(
                                     topo.node_of[static_cast<std::size_t>(r)])],
             "  dp ", c.dp, " tp ", c.tp, " pp ", c.pp, "\n");
  }
  if (shown < shape.world()) s += str("  ... ", shape.world() - shown, " more ranks\n");
  return s;
}

std::string grid_topology_warning(const GridShape& shape, const Topology& topo) {
  WEFT_CHECK(topo.world() == shape.world());
  // tp varies fastest: group g is world ranks [g·tp, (g+1)·tp).
  for (int first = 0; first < shape.world(); first += shape.tp) {
    const int node = topo.node_of[static_cast<std::size_t>(first)];
    for (int r = first + 1; r < first + shape.tp; ++r) {
      const int other = topo.node_of[static_cast<std::size_t>(r)];
      if (other == node) continue;
      return str("tensor-parallel group of ranks ", first, "-", first + shape.tp - 1,
                 " spans nodes ", topo.hosts[static_cast<std::size_t>(node)], " and ",
                 topo.hosts[static_cast<std::size_t>(other)],
                 ": every layer's activations will cross the network (slow). Use a --tp that "
                 "divides the ranks per node and place consecutive ranks on one node "
                 "(mpirun's default --map-by slot)");
    }
  }
  return {};
}

void grid_topology_report(const GridShape& shape, const Topology& topo, int world_rank) {
  if (world_rank != 0) return;
  std::string map = grid_topology_map(shape, topo);
  if (!map.empty() && map.back() == '\n') map.pop_back();
  log_info(map);
  const std::string warn = grid_topology_warning(shape, topo);
  if (!warn.empty()) log_warn(warn);
}

}  // namespace weft::parallel
