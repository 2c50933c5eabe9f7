// One rank's place in a dp × tp (× pp) training run and the parallel machinery it
// holds: the grid (parallel/grid.hpp), data parallel over the dp axis, tensor
// parallel over the tp axis, both chained into the model's hooks. Owns the grid,
// DataParallel and TensorParallel; the world communicator and the model are the
// caller's and must outlive it. The rank's training thread calls everything.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/data_parallel.hpp"
#include "parallel/grid.hpp"
#include "parallel/hier_communicator.hpp"
#include "parallel/hooks_chain.hpp"
#include "parallel/tensor_parallel.hpp"
#include "parallel/topology.hpp"

namespace weft::train {

// dp = 0 means "the rest": world / (tp · pp) (rounded down; validation names a misfit).
parallel::GridShape resolve_grid(int dp, int tp, int pp, int world);

class RankLayout {
 public:
  // Splits the world into the axis communicators (collective on `world`). Validate
  // the layout first (parallel::grid_validate), before the model is built; build the
  // model before this object, so this one (its hooks) is released first.
  // Also discovers the node topology (collective), prints the rank → host map on
  // rank 0, and picks the dp all-reduce (`allreduce`: flat, hier, or auto = hier
  // when the dp group spans nodes with several ranks on each; docs/communicator.md).
  RankLayout(comm::Communicator& world, const parallel::GridShape& shape,
             parallel::AllReduceMode allreduce = parallel::AllReduceMode::kAuto);
  ~RankLayout();

  parallel::Grid& grid() { return *grid_; }
  const parallel::Topology& topology() const { return topo_; }
  // The communicator DP reduces gradients on: the dp axis, or its hierarchical form.
  comm::Communicator& dp_comm() { return hier_ ? *hier_ : grid_->dp(); }
  model::TpShard tp_shard() const;
  int dp_rank() const { return grid_->coord().dp; }
  int dp_size() const { return grid_->shape().dp; }
  bool writer() const { return grid_->world().rank() == 0; }

  // Fills the model's shard: from `full` (an llm.c checkpoint's tp = 1 parameters)
  // when not nullptr, else the seeded init done whole and sliced.
  void init_params(model::GptModel& model, const float* full, std::uint64_t seed);
  // Builds DP (on the dp axis) and TP (on the tp axis) and installs both as the
  // model's hooks (a HooksChain).
  void attach(model::GptModel& model, const parallel::DataParallelOptions& dp_options);
  // Appends another technique's hooks (e.g. pipeline stages) to the chain the model
  // calls; after attach(). `hooks` is the caller's and must outlive this object.
  void add_hooks(model::ModelHooks* hooks) { hooks_.add(hooks); }
  parallel::DataParallel* dp() { return dp_.get(); }
  parallel::TensorParallel* tp() { return tp_.get(); }
  // TrainStep's Σ g² when tp > 1 (empty function at tp = 1).
  std::function<double()> grad_sum_squares();
  // Collective over the tp group: the full (tp = 1) parameters into `full`.
  void gather_full(model::GptModel& model, std::vector<float>& full);

 private:
  std::unique_ptr<parallel::Grid> grid_;
  parallel::Topology topo_;
  std::unique_ptr<parallel::HierCommunicator> hier_;  // set when dp all-reduce is hierarchical
  std::unique_ptr<parallel::DataParallel> dp_;
  std::unique_ptr<parallel::TensorParallel> tp_;
  parallel::HooksChain hooks_;
  model::GptModel* model_ = nullptr;
};

}  // namespace weft::train
