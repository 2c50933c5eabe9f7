// Supervised fine-tuning loop. See sft.hpp.
#include "train/sft.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "data/chat_jsonl.hpp"
#include "data/sft_pack.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/rank_run.hpp"
#include "train/stage_run.hpp"
#include "train/train_step.hpp"

namespace weft::train {
namespace {

void check_options(const SftOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw config_error(what);
  };
  need(!o.init_from.empty(), "--init-from MODEL is required (the base model)");
  need(!o.data.empty(), "--data is required (SFT conversations, JSONL)");
  need(!o.out.empty(), "--out RUN_DIR is required");
  need(o.batch >= 1, str("--batch = ", o.batch, " must be at least 1"));
  need(o.seq >= 2, str("--seq = ", o.seq, " must be at least 2"));
  need(o.steps >= 0, str("--steps = ", o.steps, " must be >= 0"));
  need(o.epochs >= 1, str("--epochs = ", o.epochs, " must be at least 1"));
  need(o.grad_accum >= 1, str("--grad-accum = ", o.grad_accum, " must be at least 1"));
  need(o.lr > 0, str("--lr = ", o.lr, " must be positive"));
  need(o.warmup >= 0 && o.val_every >= 0 && o.threads >= 0 && o.ranks >= 0,
       "--warmup, --val-every, --threads and --ranks must be >= 0");
  need(o.min_lr_frac >= 0 && o.min_lr_frac <= 1, "--min-lr-frac must be in [0, 1]");
  need(o.zero >= 0 && o.zero <= 3, str("--zero = ", o.zero, " must be 0, 1, 2 or 3"));
}

// Renders every conversation of a JSONL file (shuffled with `seed` when `shuffle`) and
// packs them into rows of T.
data::PackedRows load_packed(const std::string& path, const data::Tokenizer& tok, int T,
                             bool shuffle, std::uint64_t seed) {
  const std::vector<data::ChatConversation> convs = data::chat_read_conversations(path);
  std::vector<data::ChatTokens> rendered;
  rendered.reserve(convs.size());
  for (const auto& c : convs) rendered.push_back(data::chat_render(tok, c));
  if (shuffle) {
    Rng rng(seed);
    for (std::size_t i = rendered.size(); i > 1; --i)
      std::swap(rendered[i - 1], rendered[rng.below(i)]);
  }
  data::PackedRows p =
      data::sft_pack(rendered, T, static_cast<std::int32_t>(tok.special_ids().endoftext));
  if (p.weight_sum == 0)
    throw input_error(str(path, ": no assistant tokens to train on (every conversation needs an "
                          "assistant message)"));
  return p;
}

// Copies packed row r (or a padding row when r >= rows) into row i of the buffers.
void copy_row(const data::PackedRows& p, std::size_t r, std::size_t i, std::int32_t pad,
              std::int32_t* x, std::int32_t* y, float* w, std::int32_t* ds) {
  const std::size_t T = static_cast<std::size_t>(p.T), dst = i * T;
  if (r >= p.rows) {
    std::fill(x + dst, x + dst + T, pad);
    std::fill(y + dst, y + dst + T, pad);
    std::fill(w + dst, w + dst + T, 0.0f);
    std::fill(ds + dst, ds + dst + T, 0);
    return;
  }
  const std::size_t src = r * T;
  std::copy(p.x.begin() + src, p.x.begin() + src + T, x + dst);
  std::copy(p.y.begin() + src, p.y.begin() + src + T, y + dst);
  std::copy(p.w.begin() + src, p.w.begin() + src + T, w + dst);
  std::copy(p.doc_start.begin() + src, p.doc_start.begin() + src + T, ds + dst);
}

// Assistant-token loss over all rows of p. Chunks of B rows go round-robin to the
// ranks; every rank runs the same number of forwards (padding chunks have weight 0),
// since ZeRO-3's forward gathers are collectives.
double evaluate_packed(model::GptModel& m, const data::PackedRows& p, int B, std::int32_t pad,
                       comm::Communicator* c) {
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const std::size_t chunks = (p.rows + B - 1) / B;
  const std::size_t per_rank = (chunks + world - 1) / world;
  const std::size_t n = static_cast<std::size_t>(B) * p.T;
  std::vector<std::int32_t> x(n), y(n), ds(n);
  std::vector<float> w(n);
  double sums[2] = {0.0, 0.0};  // Σ loss·w, Σ w
  for (std::size_t k = 0; k < per_rank; ++k) {
    const std::size_t chunk = k * world + rank;
    for (int i = 0; i < B; ++i)
      copy_row(p, chunk * B + i, i, pad, x.data(), y.data(), w.data(), ds.data());
    m.set_doc_starts(ds.data(), B, p.T);
    const double loss = m.forward(x.data(), y.data(), w.data(), B, p.T);
    sums[0] += loss * m.last_weight_sum();
    sums[1] += m.last_weight_sum();
  }
  m.clear_doc_starts();
  if (c != nullptr) c->all_reduce(std::span<double>(sums, 2), comm::ReduceOp::kSum, "sft validation");
  return sums[1] > 0 ? sums[0] / sums[1] : 0.0;
}

SftResult sft_rank(const SftOptions& o, comm::Communicator* c) {
  namespace fs = std::filesystem;
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const bool writer = rank == 0;
  stage_check_out(o.out, o.overwrite, writer);
  if (o.batch % world != 0)
    throw config_error(str("--batch ", o.batch, " (the global batch) is not divisible by the ",
                           world, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  const int B = o.batch / world;
  const int row0 = rank * B;
  if (o.threads > 0) cpu::set_num_threads(o.threads);

  model::LlmcModel init = model::llmc_load_model(o.init_from);
  const model::GptConfig cfg = init.config;
  if (o.seq > cfg.max_seq)
    throw config_error(str("--seq = ", o.seq, " exceeds the model's max_seq = ", cfg.max_seq));
  const data::Tokenizer tok = data::tokenizer_load_spec(o.tokenizer);
  stage_check_tokenizer(tok, cfg, o.tokenizer, o.init_from);
  const std::int32_t pad = static_cast<std::int32_t>(tok.special_ids().endoftext);
  const data::PackedRows train = load_packed(o.data, tok, o.seq, true, o.seed);
  data::PackedRows val;
  if (!o.val_data.empty()) val = load_packed(o.val_data, tok, o.seq, false, 0);

  const std::size_t rows_per_step = static_cast<std::size_t>(o.batch) * o.grad_accum;
  const int steps = o.steps > 0 ? o.steps
                                : static_cast<int>(o.epochs * ((train.rows + rows_per_step - 1) /
                                                               rows_per_step));
  if (c != nullptr) {
    std::error_code ec;
    const std::string job =
        str(cfg.describe(), "|B=", o.batch, "|T=", o.seq, "|steps=", steps, "|accum=",
            o.grad_accum, "|lr=", o.lr, "|warmup=", o.warmup, "|minlr=", o.min_lr_frac,
            "|wd=", o.weight_decay, "|clip=", o.grad_clip, "|seed=", o.seed, "|init=",
            o.init_from, "|zero=", o.zero, "|world=", world, "|rows=", train.rows, "|w=",
            train.weight_sum, "|data=", fs::path(o.data).filename().string(), ":",
            fs::file_size(o.data, ec));
    check_same_run(*c, run_fingerprint_of(job));
  }

  model::GptModel m(cfg, B, o.seq, /*training=*/true);
  std::copy(init.params.begin(), init.params.end(), m.params());
  m.set_precision(stage_precision(o.precision, o.zero));
  init.params = {};
  std::unique_ptr<parallel::DataParallel> dp =
      make_data_parallel(c, m, o.zero, o.bucket_mb, /*poison=*/false);
  std::unique_ptr<AdamWOptimizer> opt;
  if (!dp || o.zero == 0) opt = std::make_unique<AdamWOptimizer>(m.layout());
  cpu::AdamWConfig adam;
  adam.lr = o.lr;
  adam.weight_decay = o.weight_decay;
  const LrSchedule schedule{o.lr, o.warmup, steps, o.min_lr_frac};
  TrainStep trainer(m, opt.get(), adam, schedule, o.grad_clip, B, o.seq, o.grad_accum);
  trainer.set_data_parallel(dp.get());

  SftResult result;
  result.steps = steps;
  result.train_rows = train.rows;
  result.conversations = train.conversations;
  log_info("sft: model ", cfg.describe(), ", ", train.conversations, " conversations packed into ",
           train.rows, " rows of ", o.seq, " (", static_cast<long long>(train.weight_sum),
           " assistant tokens", train.truncated ? str(", ", train.truncated, " truncated") : "",
           "), B=", o.batch, " grad_accum=", o.grad_accum, ", ", steps, " steps",
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
  if (val.rows > 0) {
    result.val_before = evaluate_packed(m, val, B, pad, c);
    write_metrics({{"step", 0}, {"val_loss", result.val_before}});
    if (!quiet) std::printf("sft val  %6d | val_loss %.6f\n", 0, result.val_before);
  }

  EpochOrder order(train.rows, o.seed);
  std::size_t next_row = 0;  // first row of the next global micro-batch
  for (int step = 0; step < steps; ++step) {
    const StepStats s = trainer.run_weighted(step, [&](const MicroBatch& mb) {
      for (int i = 0; i < B; ++i)
        copy_row(train, order.at(next_row + row0 + i), i, pad, mb.x, mb.y, mb.weights,
                 mb.doc_start);
      next_row += o.batch;
    });
    if (!std::isfinite(s.loss))
      throw Error(ErrorKind::kRuntime, str("sft step ", step + 1, ": loss is ", s.loss),
                  "lower --lr or check the data");
    result.losses.push_back(s.loss);
    const double tok_s = static_cast<double>(rows_per_step) * o.seq / (s.ms_total / 1e3);
    nlohmann::json j = {{"step", step + 1},         {"loss", s.loss},   {"lr", s.lr},
                        {"grad_norm", s.grad_norm}, {"ms", s.ms_total}, {"tokens_per_s", tok_s}};
    if (dp) j["ms_comm"] = s.ms_comm;
    if (!quiet)
      std::printf("sft step %6d/%d | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s\n",
                  step + 1, steps, s.loss, s.lr, s.grad_norm, s.ms_total, tok_s);
    const bool last = step + 1 == steps;
    if (val.rows > 0 && (last || (o.val_every > 0 && (step + 1) % o.val_every == 0))) {
      const double vl = evaluate_packed(m, val, B, pad, c);
      j["val_loss"] = vl;
      if (last) result.val_after = vl;
      if (!quiet) std::printf("sft val  %6d | val_loss %.6f\n", step + 1, vl);
    }
    write_metrics(j);
    std::fflush(stdout);
  }
  if (dp) dp->gather_all_params();  // ZeRO-3: the whole model for the file
  if (writer) {
    model::llmc_save_model((fs::path(o.out) / "model.bin").string(), cfg, m.params());
    log_info("sft: saved ", (fs::path(o.out) / "model.bin").string());
  }
  if (c != nullptr) c->barrier("end of sft");
  return result;
}

}  // namespace

SftResult sft(const SftOptions& o) {
  check_options(o);
  SftResult result;
  rank_run({o.ranks, o.ranks_as, o.comm_timeout_s}, [&](comm::Communicator* c) {
    SftResult r = sft_rank(o, c);
    if (c == nullptr || c->rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace weft::train
