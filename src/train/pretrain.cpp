// Single-rank pretraining loop. See pretrain.hpp.
#include "train/pretrain.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/shard_reader_simple.hpp"
#include "kernels/cpu/threads.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/peak_flops.hpp"
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

double evaluate(model::GptModel& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                std::int32_t* x, std::int32_t* y) {
  reader.reset();
  double sum = 0.0;
  for (int i = 0; i < batches; ++i) {
    reader.next(x, y);
    sum += m.forward(x, y, nullptr, B, T);
  }
  return sum / batches;
}

}  // namespace

PretrainResult pretrain(const PretrainOptions& o) {
  check_options(o);
  namespace fs = std::filesystem;
  const fs::path run_dir(o.out);
  const fs::path metrics_path = run_dir / "metrics.jsonl";
  if (fs::exists(metrics_path) && !o.overwrite)
    throw config_error(str(metrics_path.string(), " already exists: refusing to overwrite a run"),
                       "choose another --out or pass --overwrite");
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

  const cpu::Precision precision = cpu::parse_precision(o.precision);
  model::GptModel m(cfg, o.batch, o.seq, /*training=*/true);
  if (m.set_precision(precision) == cpu::Precision::kBf16)
    log_info("train: bf16 matmuls (fp32 master weights, AdamW state, norms and loss)");
  if (!o.init_from.empty())
    std::copy(init.params.begin(), init.params.end(), m.params());
  else
    m.init_weights(o.seed);
  init.params = {};
  AdamWOptimizer opt(m.layout());
  cpu::AdamWConfig adam;
  adam.lr = o.lr;
  adam.weight_decay = o.weight_decay;
  const LrSchedule schedule{o.lr, o.warmup, o.steps, o.min_lr_frac};
  TrainStep trainer(m, opt, adam, schedule, o.grad_clip, o.batch, o.seq, o.grad_accum);

  PretrainResult result;
  result.peak_gflops = o.peak_gflops > 0 ? o.peak_gflops : measure_sgemm_gflops(1024, 3);
  const double step_flops = model::GptModel::train_flops(cfg, o.batch, o.seq) * o.grad_accum;
  const double tokens_per_step = static_cast<double>(o.batch) * o.seq * o.grad_accum;
  log_info("train: model ", cfg.describe(), " (", m.num_params(), " params), B=", o.batch,
           " T=", o.seq, " grad_accum=", o.grad_accum, ", threads ", cpu::num_threads(),
           ", ", reader.total_tokens(), " training tokens in ", train_shards.size(),
           " shard(s), sgemm peak ", result.peak_gflops, " GFLOP/s");

  // The run directory is created only once every input has been checked.
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw io_error(str("cannot create run directory '", o.out, "': ", ec.message()));
  std::ofstream metrics(metrics_path, std::ios::trunc);
  if (!metrics) throw io_error_errno("cannot create", metrics_path.string());
  AlignedBuffer<std::int32_t> vx(static_cast<std::size_t>(o.batch) * o.seq);
  AlignedBuffer<std::int32_t> vy(vx.size());
  const int prompt = cfg.vocab > 50256 ? 50256 : 0;  // GPT-2's <|endoftext|>, else token 0

  for (int step = 0; step < o.steps; ++step) {
    const StepStats s = trainer.run(step, [&](std::int32_t* x, std::int32_t* y) { reader.next(x, y); });
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
    if (!o.quiet)
      std::printf("step %6d/%d | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s | mfu %5.1f%%\n",
                  step + 1, o.steps, s.loss, s.lr, s.grad_norm, s.ms_total, tok_s, 100.0 * mfu);
    const bool last = step + 1 == o.steps;
    if (val_reader && ((step + 1) % o.val_every == 0 || last)) {
      const double vl = evaluate(m, *val_reader, o.val_batches, o.batch, o.seq, vx.data(), vy.data());
      result.val_losses.push_back(vl);
      j["val_loss"] = vl;
      if (!o.quiet) std::printf("val    %6d | val_loss %.6f\n", step + 1, vl);
    }
    if (o.sample_every > 0 && ((step + 1) % o.sample_every == 0 || last)) {
      const std::vector<int> toks = sample_greedy(m, prompt, std::min(o.sample_tokens, o.seq - 1));
      std::string text;
      for (int t : toks) text += " " + std::to_string(t);
      if (!o.quiet) std::printf("sample %6d | greedy from %d:%s\n", step + 1, prompt, text.c_str());
    }
    metrics << j.dump() << '\n';
    metrics.flush();
    if (!metrics) throw io_error_errno("cannot write", metrics_path.string());
    std::fflush(stdout);
  }
  model::llmc_save_model((run_dir / "model.bin").string(), cfg, m.params());
  log_info("train: saved ", (run_dir / "model.bin").string(), " (llm.c format)");
  return result;
}

}  // namespace weft::train
