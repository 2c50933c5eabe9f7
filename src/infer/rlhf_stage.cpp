// `weft rlhf` stage: loading, the step loop, metrics and the saved actor. See
// rlhf_stage.hpp.
#include "infer/rlhf_stage.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "data/tokenizer.hpp"
#include "infer/rlhf_rollout.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/reward_head.hpp"
#include "parallel/data_parallel.hpp"
#include "train/dpo.hpp"
#include "train/ppo.hpp"
#include "train/rank_run.hpp"
#include "train/rlhf_data.hpp"

namespace weft::infer {
namespace {

namespace fs = std::filesystem;

void check_options(const RlhfOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw config_error(what);
  };
  need(o.method == "ppo" || o.method == "dpo",
       str("--method '", o.method, "': expected ppo or dpo"));
  need(!o.out.empty(), "--out RUN_DIR is required");
  need(!o.model.empty(), "--model (the SFT model.bin) is required");
  if (o.method == "dpo")
    need(!o.pairs.empty(), "--method dpo needs --pairs (preference pairs JSONL)");
  if (o.method == "ppo") {
    need(!o.prompts.empty(), "--method ppo needs --prompts (prompts JSONL)");
    need(!o.reward_model.empty(), "--method ppo needs --reward-model (weft reward's model)");
  }
  need(o.steps >= 1, str("--steps = ", o.steps, " must be at least 1"));
  need(o.batch >= 1, str("--batch = ", o.batch, " must be at least 1"));
  need(o.minibatch >= 1, str("--minibatch = ", o.minibatch, " must be at least 1"));
  need(o.epochs >= 1, str("--epochs = ", o.epochs, " must be at least 1"));
  need(o.lr > 0 && o.critic_lr > 0, "--lr and --critic-lr must be positive");
  need(o.beta > 0, str("--beta = ", o.beta, " must be positive"));
  need(o.sft_weight >= 0, str("--sft-weight = ", o.sft_weight, " must be >= 0"));
  need(o.kl_beta >= 0, str("--kl-beta = ", o.kl_beta, " must be >= 0"));
  need(o.gamma > 0 && o.gamma <= 1 && o.lambda >= 0 && o.lambda <= 1,
       "--gamma must be in (0, 1] and --lambda in [0, 1]");
  need(o.clip > 0 && o.value_clip > 0, "--clip and --value-clip must be positive");
  need(o.max_new_tokens >= 1, "--max-new-tokens must be at least 1");
  need(o.val_count >= 0 && o.threads >= 0 && o.ranks >= 0 && o.max_seq >= 0,
       "--val-count, --threads, --ranks and --max-seq must be >= 0");
  need(o.comm_timeout_s > 0, "--comm-timeout must be positive");
}

// Rank 0's metrics file; created once every input has been checked.
class MetricsFile {
 public:
  MetricsFile(const RlhfOptions& o, bool writer) : writer_(writer) {
    path_ = (fs::path(o.out) / "metrics.jsonl").string();
    if (writer_ && fs::exists(path_) && !o.overwrite)
      throw config_error(str(path_, " already exists: refusing to overwrite a run"),
                         "choose another --out or pass --overwrite");
  }
  void open() {
    if (!writer_) return;
    std::error_code ec;
    fs::create_directories(fs::path(path_).parent_path(), ec);
    if (ec)
      throw io_error(str("cannot create run directory '", fs::path(path_).parent_path().string(),
                         "': ", ec.message()));
    out_.open(path_, std::ios::trunc);
    if (!out_) throw io_error_errno("cannot create", path_);
  }
  void write(const nlohmann::json& j) {
    if (!writer_) return;
    out_ << j.dump() << '\n';
    out_.flush();
    if (!out_) throw io_error_errno("cannot write", path_);
  }

