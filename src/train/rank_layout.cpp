// One rank's grid, DP and TP for training. See rank_layout.hpp.
#include "train/rank_layout.hpp"

#include "core/error.hpp"
#include "model/param_layout.hpp"
#include "parallel/grid_topology.hpp"
#include "parallel/tp_shard.hpp"
#include "parallel/tp_zero_norm.hpp"

namespace weft::train {

parallel::GridShape resolve_grid(int dp, int tp, int pp, int world) {
  parallel::GridShape s{dp, tp, pp};
  if (dp == 0 && tp >= 1 && pp >= 1) s.dp = world / (tp * pp) >= 1 ? world / (tp * pp) : 1;
  return s;
}

RankLayout::RankLayout(comm::Communicator& world, const parallel::GridShape& shape,
                       parallel::AllReduceMode allreduce) {
  grid_ = std::make_unique<parallel::Grid>(world, shape);
  topo_ = parallel::topology_discover(world);
  parallel::grid_topology_report(shape, topo_, world.rank());
  hier_ = parallel::make_dp_hier(grid_->dp(), topo_, allreduce);
}

RankLayout::~RankLayout() {
  if (model_ != nullptr) model_->set_hooks(nullptr);
}

model::TpShard RankLayout::tp_shard() const {
  return {grid_->coord().tp, grid_->shape().tp};
}

void RankLayout::init_params(model::GptModel& model, const float* full, std::uint64_t seed) {
  if (full == nullptr) {
    parallel::tp_init_weights(model, seed);
    return;
  }
  parallel::tp_shard_params(model.config(), model.tp().size, model.tp().rank, full,
                            model.params());
}

void RankLayout::attach(model::GptModel& model, const parallel::DataParallelOptions& dp_options) {
  model_ = &model;
  tp_ = std::make_unique<parallel::TensorParallel>(grid_->tp(), model);
  dp_ = std::make_unique<parallel::DataParallel>(dp_comm(), model, dp_options);  // sets itself as hooks
  hooks_ = parallel::HooksChain{tp_.get(), dp_.get()};
  model.set_hooks(&hooks_);
}

std::function<double()> RankLayout::grad_sum_squares() {
  if (grid_->shape().tp == 1) return {};
  if (dp_ && dp_->zero() >= 1)  // the summed gradient lives in the dp shards
    return [this] { return parallel::tp_zero_grad_sum_squares(*dp_, *model_, grid_->tp()); };
  return [this] { return tp_->grad_sum_squares(); };
}

void RankLayout::gather_full(model::GptModel& model, std::vector<float>& full) {
  full.resize(model::ParamLayout(model.config()).total());
  parallel::tp_gather_params(grid_->tp(), model.config(), model.params(), full.data());
}

}  // namespace weft::train
