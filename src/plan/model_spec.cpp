// Model presets and parameter counts. Sources of the shapes:
//  - GPT-2: Radford et al. 2019, Table 2 (d_model 768/1024/1280/1600, 12/24/36/48 layers),
//    heads as released (12/16/20/25), V = 50257, s = 1024.
//  - GPT-3: Brown et al. 2020, Table 2.1 (n_layers, d_model, n_heads; n_ctx = 2048), V = 50257.
//  - Megatron: Narayanan et al. 2021, Table 1 (V = 51200, s = 2048).
//  - d6, d12: weft's depth presets, so `--calibrate` can predict weft's own runs.
#include "plan/model_spec.hpp"

#include "core/error.hpp"

namespace weft::plan {

const std::vector<ModelSpec>& model_presets() {
  static const std::vector<ModelSpec> presets = {
      {"gpt2-124m", 12, 768, 12, 50257, 1024},
      {"gpt2-350m", 24, 1024, 16, 50257, 1024},
      {"gpt2-774m", 36, 1280, 20, 50257, 1024},
      {"gpt2-1.5b", 48, 1600, 25, 50257, 1024},
      // weft's own depth presets (src/model/gpt_config.hpp): d12 = GPT-2 small; other depths
      // n_embd = 64·depth, heads = depth; vocabulary padded to 50304 as weft computes it.
      {"d6", 6, 384, 6, 50304, 1024},
      {"d12", 12, 768, 12, 50304, 1024},
      {"gpt3-125m", 12, 768, 12, 50257, 2048},
      {"gpt3-350m", 24, 1024, 16, 50257, 2048},
      {"gpt3-760m", 24, 1536, 16, 50257, 2048},
      {"gpt3-1.3b", 24, 2048, 16, 50257, 2048},  // paper: 24 heads of 128, which is not 2048; keep d_head 128
      {"gpt3-2.7b", 32, 2560, 32, 50257, 2048},
      {"gpt3-6.7b", 32, 4096, 32, 50257, 2048},
      {"gpt3-13b", 40, 5120, 40, 50257, 2048},  // paper prints 5140, but d_head = 128 gives 5120
      {"gpt3-175b", 96, 12288, 96, 50257, 2048},
      {"megatron-1.7b", 24, 2304, 24, 51200, 2048},
      {"megatron-3.6b", 30, 3072, 32, 51200, 2048},
      {"megatron-7.5b", 36, 4096, 32, 51200, 2048},
      {"megatron-18b", 40, 6144, 48, 51200, 2048},
      {"megatron-39b", 48, 8192, 64, 51200, 2048},
      {"megatron-76b", 60, 10240, 80, 51200, 2048},
      {"megatron-146b", 80, 12288, 96, 51200, 2048},
      {"megatron-310b", 96, 16384, 128, 51200, 2048},
      {"megatron-530b", 105, 20480, 128, 51200, 2048},
      {"megatron-1t", 128, 25600, 160, 51200, 2048},
  };
  return presets;
}

ModelSpec model_preset(const std::string& name) {
  std::string known;
  for (const auto& p : model_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw input_error(str("unknown model preset '", name, "'"), str("known presets: ", known));
}

void model_validate(const ModelSpec& m) {
  const struct { const char* field; int64_t value; } fields[] = {
      {"layers", m.layers}, {"hidden", m.hidden}, {"heads", m.heads},
      {"vocab", m.vocab},   {"seq", m.seq}};
  for (const auto& f : fields) {
    if (f.value <= 0) throw input_error(str("model ", f.field, " must be positive, got ", f.value));
  }
  if (m.hidden % m.heads != 0) {
    throw input_error(str("model hidden ", m.hidden, " is not divisible by heads ", m.heads));
  }
}

double model_layer_params(const ModelSpec& m) {
  const double h = static_cast<double>(m.hidden);
  return 12.0 * h * h + 13.0 * h;
}

double model_embedding_params(const ModelSpec& m) {
  return static_cast<double>(m.vocab + m.seq) * static_cast<double>(m.hidden);
}

double model_params(const ModelSpec& m) {
  return static_cast<double>(m.layers) * model_layer_params(m) + model_embedding_params(m) +
         2.0 * static_cast<double>(m.hidden);
}

}  // namespace weft::plan
