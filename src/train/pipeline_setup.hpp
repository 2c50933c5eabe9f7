// What `weft train` does around PipelineStep when --pp > 1: the stage model's
// parameters from the full model (fresh init or an llm.c checkpoint), the full
// model gathered back from the stages for saving, and the per-stage memory and
// bubble reports. Collective helpers take the pp communicator (caller-owned).
// One rank thread calls them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"

namespace weft::train {

// The stage's parameters (its tp shard when tp > 1): slices of `full_params` (the
// full model's flat buffer), or, when it is nullptr, of a fresh init of the full
// model, so every layout starts from exactly the weights one rank would.
void pipeline_init_params(model::GptModel& stage, const model::GptConfig& full,
                          const float* full_params, std::uint64_t seed);

// Collective over pp: pipeline rank 0 returns the full model's flat buffer (each
// stage sends what it owns), the others an empty vector. stage_params: the stage's
// whole (tp = 1) buffer, ParamLayout(stage config) floats.
std::vector<float> pipeline_gather_params(const float* stage_params, const model::StageSpec& stage,
                                          const model::GptConfig& full, comm::Communicator& pp);

// Collective over pp: "stage 0: layers [0, 2) 3 slots 1.2 MiB, ..." (every rank).
std::string pipeline_memory_report(model::GptModel& stage, comm::Communicator& pp);

}  // namespace weft::train
