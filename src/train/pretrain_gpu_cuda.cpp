// Single-GPU pretraining loop. See pretrain_gpu.hpp. Mirrors pretrain_rank in
// pretrain.cpp (schedule, clipping, metrics, step line) with the model on the device.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "data/shard_reader_simple.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cuda/device.hpp"
#include "model/gpt_model.hpp"
#include "model/gpt_model_cuda.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/lr_schedule.hpp"
#include "train/pretrain_gpu.hpp"

namespace weft::train {
namespace {

void check_gpu_options(const PretrainOptions& o) {
  if (o.ranks > 1 || o.ranks_as == "mpi" || o.zero != 0 || o.dp > 1 || o.tp > 1 || o.pp > 1)
    throw config_error("--device cuda trains on one GPU: data parallel and ZeRO over NCCL are not "
                       "wired into training yet",
                       "drop --ranks/--ranks-as/--zero/--dp/--tp/--pp, or use --device cpu (docs/gpu.md)");
  if (o.precision != "fp32" && o.precision != "bf16")
    throw config_error(str("--precision '", o.precision, "': expected fp32 or bf16"));
}

// Mean validation loss over `batches` batches from the start of the validation shards.
double evaluate(model::GptModelCuda& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                std::int32_t* x, std::int32_t* y) {
  reader.reset();
  double sum = 0.0;
  for (int i = 0; i < batches; ++i) {
    reader.next(x, y);
    sum += m.forward(x, y, B, T);
  }
  return sum / batches;
}

}  // namespace

PretrainResult pretrain_gpu(const PretrainOptions& o) {
  namespace fs = std::filesystem;
  check_gpu_options(o);
  cuda::require_device(0, "--device cuda");
  const fs::path run_dir(o.out);
  const fs::path metrics_path = run_dir / "metrics.jsonl";
  if (fs::exists(metrics_path) && !o.overwrite)
    throw config_error(str(metrics_path.string(), " already exists: refusing to overwrite a run"),
                       "choose another --out or pass --overwrite");
  const std::vector<std::string> train_shards = data::shard_list(o.data, "train");

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
  if (o.val_every > 0 && !val_shards.empty())
    val_reader = std::make_unique<data::ShardReaderSimple>(val_shards, o.batch, o.seq, cfg.vocab);

  model::GpuModelOptions gopt;
  gopt.bf16 = o.precision == "bf16";
  gopt.recompute = o.recompute;
  auto m = model::make_gpt_model_cuda(cfg, o.batch, o.seq, gopt);
  {
    // Same init as the CPU model (GptModel::init_weights), made on the host then uploaded.
    model::GptModel host(cfg, 1, 1, /*training=*/false);
    if (!o.init_from.empty())
      std::copy(init.params.begin(), init.params.end(), host.params());
    else
      host.init_weights(o.seed);
    m->upload_params(host.params());
  }
  init.params = {};
  cpu::AdamWConfig adam;
  adam.weight_decay = o.weight_decay;
  const LrSchedule schedule{o.lr, o.warmup, o.steps, o.min_lr_frac};
  // MFU denominator: --peak-gflops (e.g. 989000 for an H100 SXM's dense bf16), else none.
  const double peak = o.peak_gflops;
  const double step_flops = model::GptModel::train_flops(cfg, o.batch, o.seq) * o.grad_accum;
  const double tokens_per_step = static_cast<double>(o.batch) * o.seq * o.grad_accum;
  log_info("train: GPU ", cuda::describe_current_device(), ", model ", cfg.describe(), " (",
           m->num_params(), " params), B=", o.batch, " T=", o.seq, " grad_accum=", o.grad_accum,
           ", ", gopt.bf16 ? "bf16 activations + fp32 master weights" : "fp32", "; ",
           m->memory_report());
  if (peak <= 0) log_info("train: no --peak-gflops given: MFU is printed as 0");

  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw io_error(str("cannot create run directory '", o.out, "': ", ec.message()));
  std::ofstream metrics(metrics_path, std::ios::trunc);
  if (!metrics) throw io_error_errno("cannot create", metrics_path.string());

  std::vector<std::int32_t> x(static_cast<std::size_t>(o.batch) * o.seq), y(x.size());
  PretrainResult result;
  result.peak_gflops = peak;
  const float scale = 1.0f / static_cast<float>(o.grad_accum);
  for (int step = 0; step < o.steps; ++step) {
    Stopwatch total;
    m->zero_grad();
    double loss = 0.0;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      reader.next(x.data(), y.data());
      loss += m->forward_train(x.data(), y.data(), o.batch, o.seq, scale);
      m->backward();
    }
    loss /= o.grad_accum;
    const double norm = std::sqrt(m->grad_sum_squares());
    const float clip = cpu::grad_clip_scale(norm, o.grad_clip);
    cpu::AdamWConfig c = adam;
    c.lr = schedule.at(step);
    m->adamw_step(c, clip);
    m->synchronize();
    const double ms = total.ms();
    if (!std::isfinite(loss))
      throw Error(ErrorKind::kRuntime, str("step ", step + 1, ": loss is ", loss),
                  "lower --lr or check the data");
    result.losses.push_back(loss);
    const double tok_s = tokens_per_step / (ms / 1e3);
    const double mfu = peak > 0 ? step_flops / (ms / 1e3) / (peak * 1e9) : 0.0;
    nlohmann::json j = {{"step", step + 1}, {"loss", loss},         {"lr", c.lr},
                        {"grad_norm", norm}, {"ms", ms},             {"tokens_per_s", tok_s},
                        {"mfu", mfu},        {"device", "cuda"}};
    if (!o.quiet)
      std::printf("step %6d/%d | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s | mfu %5.1f%%\n",
                  step + 1, o.steps, loss, c.lr, norm, ms, tok_s, 100.0 * mfu);
    if (val_reader && ((step + 1) % o.val_every == 0 || step + 1 == o.steps)) {
      const double vl = evaluate(*m, *val_reader, o.val_batches, o.batch, o.seq, x.data(), y.data());
      result.val_losses.push_back(vl);
      j["val_loss"] = vl;
      if (!o.quiet) std::printf("val    %6d | val_loss %.6f\n", step + 1, vl);
    }
    metrics << j.dump() << '\n';
    metrics.flush();
    if (!metrics) throw io_error_errno("cannot write", metrics_path.string());
    std::fflush(stdout);
  }
  std::vector<float> params(m->num_params());
  m->download_params(params.data());
  model::llmc_save_model((run_dir / "model.bin").string(), cfg, params.data());
  log_info("train: saved ", (run_dir / "model.bin").string(), " (llm.c format); peak device memory ",
           static_cast<double>(cuda::peak_allocated_bytes()) / (1 << 20), " MiB allocated");
  return result;
}

}  // namespace weft::train
