// Slicing a full (tp = 1) GPT parameter buffer into tensor-parallel shards and
// back, by the split table the model declares (model/param_layout.hpp TpSplit).
// Used to start every tp rank from the same weights as one rank (init full, then
// slice), to load/save llm.c checkpoints, and by checkpoints of any layout.
// Pure functions over caller-owned buffers, except tp_gather_params (collective).
#pragma once

#include <cstdint>

#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"

namespace weft::parallel {

// full: ParamLayout(config) floats; local: ParamLayout(config, tp) floats, written
// with tp rank `rank`'s shard of every tensor (replicated tensors copied whole).
void tp_shard_params(const model::GptConfig& config, int tp, int rank, const float* full,
                     float* local);
// The inverse for one rank: writes `rank`'s slices of `full` from `local` (and the
// replicated tensors whole). Calling it for every rank rebuilds the full buffer.
void tp_unshard_params(const model::GptConfig& config, int tp, int rank, const float* local,
                       float* full);
// Collective over the tp group `tp_comm` (rank r holds shard r): every rank gets
// the full buffer in `full` (ParamLayout(config) floats). Replicated tensors come
// from tp rank 0.
void tp_gather_params(comm::Communicator& tp_comm, const model::GptConfig& config,
                      const float* local, float* full);
// Initialises the model's shard: init_weights_full on a full buffer, then slice.
void tp_init_weights(model::GptModel& model, std::uint64_t seed);

}  // namespace weft::parallel
