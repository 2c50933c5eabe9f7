// `weft eval` (see eval_run.hpp): greedy generation with the engine, exact match /
// token-F1, and the validation loss on the reference answers with GptModel::forward.
#include "infer/eval_run.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"
#include "data/chat_template.hpp"
#include "infer/engine.hpp"
#include "infer/eval_metrics.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"

namespace weft::infer {
namespace {

using json = nlohmann::json;

// Generates greedy answers for every item; fills r.predictions.
void eval_generate(const model::GptConfig& config, const float* params, const data::Tokenizer& tok,
                   const std::vector<EvalItem>& items, const EvalOptions& o, EvalResult& r) {
  EngineOptions eo;
  eo.max_batch = std::max(1, o.batch);
  eo.precision = o.precision;
  Engine engine(config, params, eo);
  const data::SpecialIds sp = tok.special_ids();
  ProgressBar bar("eval " + r.label + ": answers", items.size(), ProgressUnit::kItems,
                  !o.progress);
  std::vector<GenerationRequest> reqs;
  for (const EvalItem& it : items) {
    GenerationRequest q;
    const std::vector<std::uint32_t> ids =
        data::chat_render_prompt(tok, {{data::ChatRole::kUser, it.prompt}});
    // A prompt longer than the context keeps its end (the question and <|assistant|>).
    const std::size_t keep = std::min<std::size_t>(ids.size(), engine.max_seq() - 1);
    q.prompt.assign(ids.end() - static_cast<std::ptrdiff_t>(keep), ids.end());
    q.max_tokens = std::max(1, std::min(o.max_tokens, engine.max_seq() - static_cast<int>(keep)));
    q.sampling.temperature = 0.0f;  // greedy
    q.stop_tokens = {{static_cast<std::int32_t>(sp.end)}, {static_cast<std::int32_t>(sp.endoftext)}};
    q.on_done = [&bar](const GenerationResult&) { bar.add(1); };
    reqs.push_back(std::move(q));
  }
  const std::vector<GenerationResult> out = engine.generate_batch(std::move(reqs));
  bar.finish();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (out[i].finish == FinishReason::kError)
      throw input_error(str("eval: generation failed for item ", i + 1, ": ", out[i].error));
    EvalPrediction p;
    p.prompt = items[i].prompt;
    p.reference = items[i].answer;
    p.kind = items[i].kind;
    const std::vector<std::uint32_t> ids(out[i].tokens.begin(), out[i].tokens.end());
    p.answer = tok.decode(ids);
    p.exact_match = eval_exact_match(p.answer, p.reference);
    p.f1 = eval_token_f1(p.answer, p.reference);
    r.predictions.push_back(std::move(p));
  }
}

// Mean cross-entropy over the reference answers' tokens (assistant mask of the chat
// template: the answer's tokens and its closing <|end|>).
void eval_loss(const model::GptConfig& config, const float* params, const data::Tokenizer& tok,
               const std::vector<EvalItem>& items, const EvalOptions& o, EvalResult& r) {
  // Rows: inputs ids[0..n-2], targets ids[1..n-1], weight = mask of the target.
  struct Row {
    std::vector<std::int32_t> inp, tgt;
    std::vector<float> w;
  };
  std::vector<Row> rows;
  int T = 1;
  for (const EvalItem& it : items) {
    const data::ChatTokens ct = data::chat_render(
        tok, {{data::ChatRole::kUser, it.prompt}, {data::ChatRole::kAssistant, it.answer}});
    std::size_t n = ct.ids.size();
    if (n > static_cast<std::size_t>(config.max_seq) + 1) {
      n = static_cast<std::size_t>(config.max_seq) + 1;
      ++r.truncated;
    }
    Row row;
    for (std::size_t t = 0; t + 1 < n; ++t) {
      row.inp.push_back(static_cast<std::int32_t>(ct.ids[t]));
      row.tgt.push_back(static_cast<std::int32_t>(ct.ids[t + 1]));
      row.w.push_back(ct.assistant_mask[t + 1] ? 1.0f : 0.0f);
    }
    T = std::max(T, static_cast<int>(row.inp.size()));
    rows.push_back(std::move(row));
  }
  const int B = std::max(1, std::min<int>(o.batch, static_cast<int>(rows.size())));
  model::GptModel m(config, B, T, /*training=*/false);
  std::copy(params, params + m.num_params(), m.params());
  m.set_precision(o.precision, "evaluating");
  std::vector<std::int32_t> inp(static_cast<std::size_t>(B) * T), tgt(inp.size());  // (B, T)
  std::vector<float> w(inp.size());                                                // (B, T)
  double loss_sum = 0, weight_sum = 0;
  ProgressBar bar("eval " + r.label + ": loss", rows.size(), ProgressUnit::kItems, !o.progress);
  for (std::size_t b0 = 0; b0 < rows.size(); b0 += static_cast<std::size_t>(B)) {
    const int nb = static_cast<int>(std::min<std::size_t>(B, rows.size() - b0));
    int bt = 1;  // the batch's longest row: shorter forwards for short answers
    for (int b = 0; b < nb; ++b) bt = std::max(bt, static_cast<int>(rows[b0 + b].inp.size()));
    std::fill(inp.begin(), inp.end(), 0);
    std::fill(tgt.begin(), tgt.end(), 0);
    std::fill(w.begin(), w.end(), 0.0f);  // padding carries no weight
    for (int b = 0; b < nb; ++b) {
      const Row& row = rows[b0 + b];
      std::copy(row.inp.begin(), row.inp.end(), inp.begin() + static_cast<std::ptrdiff_t>(b) * bt);
      std::copy(row.tgt.begin(), row.tgt.end(), tgt.begin() + static_cast<std::ptrdiff_t>(b) * bt);
      std::copy(row.w.begin(), row.w.end(), w.begin() + static_cast<std::ptrdiff_t>(b) * bt);
    }
    const float mean = m.forward(inp.data(), tgt.data(), w.data(), nb, bt);
    const double ws = m.last_weight_sum();
    if (ws > 0) {
      loss_sum += static_cast<double>(mean) * ws;
      weight_sum += ws;
    }
    bar.add(static_cast<std::uint64_t>(nb));
  }
  bar.finish();
  r.val_tokens = static_cast<long>(weight_sum + 0.5);
  r.val_loss = weight_sum > 0 ? loss_sum / weight_sum : 0.0;
}

}  // namespace

