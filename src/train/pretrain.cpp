// Single-rank pretraining loop. See pretrain.hpp.
#include "train/pretrain.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "data/shard_reader_simple.hpp"
#include "kernels/cpu/threads.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/data_parallel.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/peak_flops.hpp"
#include "train/rank_run.hpp"
#include "train/train_step.hpp"

namespace weft::train {
namespace {

void check_options(const PretrainOptions& o) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw config_error(what);
  };
  need(!o.out.empty(), "--out RUN_DIR is required");
  need(!o.data.empty(), "--data is required");
  need(o.batch >= 1, str("--batch = ", o.batch, " must be at least 1"));
  need(o.seq >= 1, str("--seq = ", o.seq, " must be at least 1"));
  need(o.steps >= 1, str("--steps = ", o.steps, " must be at least 1"));
  need(o.grad_accum >= 1, str("--grad-accum = ", o.grad_accum, " must be at least 1"));
  need(o.lr > 0, str("--lr = ", o.lr, " must be positive"));
  need(o.warmup >= 0, str("--warmup = ", o.warmup, " must be >= 0"));
  need(o.min_lr_frac >= 0 && o.min_lr_frac <= 1,
       str("--min-lr-frac = ", o.min_lr_frac, " must be in [0, 1]"));
  need(o.val_every >= 0 && o.sample_every >= 0 && o.val_batches >= 1,
       "--val-every/--sample-every must be >= 0 and --val-batches >= 1");
  need(o.threads >= 0, str("--threads = ", o.threads, " must be >= 0"));
  need(o.ranks >= 0, str("--ranks = ", o.ranks, " must be >= 0"));
  need(o.zero >= 0 && o.zero <= 3, str("--zero = ", o.zero, " must be 0, 1, 2 or 3"));
  need(o.bucket_mb > 0, str("--bucket-mb = ", o.bucket_mb, " must be positive"));
  need(o.comm_timeout_s > 0, str("--comm-timeout = ", o.comm_timeout_s, " must be positive"));
}

// What every rank must agree on: model, optimisation settings, layout and the
// training shards (names and sizes). Hashed; ranks compare the first 8 bytes.
std::int64_t run_fingerprint(const PretrainOptions& o, const model::GptConfig& cfg,
                             const std::vector<std::string>& shards, int world) {
  std::string text = str(cfg.describe(), "|B=", o.batch, "|T=", o.seq, "|steps=", o.steps,
                         "|accum=", o.grad_accum, "|lr=", o.lr, "|warmup=", o.warmup,
                         "|minlr=", o.min_lr_frac, "|wd=", o.weight_decay, "|clip=", o.grad_clip,
                         "|seed=", o.seed, "|init=", o.init_from, "|zero=", o.zero,
                         "|bucket=", o.bucket_mb, "|world=", world);
  for (const std::string& s : shards) {
    std::error_code ec;
    text += str("|", std::filesystem::path(s).filename().string(), ":",
                std::filesystem::file_size(s, ec));
  }
  return run_fingerprint_of(text);
}

void inject_fault(const PretrainOptions& o, int rank, int step) {
  if (o.fault.empty() || rank != o.fault_rank || step + 1 != o.fault_step) return;
  log_warn("test fault: ", o.fault, " at step ", step + 1);
  if (o.fault == "kill") std::raise(SIGKILL);
  if (o.fault == "stall")
    std::this_thread::sleep_for(std::chrono::duration<double>(4 * o.comm_timeout_s + 1));
  if (o.fault == "throw") throw Error(ErrorKind::kRuntime, str("test fault at step ", step + 1));
}

// Greedy continuation of `prompt` by n tokens, one full forward per token (no KV
// cache: a few tokens only). Uses the model's activations.
std::vector<int> sample_greedy(model::GptModel& m, int prompt, int n) {
  const model::GptConfig& c = m.config();
  std::vector<std::int32_t> tokens{prompt};
  const int window = m.max_seq();
  for (int i = 0; i < n; ++i) {
    const int t0 = std::max(0, static_cast<int>(tokens.size()) - window);
    const int T = static_cast<int>(tokens.size()) - t0;
    m.forward(tokens.data() + t0, nullptr, nullptr, 1, T);
    const float* row = m.logits() + static_cast<std::size_t>(T - 1) * c.padded_vocab;
    int best = 0;
    for (int v = 1; v < c.vocab; ++v)
      if (row[v] > row[best]) best = v;
    tokens.push_back(best);
  }
  return {tokens.begin() + 1, tokens.end()};
}

