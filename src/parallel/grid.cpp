// The dp × tp × pp grid: coordinates, validation and axis communicators. See grid.hpp.
#include "parallel/grid.hpp"

#include "core/error.hpp"

namespace weft::parallel {

std::string GridShape::describe() const { return str("dp=", dp, " tp=", tp, " pp=", pp); }

GridCoord grid_coord_of(const GridShape& s, int rank) {
  WEFT_CHECK(rank >= 0 && rank < s.world(), "rank ", rank, " outside the grid ", s.describe());
  GridCoord c;
  c.tp = rank % s.tp;
  c.dp = (rank / s.tp) % s.dp;
  c.pp = rank / (s.tp * s.dp);
  return c;
}

int grid_rank_of(const GridShape& s, const GridCoord& c) {
  WEFT_CHECK(c.tp >= 0 && c.tp < s.tp && c.dp >= 0 && c.dp < s.dp && c.pp >= 0 && c.pp < s.pp);
  return c.tp + s.tp * (c.dp + s.dp * c.pp);
}

void grid_validate(const GridShape& s, int world, const model::GptConfig& cfg, int batch) {
  const std::string hint = "choose --dp, --tp, --pp so that the model and batch divide (docs/parallel.md)";
  if (s.dp < 1 || s.tp < 1 || s.pp < 1)
    throw config_error(str("--dp ", s.dp, " --tp ", s.tp, " --pp ", s.pp, ": every axis must be at least 1"));
  if (s.world() != world)
    throw config_error(str("the grid dp·tp·pp = ", s.dp, "·", s.tp, "·", s.pp, " = ", s.world(),
                           " does not match the ", world, " ranks started"),
                       "start dp·tp·pp ranks (mpirun -np, or --ranks with --ranks-as threads)");
  if (cfg.n_head % s.tp != 0)
    throw config_error(str("--tp ", s.tp, " does not divide the model's ", cfg.n_head,
                           " attention heads (n_head % tp = ", cfg.n_head % s.tp, ")"),
                       hint);
  if (cfg.padded_vocab % s.tp != 0)
    throw config_error(str("--tp ", s.tp, " does not divide the padded vocabulary ", cfg.padded_vocab,
                           " (padded_vocab % tp = ", cfg.padded_vocab % s.tp, ")"),
                       hint);
  if (cfg.n_layer < s.pp)
    throw config_error(str("--pp ", s.pp, " exceeds the model's ", cfg.n_layer,
                           " layers: every pipeline stage needs at least one layer"),
                       hint);
  if (batch % s.dp != 0)
    throw config_error(str("--batch ", batch, " (the global batch) is not divisible by --dp ", s.dp,
                           " (batch % dp = ", batch % s.dp, ")"),
                       hint);
}

Grid::Grid(comm::Communicator& world, const GridShape& shape) : world_(world), shape_(shape) {
  if (world.size() != shape.world())
    throw config_error(str("the grid ", shape.describe(), " needs ", shape.world(),
                           " ranks but the world has ", world.size()));
  coord_ = grid_coord_of(shape, world.rank());
  const int r = world.rank();
  // Same color = same group; key = the coordinate on the axis (its rank there).
  auto counted = [](std::unique_ptr<comm::Communicator> c) {
    return c ? std::make_unique<comm::CountingCommunicator>(std::move(c)) : nullptr;
  };
  tp_ = counted(world.split(r / shape.tp, coord_.tp, "grid: tp axis"));
  dp_ = counted(world.split(coord_.tp + shape.tp * coord_.pp, coord_.dp, "grid: dp axis"));
  pp_ = counted(world.split(r % (shape.tp * shape.dp), coord_.pp, "grid: pp axis"));
  WEFT_CHECK(tp_ && dp_ && pp_);
  WEFT_CHECK(tp_->size() == shape.tp && dp_->size() == shape.dp && pp_->size() == shape.pp);
  WEFT_CHECK(tp_->rank() == coord_.tp && dp_->rank() == coord_.dp && pp_->rank() == coord_.pp);
}

}  // namespace weft::parallel
