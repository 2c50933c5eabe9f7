// `weft convert`: model weights between weft checkpoints, llm.c .bin files and
// Hugging Face GPT-2 safetensors (train/convert.hpp). Parsing only.
#include <cstdio>
#include <memory>

#include "cli/command_registry.hpp"
#include "train/convert.hpp"

namespace {

std::function<int()> setup_convert(CLI::App& app) {
  auto o = std::make_shared<weft::train::ConvertOptions>();
  app.add_option("input", o->input,
                 "weft checkpoint (run dir, ckpt dir or ckpt/step_N) or llm.c .bin")
      ->required();
  app.add_option("output", o->output, "output file (llmc) or directory (safetensors, weft)")
      ->required();
  app.add_option("--to", o->to, "llmc | safetensors (Hugging Face GPT-2 + config.json) | weft")
      ->required();
  app.add_flag("--overwrite", o->overwrite, "replace an existing output");
  return [o] {
    std::printf("%s\n", weft::train::convert_model(*o).c_str());
    return 0;
  };
}

WEFT_COMMAND("convert",
             "Convert model weights: weft checkpoint, llm.c .bin, Hugging Face safetensors", 310,
             setup_convert);

}  // namespace
