// `weft eval`: parses options and calls infer::eval_files (infer/eval_run.hpp); prints
// one table row (or --json), optionally the predictions as JSONL. Main thread.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cli/precision_option.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "demo/demo_post.hpp"
#include "infer/eval_run.hpp"
#include "kernels/cpu/threads.hpp"

namespace {

struct EvalArgs {
  std::string model, tokenizer = "gpt2", data, predictions, reward;
  weft::infer::EvalOptions o;
  int threads = 0;
  std::string precision = "fp32";
  bool json = false;
  bool quiet = false;
};

std::string predictions_jsonl(const weft::infer::EvalResult& r) {
  std::string out;
  for (const weft::infer::EvalPrediction& p : r.predictions) {
    nlohmann::json j;
    j["prompt"] = p.prompt;
    j["reference"] = p.reference;
    j["answer"] = p.answer;
    j["kind"] = p.kind;
    j["exact_match"] = p.exact_match;
    j["f1"] = p.f1;
    out += j.dump() + "\n";
  }
  return out;
}

int run_eval(EvalArgs a) {
  if (!a.reward.empty()) {
    // Checked before any answer is generated: the reward model loads lazily.
    if (!std::filesystem::exists(std::filesystem::path(a.reward) / "reward_head.bin"))
      throw weft::input_error(weft::str("weft eval --reward ", a.reward, ": no reward_head.bin there"),
                              "pass the run directory that `weft reward` wrote");
    a.o.reward = weft::demo::demo_reward_fn(a.reward, a.tokenizer);
    if (!a.o.reward)
      throw weft::input_error("weft eval --reward: reward models are not available in this build");
  }
  if (a.threads > 0) weft::cpu::set_num_threads(a.threads);
  a.o.progress = !a.quiet;
  a.o.precision = weft::cpu::parse_precision(a.precision);
  const weft::infer::EvalResult r = weft::infer::eval_files(a.model, a.tokenizer, a.data, a.o);
  if (!a.predictions.empty()) {
    const std::string text = predictions_jsonl(r);
    weft::file_write_atomic(a.predictions, text.data(), text.size(), /*durable=*/false);
  }
  if (a.json) {
    std::printf("%s\n", weft::infer::eval_result_json(r).c_str());
  } else {
    std::printf("%s\n%s\n", weft::infer::eval_table_header().c_str(),
                weft::infer::eval_table_row(r).c_str());
  }
  return 0;
}

std::function<int()> setup_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  app.add_option("--model,-m", a->model, "llm.c GPT-2 checkpoint (.bin)")->required();
  app.add_option("--tokenizer", a->tokenizer, "tok.json (weft), a GPT-2 folder, or gpt2")
      ->capture_default_str();
  app.add_option("--data", a->data, "eval JSONL: {\"prompt\",\"answer\"} (weft data chat's eval_test.jsonl)")
      ->required();
  app.add_option("--max-tokens", a->o.max_tokens, "longest generated answer")->capture_default_str();
  app.add_option("--batch", a->o.batch, "requests decoded at once")->capture_default_str();
  app.add_option("--limit", a->o.limit, "first N items only (0 = all)")->capture_default_str();
  app.add_option("--label", a->o.label, "row label (default: the model path)");
  app.add_option("--predictions", a->predictions, "write each answer with its scores (JSONL)");
  app.add_option("--reward", a->reward, "reward model run directory (weft reward): adds the mean reward of the answers");
  app.add_option("--threads", a->threads, "threads (0 = OpenMP default)")->capture_default_str();
  weft::cli::add_precision_option(app, &a->precision);
  app.add_flag("--json", a->json, "print one JSON object instead of a table row");
  app.add_flag("--quiet,-q", a->quiet, "no progress bars");
  return [a] { return run_eval(*a); };
}

WEFT_COMMAND("eval", "Score a model on held-out prompts: exact match, token-F1, val loss", 650,
             setup_eval);

}  // namespace