 private:
  bool writer_;
  std::string path_;
  std::ofstream out_;
};

int context_len(const model::GptConfig& cfg, const RlhfOptions& o) {
  return o.max_seq > 0 ? std::min(o.max_seq, cfg.max_seq) : cfg.max_seq;
}

void check_tokenizer(const data::Tokenizer& tok, const model::GptConfig& cfg,
                     const std::string& path) {
  if (tok.vocab_size() > static_cast<std::uint32_t>(cfg.vocab))
    throw input_error(str("the tokenizer has ", tok.vocab_size(), " ids but ", path,
                          " has a vocabulary of ", cfg.vocab),
                      "pass the --tokenizer the model was trained with");
}

// Rows of `items` this rank takes: every world-th from rank.
template <class T>
std::vector<T> rank_share(const std::vector<T>& items, int rank, int world, std::size_t limit) {
  std::vector<T> out;
  const std::size_t n = std::min(limit, items.size());
  for (std::size_t i = static_cast<std::size_t>(rank); i < n; i += static_cast<std::size_t>(world))
    out.push_back(items[i]);
  return out;
}

// An endless shuffled walk over n items (a fresh permutation each pass).
class Shuffler {
 public:
  Shuffler(std::size_t n, std::uint64_t seed) : rng_(seed), order_(n) { reshuffle(); }
  std::size_t next() {
    if (pos_ == order_.size()) reshuffle();
    return order_[pos_++];
  }

 private:
  void reshuffle() {
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    for (std::size_t i = order_.size(); i > 1; --i)
      std::swap(order_[i - 1], order_[rng_.below(static_cast<std::uint64_t>(i))]);
    pos_ = 0;
  }
  Rng rng_;
  std::vector<std::size_t> order_;
  std::size_t pos_ = 0;
};

// The reward model: transformer + scalar head (C weights, bias).
struct RewardFiles {
  model::GptConfig config;
  std::vector<float> params;
  std::vector<float> head;
};

// `weft reward`'s run directory: DIR/model.bin (transformer) + DIR/reward_head.bin.
RewardFiles load_reward(const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d))
    throw input_error(str("--reward-model '", dir, "' is not a directory"),
                      "pass the run directory of `weft reward` (model.bin + reward_head.bin)");
  model::LlmcModel m = model::llmc_load_model((d / "model.bin").string());
  const model::RewardHead head =
      model::reward_head_load((d / "reward_head.bin").string(), m.config.n_embd);
  RewardFiles f;
  f.config = m.config;
  f.params.assign(m.params.begin(), m.params.end());
  f.head.assign(head.params.data(), head.params.data() + head.size());
  return f;
}

