// Reward model training loop. See reward.hpp.
#include "train/reward.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "data/chat_jsonl.hpp"
#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/reward_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/lr_schedule.hpp"
#include "train/rank_run.hpp"
#include "train/reward_loss.hpp"
#include "train/stage_run.hpp"

namespace weft::train {
namespace {

void check_options(const RewardOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw config_error(what);
  };
  need(!o.init_from.empty(), "--init-from MODEL is required (the SFT model)");
  need(!o.data.empty(), "--data is required (preference pairs, JSONL)");
  need(!o.out.empty(), "--out RUN_DIR is required");
  need(o.batch >= 1, str("--batch = ", o.batch, " must be at least 1"));
  need(o.grad_accum >= 1, str("--grad-accum = ", o.grad_accum, " must be at least 1"));
  need(o.seq >= 2, str("--seq = ", o.seq, " must be at least 2"));
  need(o.steps >= 0, str("--steps = ", o.steps, " must be >= 0"));
  need(o.epochs >= 1, str("--epochs = ", o.epochs, " must be at least 1"));
  need(o.lr > 0, str("--lr = ", o.lr, " must be positive"));
  need(o.warmup >= 0 && o.val_every >= 0 && o.threads >= 0 && o.ranks >= 0,
       "--warmup, --val-every, --threads and --ranks must be >= 0");
  need(o.min_lr_frac >= 0 && o.min_lr_frac <= 1, "--min-lr-frac must be in [0, 1]");
  need(o.zero >= 0 && o.zero <= 3, str("--zero = ", o.zero, " must be 0, 1, 2 or 3"));
}

// A pair as two token sequences (each at most seq tokens: the last ones are kept).
struct TokenPair {
  std::vector<std::int32_t> chosen, rejected;
};

std::vector<TokenPair> load_pairs(const std::string& path, const data::Tokenizer& tok, int seq,
                                  std::size_t* truncated) {
  std::vector<TokenPair> out;
  auto render = [&](const std::string& prompt, const std::string& reply) {
    const data::ChatTokens t = data::chat_render(tok, data::chat_pair_conversation(prompt, reply));
    const std::size_t keep = std::min(t.ids.size(), static_cast<std::size_t>(seq));
    if (keep < t.ids.size()) ++*truncated;
    return std::vector<std::int32_t>(t.ids.end() - static_cast<std::ptrdiff_t>(keep), t.ids.end());
  };
  for (const data::PreferencePair& p : data::chat_read_pairs(path))
    out.push_back({render(p.prompt, p.chosen), render(p.prompt, p.rejected)});
  return out;
}

// Rows of one batch: chosen replies in rows 0..n-1, rejected in rows n..2n-1, right-
// padded to the longest. Pairs past the end of `pairs` (index >= size) are padding
// pairs of one token each that the caller gives weight 0.
struct PairRows {
  int n = 0, T = 1;
  std::vector<std::int32_t> tokens;  // (2n, T)
  std::vector<int> lengths;          // (2n)
};

PairRows make_rows(const std::vector<TokenPair>& pairs, const std::vector<std::size_t>& idx,
                   std::int32_t pad) {
  PairRows r;
  r.n = static_cast<int>(idx.size());
  auto seq_of = [&](int row) -> const std::vector<std::int32_t>* {
    const std::size_t i = idx[static_cast<std::size_t>(row % r.n)];
    if (i >= pairs.size()) return nullptr;
    return row < r.n ? &pairs[i].chosen : &pairs[i].rejected;
  };
  for (int row = 0; row < 2 * r.n; ++row)
    if (const auto* s = seq_of(row)) r.T = std::max(r.T, static_cast<int>(s->size()));
  r.tokens.assign(static_cast<std::size_t>(2 * r.n) * r.T, pad);
  r.lengths.assign(static_cast<std::size_t>(2 * r.n), 1);
  for (int row = 0; row < 2 * r.n; ++row)
    if (const auto* s = seq_of(row)) {
      std::copy(s->begin(), s->end(), r.tokens.begin() + static_cast<std::ptrdiff_t>(row) * r.T);
      r.lengths[static_cast<std::size_t>(row)] = static_cast<int>(s->size());
    }
  return r;
}

struct PairStats {
  double loss_sum = 0.0, correct = 0.0, count = 0.0;
};

// Scores a batch; with dvalues != nullptr also fills the gradient of the mean loss
// over `global_pairs` pairs. Padding pairs (index >= size) count for nothing.
PairStats score_pairs(model::RewardModel& rm, const PairRows& r,
                      const std::vector<std::size_t>& idx, std::size_t n_pairs,
                      double global_pairs, std::vector<float>* dvalues) {
  std::vector<float> scores(static_cast<std::size_t>(2 * r.n));
  rm.score_batch(r.tokens.data(), r.lengths.data(), 2 * r.n, r.T, scores.data());
  if (dvalues) dvalues->assign(static_cast<std::size_t>(2 * r.n) * r.T, 0.0f);
  PairStats s;
  for (int i = 0; i < r.n; ++i) {
    if (idx[static_cast<std::size_t>(i)] >= n_pairs) continue;
    const PairLoss l = pair_loss(scores[static_cast<std::size_t>(i)],
                                 scores[static_cast<std::size_t>(i + r.n)]);
    s.loss_sum += l.loss;
    s.correct += l.credit;
    s.count += 1.0;
    if (dvalues) {
      const float g = static_cast<float>(l.dchosen / global_pairs);
      (*dvalues)[static_cast<std::size_t>(i) * r.T + r.lengths[static_cast<std::size_t>(i)] - 1] = g;
      (*dvalues)[static_cast<std::size_t>(i + r.n) * r.T +
                 r.lengths[static_cast<std::size_t>(i + r.n)] - 1] = -g;
    }
  }
  return s;
}

// Held-out loss and accuracy. Chunks of B pairs go round-robin to the ranks; every
// rank runs the same number of forwards (ZeRO-3's forward gathers are collectives).
PairStats evaluate_pairs(model::RewardModel& rm, const std::vector<TokenPair>& pairs, int B,
                         std::int32_t pad, comm::Communicator* c) {
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const std::size_t chunks = (pairs.size() + B - 1) / B;
  const std::size_t per_rank = (chunks + world - 1) / world;
  PairStats total;
  for (std::size_t k = 0; k < per_rank; ++k) {
    std::vector<std::size_t> idx(static_cast<std::size_t>(B));
    for (int i = 0; i < B; ++i) idx[static_cast<std::size_t>(i)] = (k * world + rank) * B + i;
    const PairStats s = score_pairs(rm, make_rows(pairs, idx, pad), idx, pairs.size(), 1.0, nullptr);
    total.loss_sum += s.loss_sum;
    total.correct += s.correct;
    total.count += s.count;
  }
  if (c != nullptr) {
    double v[3] = {total.loss_sum, total.correct, total.count};
    c->all_reduce(std::span<double>(v, 3), comm::ReduceOp::kSum, "reward validation");
    total = {v[0], v[1], v[2]};
  }
  return total;
}

RewardResult reward_rank(const RewardOptions& o, comm::Communicator* c) {
  namespace fs = std::filesystem;
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const bool writer = rank == 0;
  stage_check_out(o.out, o.overwrite, writer);
  if (o.batch % world != 0)
    throw config_error(str("--batch ", o.batch, " (pairs per micro-batch) is not divisible by the ",
                           world, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  const int B = o.batch / world;  // this rank's pairs per micro-batch
  const int step_pairs = o.batch * o.grad_accum;
  if (o.threads > 0) cpu::set_num_threads(o.threads);

  const model::GptConfig cfg = model::llmc_read_model_header(o.init_from);
  if (o.seq > cfg.max_seq)
    throw config_error(str("--seq = ", o.seq, " exceeds the model's max_seq = ", cfg.max_seq));
  const data::Tokenizer tok = data::tokenizer_load_spec(o.tokenizer);
  stage_check_tokenizer(tok, cfg, o.tokenizer, o.init_from);
  const std::int32_t pad = static_cast<std::int32_t>(tok.special_ids().endoftext);
  std::size_t truncated = 0;
  const std::vector<TokenPair> train = load_pairs(o.data, tok, o.seq, &truncated);
  std::vector<TokenPair> val;
  if (!o.val_data.empty()) val = load_pairs(o.val_data, tok, o.seq, &truncated);
  const int steps = o.steps > 0 ? o.steps
                                : o.epochs * static_cast<int>((train.size() + step_pairs - 1) / step_pairs);
  if (c != nullptr) {
    std::error_code ec;
    check_same_run(*c, run_fingerprint_of(str(
        "reward|", cfg.describe(), "|B=", o.batch, "|accum=", o.grad_accum, "|T=", o.seq, "|steps=", steps, "|lr=", o.lr,
        "|warmup=", o.warmup, "|minlr=", o.min_lr_frac, "|wd=", o.weight_decay, "|clip=",
        o.grad_clip, "|seed=", o.seed, "|init=", o.init_from, "|zero=", o.zero, "|world=", world,
        "|pairs=", train.size(), "|data=", fs::path(o.data).filename().string(), ":",
        fs::file_size(o.data, ec))));
  }

  model::RewardModel rm(cfg, 2 * B, o.seq, /*training=*/true);
  {
    model::LlmcModel init = model::llmc_load_model(o.init_from);
    std::copy(init.params.begin(), init.params.end(), rm.gpt().params());
  }
  rm.gpt().set_precision(stage_precision(o.precision, o.zero));
  std::unique_ptr<parallel::DataParallel> dp =
      make_data_parallel(c, rm.gpt(), o.zero, o.bucket_mb, /*poison=*/false);
  std::unique_ptr<AdamWOptimizer> opt;
  if (!dp || o.zero == 0) opt = std::make_unique<AdamWOptimizer>(rm.gpt().layout());
  // The head's own AdamW state (C + 1 values; decay on w, not on b).
  const int C = cfg.n_embd;
  AlignedBuffer<float> head_m(rm.head().size()), head_v(rm.head().size());
  const cpu::AdamWRange head_ranges[2] = {{0, static_cast<std::size_t>(C), true},
                                          {static_cast<std::size_t>(C), 1, false}};
  const LrSchedule schedule{o.lr, o.warmup, steps, o.min_lr_frac};

  RewardResult result;
  result.steps = steps;
  log_info("reward: model ", cfg.describe(), ", ", train.size(), " pairs",
           truncated ? str(" (", truncated, " replies truncated to their last ", o.seq, " tokens)")
                     : "",
           ", ", step_pairs, " pairs per step (", o.grad_accum, " micro-batches), ", steps, " steps",
           world > 1 ? str(", ", world, " data-parallel ranks (", c->backend(), ") ZeRO-", o.zero)
                     : "");

  std::ofstream metrics = stage_open_metrics(o.out, writer);
  auto write_metrics = [&](const nlohmann::json& j) {
    if (!writer) return;
    metrics << j.dump() << '\n';
    metrics.flush();
    if (!metrics) throw io_error_errno("cannot write", o.out + "/metrics.jsonl");
  };
  const bool quiet = o.quiet || !writer;
  auto validate = [&](int step, nlohmann::json& j, double* acc, double* loss) {
    const PairStats v = evaluate_pairs(rm, val, B, pad, c);
    *acc = v.count > 0 ? v.correct / v.count : 0.0;
    *loss = v.count > 0 ? v.loss_sum / v.count : 0.0;
    j["val_accuracy"] = *acc;
    j["val_loss"] = *loss;
    if (!quiet)
      std::printf("reward val  %6d | val_loss %.6f | val_accuracy %.4f (%d pairs)\n", step, *loss,
                  *acc, static_cast<int>(v.count));
  };
  if (!val.empty()) {
    nlohmann::json j = {{"step", 0}};
    validate(0, j, &result.val_accuracy_before, &result.val_loss_before);
    write_metrics(j);
  }

  EpochOrder order(train.size(), o.seed);
  std::vector<float> dvalues;
  for (int step = 0; step < steps; ++step) {
    Stopwatch total;
    if (dp) dp->set_step(step);
    rm.zero_grad();
    PairStats s;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      // Global micro-batch `micro` of the step; this rank takes its B pairs.
      const std::size_t first = static_cast<std::size_t>(step) * step_pairs +
                                static_cast<std::size_t>(micro) * o.batch + rank * B;
      std::vector<std::size_t> idx(static_cast<std::size_t>(B));
      for (int i = 0; i < B; ++i) idx[static_cast<std::size_t>(i)] = order.at(first + i);
      if (dp) dp->begin_micro(micro + 1 == o.grad_accum);
      const PairStats m =
          score_pairs(rm, make_rows(train, idx, pad), idx, train.size(), step_pairs, &dvalues);
      rm.backward(dvalues.data());
      s.loss_sum += m.loss_sum;
      s.correct += m.correct;
    }
    if (dp) {
      dp->finish_grads();
      dp->comm().all_reduce(std::span<float>(rm.head_grads(), rm.head().size()),
                            comm::ReduceOp::kSum, str("step ", step + 1, " reward head grads"));
      double v[2] = {s.loss_sum, s.correct};
      dp->comm().all_reduce(std::span<double>(v, 2), comm::ReduceOp::kSum,
                            str("step ", step + 1, " loss"));
      s.loss_sum = v[0];
      s.correct = v[1];
    }
    const double loss = s.loss_sum / step_pairs, acc = s.correct / step_pairs;
    // Clip on the global norm of transformer and head together.
    const double norm = std::sqrt(
        (dp ? dp->grad_sum_squares()
            : cpu::grad_sum_squares(rm.gpt().grads(), rm.gpt().num_params())) +
        cpu::grad_sum_squares(rm.head_grads(), rm.head().size()));
    const float clip = cpu::grad_clip_scale(norm, o.grad_clip);
    cpu::AdamWConfig adam;
    adam.lr = schedule.at(step);
    adam.weight_decay = o.weight_decay;
    if (dp && dp->zero() >= 1)
      dp->optimizer_step(adam, clip);
    else
      opt->step(rm.gpt().params(), rm.gpt().grads(), adam, clip);
    cpu::adamw_update(rm.head().params.data(), head_m.data(), head_v.data(), rm.head_grads(),
                      rm.head().size(), head_ranges, adam, step + 1, clip);
    if (!std::isfinite(loss))
      throw Error(ErrorKind::kRuntime, str("reward step ", step + 1, ": loss is ", loss),
                  "lower --lr or check the data");
    result.losses.push_back(loss);
    result.accuracies.push_back(acc);
    const double ms = total.ms();
    nlohmann::json j = {{"step", step + 1}, {"loss", loss},       {"accuracy", acc},
                        {"lr", adam.lr},    {"grad_norm", norm}, {"ms", ms}};
    if (!quiet)
      std::printf("reward step %6d/%d | loss %.6f | acc %.3f | lr %.3e | norm %.4f | %8.1f ms\n",
                  step + 1, steps, loss, acc, adam.lr, norm, ms);
    const bool last = step + 1 == steps;
    if (!val.empty() && (last || (o.val_every > 0 && (step + 1) % o.val_every == 0))) {
      double a = 0, l = 0;
      validate(step + 1, j, &a, &l);
      if (last) {
        result.val_accuracy_after = a;
        result.val_loss_after = l;
      }
    }
    write_metrics(j);
    std::fflush(stdout);
  }
  if (dp) dp->gather_all_params();
  if (writer) {
    rm.save(o.out);
    log_info("reward: saved ", (fs::path(o.out) / "model.bin").string(), " and reward_head.bin");
  }
  if (c != nullptr) c->barrier("end of reward training");
  return result;
}

}  // namespace

RewardResult reward_train(const RewardOptions& o) {
  check_options(o);
  RewardResult result;
  rank_run({o.ranks, o.ranks_as, o.comm_timeout_s}, [&](comm::Communicator* c) {
    RewardResult r = reward_rank(o, c);
    if (c == nullptr || c->rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace weft::train
