// What `weft serve` generates with: an engine over an llm.c `.bin` checkpoint, or over
// a tiny randomly initialised GPT ("random": for trying the API, tests and load tests
// without a trained model). The caller owns the returned engine; main thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "infer/engine.hpp"

namespace weft::serve {

struct ModelSpec {
  std::string path;           // llm.c .bin, or "random"
  int vocab = 0;              // random: the tokenizer's vocab_size()
  int context = 0;            // random: max_seq (required); .bin: 0 = the model's
  std::uint64_t seed = 1234;  // random: init seed
};

// Throws weft::Error naming the file when it cannot be loaded.
std::unique_ptr<infer::Engine> serve_load_engine(const ModelSpec& spec,
                                                 infer::EngineOptions options);

// The tiny random model's shape: 2 layers, 2 heads, 64 wide.
model::GptConfig serve_random_config(int vocab, int context);

}  // namespace weft::serve
