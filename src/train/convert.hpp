// `weft convert`: model weights between weft checkpoints (any layout; parameters
// only), llm.c GPT-2 files (.bin) and Hugging Face GPT-2 safetensors + config.json.
// Never overwrites an existing output unless asked. Main thread; any thread is fine.
#pragma once

#include <string>

#include "core/aligned_buffer.hpp"
#include "model/gpt_config.hpp"

namespace weft::train {

struct ConvertOptions {
  std::string input;   // weft checkpoint (step dir, ckpt dir or run dir) or llm.c .bin
  std::string output;  // file (llmc) or directory (safetensors, weft)
  std::string to;      // "llmc" | "safetensors" | "weft"
  bool overwrite = false;
};

// Model weights from a weft checkpoint or an llm.c file (detected by what `path` is).
struct LoadedWeights {
  model::GptConfig config;
  AlignedBuffer<float> params;  // (num_params) ParamLayout order
  std::string source;           // what was read, for messages
};
LoadedWeights load_weights(const std::string& path);

// Converts; returns a one-line summary. Throws weft::Error on bad input.
std::string convert_model(const ConvertOptions& options);

}  // namespace weft::train
