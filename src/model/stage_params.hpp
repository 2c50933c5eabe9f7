// Pipeline stages of a GPT: the balanced split of the L blocks over pp stages, and
// copies between the full model's flat buffer and one stage's buffer (the stage's
// ParamLayout stacks only its own layers; wte/wpe/lnf keep their full shape).
// Pure functions over caller-owned buffers; any thread.
#pragma once

#include <vector>

#include "model/gpt_model.hpp"
#include "model/param_layout.hpp"

namespace weft::model {

// Blocks per stage: L / pp each, the first L % pp stages one more (the last stage
// also runs the LM head, so it gets no extra block). Throws when L < pp.
std::vector<StageSpec> stage_split(int n_layer, int pp);

// Stage buffer ← the full buffer: the stage's layers of every stacked tensor, and
// wte, wpe, lnf whole (a stage that does not use them keeps an unused copy).
void stage_params_from_full(const ParamLayout& full, const float* full_params,
                            const StageSpec& stage, const ParamLayout& stage_layout,
                            float* stage_params);

// Full buffer ← what the stage owns: its layers, plus wte/wpe when it is the first
// stage (layer_begin == 0) and lnf when `last`.
void stage_params_to_full(const ParamLayout& stage_layout, const float* stage_params,
                          const StageSpec& stage, bool last, const ParamLayout& full,
                          float* full_params);

}  // namespace weft::model
