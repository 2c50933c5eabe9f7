// Transformer shapes the planner reasons about: GPT-2 / GPT-3 / Megatron presets and
// the parameter count of a decoder-only model (Narayanan et al. 2021, eq. 2).
// Plain values; any thread may call these functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::plan {

struct ModelSpec {
  std::string name;     // preset name or "custom"
  int64_t layers = 0;   // l
  int64_t hidden = 0;   // h (d_model)
  int64_t heads = 0;    // a
  int64_t vocab = 0;    // V
  int64_t seq = 0;      // s (context length)
};

// Every preset, in the order `weft plan --list-presets` prints them.
const std::vector<ModelSpec>& model_presets();
// The preset called `name`; throws an input error listing the known names otherwise.
ModelSpec model_preset(const std::string& name);
// Throws an input error naming the first field that is not positive or does not divide.
void model_validate(const ModelSpec& m);

// Parameters of one transformer layer: 12h² (QKV, proj, MLP 4h) + 13h (biases, 2 layernorms).
double model_layer_params(const ModelSpec& m);
// Token + learned position embeddings, (V + s)·h (the output layer is tied to them).
double model_embedding_params(const ModelSpec& m);
// All parameters: l·(12h² + 13h) + (V + s)·h  (= Narayanan et al. eq. 2, + final layernorm 2h).
double model_params(const ModelSpec& m);

}  // namespace weft::plan
