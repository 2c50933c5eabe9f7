// Tensor parallelism (Megatron-style) as the model's hooks: the model computes its
// shard (column-parallel qkv/fc, row-parallel attproj/fcproj, vocab-parallel wte
// and cross-entropy; model/param_layout.hpp's table) and calls these hooks where
// partial results must be summed over the tp group. The paired operators are:
//   column-parallel input:  identity forward  ↔  all-reduce backward (dinp)
//   row-parallel output:    all-reduce forward ↔  identity backward
// so each transformer sub-block (attention, MLP) does one all-reduce of (B,T,C) in
// forward and one in backward. Holds references to the tp communicator and model
// (owned by the caller, who keeps them alive). One thread (the model's) calls it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/gpt_model.hpp"
#include "model/model_hooks.hpp"
#include "parallel/comm/communicator.hpp"

namespace weft::parallel {

class TensorParallel final : public model::ModelHooks {
 public:
  // tp.size() must equal the model's tp size and tp.rank() its tp rank.
  TensorParallel(comm::Communicator& tp, model::GptModel& model);

  comm::Communicator& comm() { return comm_; }
  // Σ g² of the whole (unsharded) model's gradient, the same on every tp rank:
  // split tensors' sums added over the group, replicated tensors (equal on every tp
  // rank) counted once. Call after the gradients are final (after DP's reduction).
  double grad_sum_squares();
  // Bytes this rank passed to all-reduce (payload) since the last call.
  std::uint64_t take_bytes();

  // ModelHooks.
  void sum_row_parallel_output(float* out, std::size_t n) override;
  void sum_column_parallel_input_grad(float* dinp, std::size_t n) override;
  void sum_vocab_parallel_embedding(float* encoded, std::size_t n) override;
  void reduce_vocab_parallel_stats(double* stats, std::size_t n, bool max) override;

 private:
  comm::Communicator& comm_;
  model::GptModel& model_;
  std::uint64_t bytes_ = 0;
};

}  // namespace weft::parallel
