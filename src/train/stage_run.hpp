// Small pieces every fine-tuning stage (sft, reward) shares: the run directory and its
// metrics.jsonl (never replacing a run without --overwrite), and the check that a
// tokenizer fits a model. Rank 0 writes; other ranks pass writer = false.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "data/tokenizer.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_config.hpp"

namespace weft::train {

// Refuses an existing RUN_DIR/metrics.jsonl unless overwrite (every rank checks, so a
// bad --out fails before any work). Call before the run starts.
void stage_check_out(const std::string& out, bool overwrite, bool writer);
// Creates RUN_DIR and opens metrics.jsonl for writing (writer only; else a closed stream).
std::ofstream stage_open_metrics(const std::string& out, bool writer);
// Throws a config error when the tokenizer's ids do not fit the model's vocabulary.
void stage_check_tokenizer(const data::Tokenizer& tok, const model::GptConfig& cfg,
                           const std::string& tokenizer_name, const std::string& model_name);

// --precision of a training stage: fp32 | bf16 (input error otherwise); bf16 with
// ZeRO-3 is refused (the bf16 weight copy is made before the units are gathered).
cpu::Precision stage_precision(const std::string& name, int zero);

// Item g of an endless stream over n items: epoch g / n visits them in a permutation
// seeded by (seed, epoch). Every rank computes the same order; g must not decrease.
class EpochOrder {
 public:
  EpochOrder(std::size_t n, std::uint64_t seed) : n_(n), seed_(seed), order_(n) {}
  std::size_t at(std::size_t g);

 private:
  std::size_t n_;
  std::uint64_t seed_;
  std::vector<std::size_t> order_;
  std::size_t epoch_ = static_cast<std::size_t>(-1);
};

}  // namespace weft::train
