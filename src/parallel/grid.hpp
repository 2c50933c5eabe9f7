// The dp × tp × pp process grid: where a world rank sits on each axis and one
// Communicator per axis (made with Communicator::split). The Grid owns its three
// axis communicators; the world communicator stays owned by the caller and must
// outlive the Grid. Built collectively on every world rank (it splits the world);
// afterwards one rank thread uses it, like any Communicator.
//
// Rank order: tp varies fastest (a tp group is consecutive ranks, so it stays inside
// a node), then dp, then pp:
//     world_rank = tp_rank + tp · (dp_rank + dp · pp_rank)
//     tp_rank = r % tp,  dp_rank = (r / tp) % dp,  pp_rank = r / (tp · dp)
// Each axis communicator ranks its members by their coordinate on that axis.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/gpt_config.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/comm/counting_communicator.hpp"

namespace weft::parallel {

struct GridShape {
  int dp = 1, tp = 1, pp = 1;
  int world() const { return dp * tp * pp; }
  std::string describe() const;  // "dp=2 tp=2 pp=1"
};

struct GridCoord {
  int dp = 0, tp = 0, pp = 0;
  bool operator==(const GridCoord&) const = default;
};

// The formulas above. rank must be in [0, shape.world()).
GridCoord grid_coord_of(const GridShape& shape, int rank);
int grid_rank_of(const GridShape& shape, const GridCoord& coord);

// Throws weft::Error (kind config) naming the first layout that cannot work:
// an axis < 1, world != dp·tp·pp, n_head % tp, padded vocab % tp, n_layer < pp,
// the global batch % dp. `world` is the number of ranks started.
void grid_validate(const GridShape& shape, int world, const model::GptConfig& config, int batch);

class Grid {
 public:
  // Collective over `world` (every world rank calls it with the same shape).
  // Throws weft::Error when world.size() != shape.world().
  Grid(comm::Communicator& world, const GridShape& shape);

  const GridShape& shape() const { return shape_; }
  const GridCoord& coord() const { return coord_; }
  comm::Communicator& world() { return world_; }
  comm::Communicator& dp() { return *dp_; }
  comm::Communicator& tp() { return *tp_; }
  comm::Communicator& pp() { return *pp_; }
  // Payload bytes each axis communicator was handed since the last call (then
  // zeroed); a size-1 axis counts nothing. See counting_communicator.hpp.
  struct AxisBytes {
    comm::CommBytes dp, tp, pp;
  };
  AxisBytes take_bytes() { return {dp_->take_bytes(), tp_->take_bytes(), pp_->take_bytes()}; }

 private:
  comm::Communicator& world_;
  GridShape shape_;
  GridCoord coord_;
  std::unique_ptr<comm::CountingCommunicator> dp_, tp_, pp_;  // each counts its bytes
};

}  // namespace weft::parallel