std::vector<EvalItem> eval_load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("eval: cannot open", path);
  std::vector<EvalItem> items;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      throw input_error(str(path, ":", lineno, ": not JSON (", e.what(), ")"));
    }
    if (!j.is_object() || !j.contains("prompt") || !j["prompt"].is_string() ||
        !j.contains("answer") || !j["answer"].is_string())
      throw input_error(str(path, ":", lineno, ": needs string fields \"prompt\" and \"answer\""),
                        "make eval files with `weft data chat` (eval_test.jsonl)");
    EvalItem it;
    it.prompt = j["prompt"].get<std::string>();
    it.answer = j["answer"].get<std::string>();
    if (j.contains("kind") && j["kind"].is_string()) it.kind = j["kind"].get<std::string>();
    items.push_back(std::move(it));
  }
  if (items.empty()) throw input_error(str(path, ": no eval items"));
  return items;
}

EvalResult eval_run(const model::GptConfig& config, const float* params,
                    const data::Tokenizer& tok, const std::vector<EvalItem>& all,
                    const EvalOptions& o) {
  if (tok.vocab_size() > static_cast<std::uint32_t>(config.vocab))
    throw input_error(str("eval: the tokenizer has ", tok.vocab_size(),
                          " ids but the model's vocabulary is ", config.vocab),
                      "use the tokenizer the model was trained with");
  if (o.batch < 1 || o.max_tokens < 1)
    throw input_error(str("eval: --batch and --max-tokens must be >= 1"));
  std::vector<EvalItem> items = all;
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < items.size()) items.resize(o.limit);
  if (items.empty()) throw input_error("eval: no items");
  Stopwatch watch;
  EvalResult r;
  r.label = o.label;
  r.n = static_cast<int>(items.size());
  eval_generate(config, params, tok, items, o, r);
  for (const EvalPrediction& p : r.predictions) {
    r.exact_match += p.exact_match;
    r.token_f1 += p.f1;
  }
  r.exact_match /= r.n;
  r.token_f1 /= r.n;
  eval_loss(config, params, tok, items, o, r);
  if (o.reward) {
    std::vector<std::string> prompts, answers;
    for (const EvalPrediction& p : r.predictions) {
      prompts.push_back(p.prompt);
      answers.push_back(p.answer);
    }
    const std::vector<double> rw = o.reward(prompts, answers);
    WEFT_CHECK(rw.size() == answers.size());
    double s = 0;
    for (double x : rw) s += x;
    r.mean_reward = s / static_cast<double>(rw.size());
  }
  r.seconds = watch.seconds();
  return r;
}

EvalResult eval_files(const std::string& model_path, const std::string& tokenizer_spec,
                      const std::string& data_path, const EvalOptions& options) {
  const model::LlmcModel m = model::llmc_load_model(model_path);
  const data::Tokenizer tok = data::tokenizer_load_spec(tokenizer_spec);
  const std::vector<EvalItem> items = eval_load(data_path);
  EvalOptions o = options;
  if (o.label.empty()) o.label = model_path;
  return eval_run(m.config, m.params.data(), tok, items, o);
}

std::string eval_result_json(const EvalResult& r) {
  json j;
  j["label"] = r.label;
  j["n"] = r.n;
  j["exact_match"] = r.exact_match;
  j["token_f1"] = r.token_f1;
  j["val_loss"] = r.val_loss;
  j["val_tokens"] = r.val_tokens;
  j["truncated"] = r.truncated;
  j["mean_reward"] = r.mean_reward ? json(*r.mean_reward) : json(nullptr);
  j["seconds"] = r.seconds;
  return j.dump();
}

std::string eval_table_header() {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-12s %6s %8s %8s %9s %8s", "model", "n", "EM %", "F1 %",
                "val loss", "reward");
  return buf;
}

std::string eval_table_row(const EvalResult& r) {
  char reward[32] = "-";
  if (r.mean_reward) std::snprintf(reward, sizeof reward, "%.3f", *r.mean_reward);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-12s %6d %8.1f %8.1f %9.3f %8s", r.label.c_str(), r.n,
                100.0 * r.exact_match, 100.0 * r.token_f1, r.val_loss, reward);
  return buf;
}

}  // namespace weft::infer
