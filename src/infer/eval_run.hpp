// `weft eval`: a model answers held-out prompts greedily (Engine, continuous
// batching); answers are scored by exact match and token-F1 against the references
// (infer/eval_metrics.hpp), and the validation loss is the model's mean cross-entropy
// on the reference answers' tokens (assistant tokens only, chat template). An optional
// reward function adds the mean reward of the generated answers. Main thread only
// (the engine and the model run OpenMP inside). Results are plain values.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/tokenizer.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_config.hpp"

namespace weft::infer {

// One line of eval_{train,test}.jsonl (docs/formats.md "Chat data").
struct EvalItem {
  std::string prompt;
  std::string answer;  // the reference
  std::string kind;    // quote | finish | where | define (free text; may be empty)
};

// Reads a JSONL file of {"prompt","answer"[,"kind"]}. Bad lines → weft::Error (input)
// naming the file and line; an empty file is an error.
std::vector<EvalItem> eval_load(const std::string& path);

// Scores (prompt, answer) pairs: one reward per pair. Supplied by the caller (the
// reward model lives in train/), so eval does not depend on how rewards are made.
using EvalRewardFn = std::function<std::vector<double>(const std::vector<std::string>& prompts,
                                                       const std::vector<std::string>& answers)>;

struct EvalOptions {
  int max_tokens = 64;   // longest generated answer (clamped to the context left)
  int batch = 16;        // requests decoded at once; also the rows of a loss batch
  int limit = 0;         // use the first N items only (0 = all)
  bool progress = true;  // progress bars on stderr
  std::string label;     // row label (e.g. "base", "sft"); default: the model path
  cpu::Precision precision = cpu::Precision::kFp32;  // generation and loss matmuls
  EvalRewardFn reward;   // optional
};

struct EvalPrediction {
  std::string prompt, reference, answer, kind;
  double exact_match = 0, f1 = 0;
};

struct EvalResult {
  std::string label;
  int n = 0;                 // items evaluated
  double exact_match = 0;    // mean over items, 0..1
  double token_f1 = 0;       // mean over items, 0..1
  double val_loss = 0;       // mean cross-entropy per reference-answer token (nats)
  long val_tokens = 0;       // tokens in that mean (answer tokens + their <|end|>)
  int truncated = 0;         // items whose reference did not fit the context (loss on the part that did)
  std::optional<double> mean_reward;
  double seconds = 0;
  std::vector<EvalPrediction> predictions;  // in item order
};

// Evaluates the model (config + params in ParamLayout order) on `items`.
EvalResult eval_run(const model::GptConfig& config, const float* params,
                    const data::Tokenizer& tok, const std::vector<EvalItem>& items,
                    const EvalOptions& options);
// Loads an llm.c checkpoint, a tokenizer spec (data::tokenizer_load_spec) and the items.
EvalResult eval_files(const std::string& model_path, const std::string& tokenizer_spec,
                      const std::string& data_path, const EvalOptions& options);

// One JSON object (label, n, exact_match, token_f1, val_loss, val_tokens, truncated,
// mean_reward or null, seconds). No predictions.
std::string eval_result_json(const EvalResult& r);
// A fixed-width table row and its header: label, n, EM %, F1 %, val loss, reward.
std::string eval_table_header();
std::string eval_table_row(const EvalResult& r);

}  // namespace weft::infer
