// llm.c interop: GPT-2 checkpoints (magic 20240326; version 3 = float32 read and
// written, version 5 = bf16 read only) and llm.c debug states (magic 20240327,
// version 2) as written by llm.c's train_gpt2.py / weft's tools/make_reference.py.
// Formats: docs/formats.md. Bad files → weft::Error naming the file and the field.
// Returned objects own their buffers; any thread (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "model/gpt_config.hpp"

namespace weft::model {

inline constexpr std::int32_t kLlmcModelMagic = 20240326;
inline constexpr std::int32_t kLlmcModelVersionFp32 = 3;
inline constexpr std::int32_t kLlmcModelVersionBf16 = 5;
inline constexpr std::int32_t kLlmcStateMagic = 20240327;
inline constexpr std::int32_t kLlmcStateVersion = 2;

struct LlmcModel {
  GptConfig config;
  int version = kLlmcModelVersionFp32;  // version found in the file
  AlignedBuffer<float> params;          // (num_params) in ParamLayout order
};

// Reads only the 256-int header and validates it (magic, version, shape fields).
GptConfig llmc_read_model_header(const std::string& path, int* version = nullptr);
// Reads header and parameters (bf16 files are widened to float32 exactly).
LlmcModel llmc_load_model(const std::string& path);
// Writes a version-3 (float32) checkpoint. `params` holds config.num_params()
// floats. Written atomically (core/atomic_file), so a crash never leaves half a file.
void llmc_save_model(const std::string& path, const GptConfig& config, const float* params);

struct LlmcDebugState {
  int B = 0, T = 0;
  std::vector<std::int32_t> x;  // (B, T) input tokens
  std::vector<std::int32_t> y;  // (B, T) target tokens
  AlignedBuffer<float> logits;  // (B, T, V) real vocabulary only
  float loss = 0.0f;
  AlignedBuffer<float> grads;   // (num_params) in ParamLayout order (wte rows ≥ V are 0)
};

// Reads a debug state made for a model of shape `config` (sizes checked against it).
LlmcDebugState llmc_load_debug_state(const std::string& path, const GptConfig& config);
void llmc_save_debug_state(const std::string& path, const GptConfig& config,
                           const LlmcDebugState& state);

}  // namespace weft::model