void print_line(bool quiet, const std::string& line) {
  if (quiet) return;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

RlhfResult run_dpo(const RlhfOptions& o, comm::Communicator* c) {
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const bool quiet = o.quiet || rank != 0;
  if (o.batch % world != 0)
    throw config_error(str("--batch ", o.batch, " (the global batch) is not divisible by the ",
                           world, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  MetricsFile metrics(o, rank == 0);
  model::LlmcModel sft = model::llmc_load_model(o.model);
  const model::GptConfig cfg = sft.config;
  const data::Tokenizer tok = data::tokenizer_load_spec(o.tokenizer);
  check_tokenizer(tok, cfg, o.model);
  const int max_seq = context_len(cfg, o);
  int skipped = 0;
  const std::vector<train::PreferencePair> pairs =
      train::rlhf_load_pairs(o.pairs, tok, max_seq, &skipped);
  if (skipped > 0)
    log_warn("dpo: skipped ", skipped, " pairs whose prompt does not fit ", max_seq, " tokens");
  std::vector<train::PreferencePair> val;
  if (!o.val_pairs.empty())
    val = rank_share(train::rlhf_load_pairs(o.val_pairs, tok, max_seq), rank, world,
                     static_cast<std::size_t>(o.val_count));
  int T = 2;
  for (const auto& p : pairs)
    T = std::max(T,
                 static_cast<int>(p.prompt.size() + std::max(p.chosen.size(), p.rejected.size())));
  for (const auto& p : val)
    T = std::max(T,
                 static_cast<int>(p.prompt.size() + std::max(p.chosen.size(), p.rejected.size())));
  T = std::min(T, max_seq);
  const int local = o.batch / world;
  const int rows = 2 * std::max(local, 4);  // evaluation chunks use the same room

  model::GptModel policy(cfg, rows, T, /*training=*/true);
  model::GptModel ref(cfg, rows, T, /*training=*/false);
  std::copy(sft.params.begin(), sft.params.end(), policy.params());
  std::copy(sft.params.begin(), sft.params.end(), ref.params());
  sft.params = {};
  const cpu::Precision precision = cpu::parse_precision(o.precision);
  policy.set_precision(precision);
  ref.set_precision(precision);
  std::unique_ptr<parallel::DataParallel> dp;
  if (c != nullptr)
    dp = std::make_unique<parallel::DataParallel>(*c, policy, parallel::DataParallelOptions{});
  train::DpoOptions dopt;
  dopt.beta = o.beta;
  dopt.sft_weight = o.sft_weight;
  dopt.grad_clip = o.grad_clip;
  const train::LrSchedule schedule{o.lr, o.warmup, o.steps, 1.0};
  train::DpoTrainer trainer(policy, ref, dopt, schedule, dp.get());
  log_info("rlhf dpo: ", cfg.describe(), ", ", pairs.size(), " pairs, ", val.size() * world,
           " held-out, batch ", o.batch, " (", world, " rank(s)), β ", o.beta,
           o.sft_weight > 0 ? str(", SFT weight ", o.sft_weight) : "", ", lr ", o.lr);
  metrics.open();

  RlhfResult result;
  auto eval = [&](int step, nlohmann::json& j) {
    if (val.empty()) return;
    const train::DpoStats v = trainer.evaluate(val);
    j["val_loss"] = v.loss;
    j["val_accuracy"] = v.accuracy;
    j["val_reward_margin"] = v.reward_margin;
    j["val_policy_accuracy"] = v.policy_accuracy;
    print_line(quiet,
               str("val    ", step, " | loss ", v.loss, " | accuracy ", v.accuracy, " | margin ",
                   v.reward_margin, " | policy prefers chosen ", v.policy_accuracy));
    if (step == 0) {
      result.val_before = v.accuracy, result.val_margin_before = v.reward_margin;
      result.val_policy_before = v.policy_accuracy;
    }
    result.val_after = v.accuracy, result.val_margin_after = v.reward_margin;
    result.val_policy_after = v.policy_accuracy;
  };
  {
    nlohmann::json j = {{"step", 0}};
    eval(0, j);
    if (!val.empty()) metrics.write(j);
  }
  Shuffler order(pairs.size(), o.seed);
  std::vector<train::PreferencePair> global(static_cast<std::size_t>(o.batch));
  for (int step = 0; step < o.steps; ++step) {
    Stopwatch watch;
    for (auto& p : global) p = pairs[order.next()];
    const std::vector<train::PreferencePair> mine(global.begin() + rank * local,
                                                  global.begin() + (rank + 1) * local);
    const train::DpoStats s = trainer.step(mine, o.batch, step);
    if (!std::isfinite(s.loss))
      throw Error(ErrorKind::kRuntime, str("dpo step ", step + 1, ": loss is ", s.loss),
                  "lower --lr");
    result.losses.push_back(s.loss);
    nlohmann::json j = {{"step", step + 1},
                        {"loss", s.loss},
                        {"sft_loss", s.sft_loss},
                        {"reward_margin", s.reward_margin},
                        {"chosen_reward", s.chosen_reward},
                        {"rejected_reward", s.rejected_reward},
                        {"accuracy", s.accuracy},
                        {"grad_norm", s.grad_norm},
                        {"lr", s.lr},
                        {"ms", watch.ms()}};
    print_line(quiet, str("dpo ", step + 1, "/", o.steps, " | loss ", s.loss, " | margin ",
                          s.reward_margin, " | accuracy ", s.accuracy, " | ",
                          static_cast<int>(watch.ms()), " ms"));
    if (step + 1 == o.steps) eval(step + 1, j);
    metrics.write(j);
  }
  if (rank == 0) {
    model::llmc_save_model((fs::path(o.out) / "model.bin").string(), cfg, policy.params());
    log_info("rlhf dpo: saved ", (fs::path(o.out) / "model.bin").string());
  }
  if (c != nullptr) c->barrier("end of dpo");
  return result;
}

// Mean reward-model score of greedy responses to `prompts` (this rank's share; the
// mean over all ranks).
double greedy_reward(Engine& engine, const float* params,
                     const std::vector<std::vector<std::int32_t>>& prompts, train::ValueModel& rm,
                     const RolloutOptions& ro, int max_seq, comm::Communicator* c) {
  RolloutOptions greedy = ro;
  greedy.temperature = 0.0f;
  const train::RolloutFn roll = make_engine_rollout(engine, greedy);
  double sums[2] = {0.0, 0.0};
  const std::size_t chunk = static_cast<std::size_t>(rm.model().max_batch());
  for (std::size_t i = 0; i < prompts.size(); i += chunk) {
    const std::span<const std::vector<std::int32_t>> part =
        std::span(prompts).subspan(i, std::min(chunk, prompts.size() - i));
    const auto responses = roll(params, part, 0);
    const train::ResponseBatch b = train::response_batch_pack(part, responses, max_seq);
    std::vector<float> scores(part.size());
    rm.last_token_scores(b, scores);
    for (float s : scores) sums[0] += s;
    sums[1] += static_cast<double>(part.size());
  }
  if (c != nullptr)
    c->all_reduce(std::span<double>(sums, 2), comm::ReduceOp::kSum, "ppo val reward");
  return sums[1] > 0 ? sums[0] / sums[1] : 0.0;
}

RlhfResult run_ppo(const RlhfOptions& o, comm::Communicator* c) {
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const bool quiet = o.quiet || rank != 0;
  if (o.batch % world != 0)
    throw config_error(str("--batch ", o.batch, " (the global batch) is not divisible by the ",
                           world, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  MetricsFile metrics(o, rank == 0);
  model::LlmcModel sft = model::llmc_load_model(o.model);
  const model::GptConfig cfg = sft.config;
  RewardFiles rmf = load_reward(o.reward_model);
  const data::Tokenizer tok = data::tokenizer_load_spec(o.tokenizer);
  check_tokenizer(tok, cfg, o.model);
  check_tokenizer(tok, rmf.config, o.reward_model);
  const int max_seq = std::min(context_len(cfg, o), rmf.config.max_seq);
  const int max_prompt = max_seq - std::min(o.max_new_tokens, max_seq / 2);
  int skipped = 0;
  const std::vector<std::vector<std::int32_t>> prompts =
      train::rlhf_load_prompts(o.prompts, tok, max_prompt, &skipped);
  if (skipped > 0)
    log_warn("ppo: skipped ", skipped, " prompts longer than ", max_prompt, " tokens");
  std::vector<std::vector<std::int32_t>> val;
  if (!o.val_prompts.empty())
    val = rank_share(train::rlhf_load_prompts(o.val_prompts, tok, max_prompt), rank, world,
                     static_cast<std::size_t>(o.val_count));
  std::size_t longest = 1;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  for (const auto& p : val) longest = std::max(longest, p.size());
  const int T = std::min(max_seq, static_cast<int>(longest) + o.max_new_tokens);
  const int local = o.batch / world;
  const int mb = std::min(o.minibatch, local);

  model::GptModel actor(cfg, mb, T, /*training=*/true);
  model::GptModel ref(cfg, mb, T, /*training=*/false);
  std::copy(sft.params.begin(), sft.params.end(), actor.params());
  std::copy(sft.params.begin(), sft.params.end(), ref.params());
  sft.params = {};
  train::ValueModel critic(rmf.config, rmf.params.data(), rmf.head, mb, T, /*training=*/true);
  train::ValueModel rm(rmf.config, rmf.params.data(), rmf.head, mb, T, /*training=*/false);
  rmf.params = {};
  const cpu::Precision precision = cpu::parse_precision(o.precision);
  for (model::GptModel* m : {&actor, &ref, &critic.model(), &rm.model()}) m->set_precision(precision);
  EngineOptions eo;
  eo.precision = precision;
  eo.max_batch = std::min(local, 16);
  eo.max_seq = T;
  Engine engine(cfg, actor.params(), eo);
  RolloutOptions ro;
  ro.max_new_tokens = o.max_new_tokens;
  ro.temperature = o.temperature;
  ro.stop_token = static_cast<std::int32_t>(tok.special_ids().end);
  train::PpoOptions po;
  po.kl_beta = o.kl_beta, po.gamma = o.gamma, po.lambda = o.lambda, po.clip = o.clip;
  po.value_clip = o.value_clip, po.epochs = o.epochs, po.minibatch = mb, po.lr = o.lr;
  po.critic_lr = o.critic_lr, po.grad_clip = o.grad_clip, po.seed = o.seed;
  train::PpoTrainer trainer(
      actor, ref, critic, make_engine_rollout(engine, ro),
      [&rm](const train::ResponseBatch& b, std::span<float> scores) {
        rm.last_token_scores(b, scores);
      },
      po, c);
  log_info("rlhf ppo: ", cfg.describe(), ", ", prompts.size(), " prompts, ", val.size() * world,
           " held-out, batch ", o.batch, " (", world, " rank(s)), minibatch ", mb, ", epochs ",
           o.epochs, ", KL β ", o.kl_beta, ", lr ", o.lr);
  metrics.open();

  RlhfResult result;
  auto eval = [&](int step, nlohmann::json& j) {
    if (val.empty()) return;
    const double r = greedy_reward(engine, actor.params(), val, rm, ro, T, c);
    j["val_reward"] = r;
    print_line(quiet, str("val    ", step, " | greedy reward ", r));
    if (step == 0) result.val_before = r;
    result.val_after = r;
  };
  {
    nlohmann::json j = {{"step", 0}};
    eval(0, j);
    if (!val.empty()) metrics.write(j);
  }
  Shuffler order(prompts.size(), o.seed);
  std::vector<std::vector<std::int32_t>> global(static_cast<std::size_t>(o.batch));
  for (int step = 0; step < o.steps; ++step) {
    Stopwatch watch;
    for (auto& p : global) p = prompts[order.next()];
    const std::vector<std::vector<std::int32_t>> mine(global.begin() + rank * local,
                                                      global.begin() + (rank + 1) * local);
    const train::PpoStats s = trainer.step(mine, step);
    if (!std::isfinite(s.policy_loss) || !std::isfinite(s.value_loss))
      throw Error(ErrorKind::kRuntime, str("ppo step ", step + 1, ": loss is not finite"),
                  "lower --lr");
    result.rewards.push_back(s.reward);
    result.kls.push_back(s.kl);
    nlohmann::json j = {{"step", step + 1},
                        {"reward", s.reward},
                        {"kl", s.kl},
                        {"entropy", s.entropy},
                        {"clip_fraction", s.clip_fraction},
                        {"value_loss", s.value_loss},
                        {"policy_loss", s.policy_loss},
                        {"approx_kl", s.approx_kl},
                        {"response_len", s.response_len},
                        {"ms_rollout", s.ms_rollout},
                        {"ms_update", s.ms_update},
                        {"ms", watch.ms()}};
    print_line(quiet,
               str("ppo ", step + 1, "/", o.steps, " | reward ", s.reward, " | kl ", s.kl,
                   " | entropy ", s.entropy, " | clip ", s.clip_fraction, " | vloss ", s.value_loss,
                   " | len ", s.response_len, " | ", static_cast<int>(watch.ms()), " ms"));
    if (step + 1 == o.steps) eval(step + 1, j);
    metrics.write(j);
  }
  if (rank == 0) {
    model::llmc_save_model((fs::path(o.out) / "model.bin").string(), cfg, actor.params());
    log_info("rlhf ppo: saved ", (fs::path(o.out) / "model.bin").string());
  }
  if (c != nullptr) c->barrier("end of ppo");
  return result;
}

RlhfResult run_rank(const RlhfOptions& o, comm::Communicator* c) {
  if (o.threads > 0) cpu::set_num_threads(o.threads);
  return o.method == "dpo" ? run_dpo(o, c) : run_ppo(o, c);
}

}  // namespace

RlhfResult rlhf(const RlhfOptions& o) {
  check_options(o);
  RlhfResult result;
  train::rank_run({o.ranks, o.ranks_as, o.comm_timeout_s}, [&](comm::Communicator* c) {
    RlhfResult r = run_rank(o, c);
    if (c == nullptr || c->rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace weft::infer