// Mean validation loss; under DP each rank evaluates its rows of each global batch
// (x, y hold the global batch, rows [row0, row0 + B)) and the means are averaged.
double evaluate(model::GptModel& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                int row0, std::int32_t* x, std::int32_t* y, comm::Communicator* c) {
  reader.reset();
  double sum = 0.0;
  const std::size_t off = static_cast<std::size_t>(row0) * T;
  for (int i = 0; i < batches; ++i) {
    reader.next(x, y);
    sum += m.forward(x + off, y + off, nullptr, B, T);
  }
  if (c != nullptr) {
    c->all_reduce(std::span<double>(&sum, 1), comm::ReduceOp::kSum, "validation");
    sum /= c->size();
  }
  return sum / batches;
}


// One rank's training job; c == nullptr is the single-rank run.
PretrainResult pretrain_rank(const PretrainOptions& o, comm::Communicator* c) {
  namespace fs = std::filesystem;
  const int rank = c ? c->rank() : 0, world = c ? c->size() : 1;
  const bool writer = rank == 0;
  const fs::path run_dir(o.out);
  const fs::path metrics_path = run_dir / "metrics.jsonl";
  if (writer && fs::exists(metrics_path) && !o.overwrite)
    throw config_error(str(metrics_path.string(), " already exists: refusing to overwrite a run"),
                       "choose another --out or pass --overwrite");
  if (o.batch % world != 0)
    throw config_error(str("--batch ", o.batch, " (the global batch) is not divisible by the ",
                           world, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  const int B = o.batch / world;  // this rank's rows of every global batch
  const int row0 = rank * B;
  const std::vector<std::string> train_shards = data::shard_list(o.data, "train");
  if (o.threads > 0) cpu::set_num_threads(o.threads);

  model::GptConfig cfg;
  model::LlmcModel init;
  if (!o.init_from.empty()) {
    init = model::llmc_load_model(o.init_from);
    cfg = init.config;
  } else {
    cfg = model::gpt_config_preset(o.model, o.vocab, o.max_seq);
  }
  if (o.seq > cfg.max_seq)
    throw config_error(str("--seq = ", o.seq, " exceeds the model's max_seq = ", cfg.max_seq));

  std::vector<std::string> val_shards =
      data::shard_list(o.val_data.empty() ? o.data : o.val_data, "val");
  if (o.val_data.empty() && val_shards == train_shards) val_shards.clear();
  data::ShardReaderSimple reader(train_shards, o.batch, o.seq, cfg.vocab);
  std::unique_ptr<data::ShardReaderSimple> val_reader;
  if (o.val_every > 0) {
    if (val_shards.empty())
      log_warn("no validation shards (names containing 'val') found: validation is off");
    else
      val_reader = std::make_unique<data::ShardReaderSimple>(val_shards, o.batch, o.seq, cfg.vocab);
  }

  if (c != nullptr) check_same_run(*c, run_fingerprint(o, cfg, train_shards, world));

  const cpu::Precision precision = cpu::parse_precision(o.precision);
  model::GptModel m(cfg, B, o.seq, /*training=*/true);
  if (m.set_precision(precision) == cpu::Precision::kBf16)
    log_info("train: bf16 matmuls (fp32 master weights, AdamW state, norms and loss)");
  if (!o.init_from.empty())
    std::copy(init.params.begin(), init.params.end(), m.params());
  else
    m.init_weights(o.seed);
  init.params = {};
  std::unique_ptr<parallel::DataParallel> dp =
      make_data_parallel(c, m, o.zero, o.bucket_mb, o.poison);
  std::unique_ptr<AdamWOptimizer> opt;
  if (!dp || o.zero == 0) opt = std::make_unique<AdamWOptimizer>(m.layout());
  cpu::AdamWConfig adam;
  adam.lr = o.lr;
  adam.weight_decay = o.weight_decay;
  const LrSchedule schedule{o.lr, o.warmup, o.steps, o.min_lr_frac};
  TrainStep trainer(m, opt.get(), adam, schedule, o.grad_clip, B, o.seq, o.grad_accum);
  trainer.set_data_parallel(dp.get());

  PretrainResult result;
  result.peak_gflops = o.peak_gflops > 0 ? o.peak_gflops : measure_sgemm_gflops(1024, 3);
  const double step_flops = model::GptModel::train_flops(cfg, o.batch, o.seq) * o.grad_accum;
  const double tokens_per_step = static_cast<double>(o.batch) * o.seq * o.grad_accum;
  log_info("train: model ", cfg.describe(), " (", m.num_params(), " params), B=", o.batch,
           " T=", o.seq, " grad_accum=", o.grad_accum, ", threads ", cpu::num_threads(),
           ", ", reader.total_tokens(), " training tokens in ", train_shards.size(),
           " shard(s), sgemm peak ", result.peak_gflops, " GFLOP/s");
  if (dp)
    log_info("train: ", world, " data-parallel ranks (", c->backend(), "), ZeRO-", o.zero, ", ",
             dp->plan().buckets().size(), " gradient buckets; ", dp->memory_report());

  // The run directory is created only once every input has been checked.
  std::ofstream metrics;
  if (writer) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw io_error(str("cannot create run directory '", o.out, "': ", ec.message()));
    metrics.open(metrics_path, std::ios::trunc);
    if (!metrics) throw io_error_errno("cannot create", metrics_path.string());
  }
  // The global batch (every rank reads it whole and keeps rows [row0, row0 + B)).
  AlignedBuffer<std::int32_t> gx(static_cast<std::size_t>(o.batch) * o.seq);
  AlignedBuffer<std::int32_t> gy(gx.size());
  const std::size_t slice = static_cast<std::size_t>(row0) * o.seq;
  const std::size_t local = static_cast<std::size_t>(B) * o.seq;
  const int prompt = cfg.vocab > 50256 ? 50256 : 0;  // GPT-2's <|endoftext|>, else token 0
  const bool quiet = o.quiet || !writer;

  for (int step = 0; step < o.steps; ++step) {
    inject_fault(o, rank, step);
    const StepStats s = trainer.run(step, [&](std::int32_t* x, std::int32_t* y) {
      reader.next(gx.data(), gy.data());
      std::copy(gx.data() + slice, gx.data() + slice + local, x);
      std::copy(gy.data() + slice, gy.data() + slice + local, y);
    });
    if (!std::isfinite(s.loss))
      throw Error(ErrorKind::kRuntime, str("step ", step + 1, ": loss is ", s.loss),
                  "lower --lr or check the data");
    result.losses.push_back(s.loss);
    const double tok_s = tokens_per_step / (s.ms_total / 1e3);
    const double mfu = step_flops / (s.ms_total / 1e3) / (result.peak_gflops * 1e9);
    nlohmann::json j = {{"step", step + 1},          {"loss", s.loss},
                        {"lr", s.lr},                {"grad_norm", s.grad_norm},
                        {"ms", s.ms_total},          {"tokens_per_s", tok_s},
                        {"mfu", mfu},                {"ms_forward", s.ms_forward},
                        {"ms_backward", s.ms_backward}, {"ms_optimizer", s.ms_optimizer}};
    if (dp) j["ms_comm"] = s.ms_comm;
    if (!quiet)
      std::printf("step %6d/%d | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s | mfu %5.1f%%\n",
                  step + 1, o.steps, s.loss, s.lr, s.grad_norm, s.ms_total, tok_s, 100.0 * mfu);
    const bool last = step + 1 == o.steps;
    if (val_reader && ((step + 1) % o.val_every == 0 || last)) {
      const double vl =
          evaluate(m, *val_reader, o.val_batches, B, o.seq, row0, gx.data(), gy.data(), c);
      result.val_losses.push_back(vl);
      j["val_loss"] = vl;
      if (!quiet) std::printf("val    %6d | val_loss %.6f\n", step + 1, vl);
    }
    if (o.sample_every > 0 && ((step + 1) % o.sample_every == 0 || last)) {
      const std::vector<int> toks = sample_greedy(m, prompt, std::min(o.sample_tokens, o.seq - 1));
      std::string text;
      for (int t : toks) text += " " + std::to_string(t);
      if (!quiet) std::printf("sample %6d | greedy from %d:%s\n", step + 1, prompt, text.c_str());
    }
    if (writer) {
      metrics << j.dump() << '\n';
      metrics.flush();
      if (!metrics) throw io_error_errno("cannot write", metrics_path.string());
    }
    std::fflush(stdout);
  }
  if (dp) dp->gather_all_params();  // ZeRO-3: the whole model for the file
  if (writer) {
    model::llmc_save_model((run_dir / "model.bin").string(), cfg, m.params());
    log_info("train: saved ", (run_dir / "model.bin").string(), " (llm.c format)");
  }
  if (c != nullptr) c->barrier("end of training");
  return result;
}

}  // namespace

PretrainResult pretrain(const PretrainOptions& o) {
  check_options(o);
  PretrainResult result;
  rank_run({o.ranks, o.ranks_as, o.comm_timeout_s}, [&](comm::Communicator* c) {
    PretrainResult r = pretrain_rank(o, c);
    if (c == nullptr || c->rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace weft::train
