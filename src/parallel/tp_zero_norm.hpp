// Σ g² of the whole model's summed gradient when tensor parallelism meets ZeRO >= 1
// on the dp axis: after the reduce-scatter a dp rank holds the summed gradient only
// in its own pieces (dp_plan.hpp), and a tp rank only its shard of the split
// tensors, while the replicated tensors (LayerNorms, wpe, row-parallel biases) are
// equal on every tp rank. So: own pieces (+ tails on dp rank 0), replicated tensors
// on tp rank 0 only, summed over dp and then over tp. Collective over both
// communicators; the caller owns them and the DataParallel. The rank thread calls it.
#pragma once

#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/data_parallel.hpp"

namespace weft::parallel {

// The same value on every rank of the dp × tp group. dp.zero() must be >= 1.
double tp_zero_grad_sum_squares(DataParallel& dp, const model::GptModel& model,
                                comm::Communicator& tp);

}  // namespace weft::parallel
