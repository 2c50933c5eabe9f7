// `--precision fp32|bf16`, the same option on every training and inference command
// (docs/precision.md). Parsing only: the value goes to the stage's options as text and
// the library turns it into cpu::Precision. CLI setup thread only.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace weft::cli {

inline void add_precision_option(CLI::App& app, std::string* value) {
  app.add_option("--precision", *value,
                 "matmul precision: fp32, or bf16 (fp32 master weights; fp32 on CPUs without "
                 "bf16)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
}

}  // namespace weft::cli
