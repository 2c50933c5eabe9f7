// Export of a weft GPT to Hugging Face's GPT-2 layout: model.safetensors with HF
// tensor names (transformer.h.{i}.attn.c_attn.weight, ...) and shapes — HF's GPT-2
// uses Conv1D, which stores weights as (in, out), the transpose of weft's/llm.c's
// (out, in) — plus config.json (GPT2LMHeadModel). Only the real vocabulary rows of
// wte are written; lm_head is tied to wte, as in HF's own GPT-2 files.
// Format: docs/formats.md "safetensors export". Plain functions; any thread.
#pragma once

#include <string>

#include "model/gpt_config.hpp"

namespace weft::model {

// Writes OUT_DIR/model.safetensors and OUT_DIR/config.json (atomically; OUT_DIR is
// created). params: config.num_params() floats in ParamLayout order.
void safetensors_save_gpt2(const std::string& out_dir, const GptConfig& config,
                           const float* params);

}  // namespace weft::model
