// Single-rank pretraining loop. See pretrain.hpp.
#include "train/pretrain.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/cpu_time.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/thread_usage.hpp"
#include "data/shard_reader_simple.hpp"
#include "kernels/cpu/threads.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/stage_params.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/data_parallel.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/checkpoint.hpp"
#include "train/comm_report.hpp"
#include "train/convert.hpp"
#include "train/grid_eval.hpp"
#include "train/peak_flops.hpp"
#include "train/pipeline_setup.hpp"
#include "train/pretrain_gpu.hpp"
#include "train/pretrain_pipeline.hpp"
#include "train/pretrain_ckpt.hpp"
#include "train/rank_layout.hpp"
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
  need(o.save_every >= 0, str("--save-every = ", o.save_every, " must be >= 0"));
  need(o.keep >= 1, str("--keep = ", o.keep, " must be at least 1"));
  need(o.stop_after >= 0, str("--stop-after = ", o.stop_after, " must be >= 0"));
  need(o.on_nan == "stop" || o.on_nan == "skip", str("--on-nan '", o.on_nan, "': expected stop or skip"));
  need(o.dp >= 0 && o.tp >= 1 && o.pp >= 1,
       str("--dp ", o.dp, " --tp ", o.tp, " --pp ", o.pp, ": --tp/--pp must be >= 1, --dp >= 0 (0 = the rest)"));
  need(o.tp == 1 || o.zero <= 2,
       str("--zero ", o.zero, " with --tp ", o.tp, ": ZeRO-3 with tensor parallelism is not supported "
           "yet; use --zero 0, 1 or 2"));
  need(o.device == "cpu" || o.device == "cuda",
       str("--device '", o.device, "': expected cpu or cuda"));
  need(o.device == "cpu" || (o.save_every == 0 && o.resume.empty() && o.stop_after == 0),
       "--device cuda: checkpoints (--save-every, --resume, --stop-after) are CPU-only so far");
  check_pipeline_options(o);
  // bf16 rounds the whole master buffer once per forward; under ZeRO-3 most units are
  // not gathered at that moment, so their bf16 copy would be stale.
  need(!(o.precision == "bf16" && o.zero == 3),
       "--precision bf16 with --zero 3 is not supported yet (the bf16 copy is made before the "
       "units are gathered); use --zero 2 or --precision fp32");
}

// What every rank must agree on: model, optimisation settings, layout and the
// training shards (names and sizes). Hashed; ranks compare the first 8 bytes.
std::int64_t run_fingerprint(const PretrainOptions& o, const model::GptConfig& cfg,
                             const std::vector<std::string>& shards, int world) {
  std::string text = str(cfg.describe(), "|B=", o.batch, "|T=", o.seq, "|steps=", o.steps,
                         "|accum=", o.grad_accum, "|lr=", o.lr, "|warmup=", o.warmup,
                         "|minlr=", o.min_lr_frac, "|wd=", o.weight_decay, "|eps=", o.adam_eps, "|clip=", o.grad_clip,
                         "|seed=", o.seed, "|init=", o.init_from, "|zero=", o.zero,
                         "|bucket=", o.bucket_mb, "|world=", world, "|dp=", o.dp, "|tp=", o.tp,
                         "|pp=", o.pp, "|schedule=", o.schedule, "|micro=", o.micro_batches,
                         "|allreduce=", o.allreduce, "|early_wte=", o.dp_early_wte);
  for (const std::string& s : shards) {
    std::error_code ec;
    text += str("|", std::filesystem::path(s).filename().string(), ":",
                std::filesystem::file_size(s, ec));
  }
  return run_fingerprint_of(text);
}

void inject_fault(const PretrainOptions& o, int rank, int step) {
  if (o.fault.empty() || o.fault == "nan" || rank != o.fault_rank || step + 1 != o.fault_step) return;
  log_warn("test fault: ", o.fault, " at step ", step + 1);
  if (o.fault == "kill") std::raise(SIGKILL);
  if (o.fault == "stall")
    std::this_thread::sleep_for(std::chrono::duration<double>(4 * o.comm_timeout_s + 1));
  // A pause shorter than the timeout: lets a drill cut the network at a known step.
  if (o.fault == "pause")
    std::this_thread::sleep_for(std::chrono::duration<double>(0.5 * o.comm_timeout_s));
  if (o.fault == "throw") throw Error(ErrorKind::kRuntime, str("test fault at step ", step + 1));
}

// --test-fault nan under --pp: a NaN in one rank's gradient (--test-fault-rank), at
// the first element of fcw in the stage's first layer, so only that stage sees it.
std::function<void(int, float*)> nan_fault_hook(const PretrainOptions& o, model::GptModel& m,
                                                int rank) {
  return [&o, &m, rank](int step, float* g) {
    if (step + 1 != o.fault_step || rank != o.fault_rank) return;
    log_warn("test fault: NaN gradient at step ", step + 1, " (fcw, stage layer 0)");
    g[m.layout()[model::ParamId::kFcw].offset] = std::numeric_limits<float>::quiet_NaN();
  };
}

// Mean validation loss; under DP each rank reads and evaluates only its rows
// [row0, row0 + B) of each global batch (x, y: (B,T)) and the means are averaged.
double evaluate(model::GptModel& m, data::ShardReaderSimple& reader, int batches, int B, int T,
                int row0, std::int32_t* x, std::int32_t* y, comm::Communicator* c) {
  reader.reset();
  double sum = 0.0;
  for (int i = 0; i < batches; ++i) {
    reader.next_rows(x, y, row0, B);
    sum += m.forward(x, y, nullptr, B, T);
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
  if (writer && fs::exists(metrics_path) && !o.overwrite && o.resume.empty())
    throw config_error(str(metrics_path.string(), " already exists: refusing to overwrite a run"),
                       "choose another --out or pass --overwrite");
  const parallel::GridShape shape = resolve_grid(o.dp, o.tp, o.pp, world);
  if (o.batch % shape.dp != 0)
    throw config_error(str("--batch ", o.batch, " (the global batch) is not divisible by the ",
                           shape.dp, " data-parallel ranks"),
                       "use a batch that is a multiple of the rank count");
  const int B = o.batch / shape.dp;  // this rank's rows of every global batch
  const std::vector<std::string> train_shards = data::shard_list(o.data, "train");
  if (o.threads > 0) cpu::set_num_threads(o.threads);

  model::GptConfig cfg;
  LoadedWeights init;  // --init-from: an llm.c file or a weft checkpoint (parameters)
  std::optional<Checkpoint> ck;  // --resume: verified before anything is built
  if (!o.resume.empty()) {
    ck = ckpt_open(ckpt_resolve(o.resume == "latest" ? o.out : o.resume));
    cfg = ckpt_model_config(*ck);
    if (!o.init_from.empty() && writer) log_warn("resume: --init-from is ignored (the checkpoint wins)");
  } else if (!o.init_from.empty()) {
    init = load_weights(o.init_from);
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
  // The dp × tp grid, validated against the model and batch before anything is built.
  if (c != nullptr) parallel::grid_validate(shape, world, cfg, o.batch);
  const parallel::GridCoord coord = c ? parallel::grid_coord_of(shape, rank) : parallel::GridCoord{};
  const int row0 = coord.dp * B;

  const cpu::Precision precision = cpu::parse_precision(o.precision);
  // Pipeline stage (pp > 1): this rank's blocks of the balanced split.
  const model::StageSpec stage =
      shape.pp > 1 ? model::stage_split(cfg.n_layer, shape.pp)[static_cast<std::size_t>(coord.pp)]
                   : model::StageSpec{};
  model::GptModel m(cfg, B, o.seq, /*training=*/true, model::TpShard{coord.tp, shape.tp}, stage);
  // Grid communicators, DP and TP hooks (declared after the model: released first).
  std::unique_ptr<RankLayout> layout;
  if (c != nullptr)
    layout = std::make_unique<RankLayout>(*c, shape, parallel::parse_allreduce_mode(o.allreduce));
  comm::Communicator* dp_comm = layout ? &layout->grid().dp() : nullptr;
  if (m.set_precision(precision) == cpu::Precision::kBf16)
    log_info("train: bf16 matmuls (fp32 master weights, AdamW state, norms and loss)");
  CkptFullState resumed;  // --resume: the full (tp = 1) tensors, re-sliced below
  if (ck) resumed = ckpt_assemble(*ck, model::ParamLayout(cfg), /*optimizer=*/true);
  const float* full_init =
      ck ? resumed.params.data() : (o.init_from.empty() ? nullptr : init.params.data());
  if (layout && shape.pp > 1) {
    pipeline_init_params(m, cfg, full_init, o.seed);
  } else if (layout) {
    layout->init_params(m, full_init, o.seed);
  } else if (full_init != nullptr) {
    std::copy(full_init, full_init + m.num_params(), m.params());
  } else {
    m.init_weights(o.seed);
  }
  init.params = {};
  resumed.params = {};
  parallel::DataParallel* dp = nullptr;
  if (layout) {
    parallel::DataParallelOptions dpo;
    dpo.zero = o.zero;
    dpo.bucket_bytes = static_cast<std::size_t>(o.bucket_mb * (1 << 20));
    dpo.poison_released = o.poison;
    if (o.zero_release != "none" && o.zero_release != "grads" && o.zero_release != "all")
      throw input_error(str("--zero-release '", o.zero_release, "': expected none, grads or all"));
    dpo.release_grads = o.zero_release != "none";
    dpo.release_params = o.zero_release == "all";
    dpo.early_wte = o.dp_early_wte;
    layout->attach(m, dpo);
    dp = layout->dp();
  }
  std::unique_ptr<AdamWOptimizer> opt;
  if (!dp || o.zero == 0) opt = std::make_unique<AdamWOptimizer>(m.layout());
  cpu::AdamWConfig adam;
  adam.lr = o.lr;
  adam.weight_decay = o.weight_decay;
  adam.eps = o.adam_eps;
  const LrSchedule schedule{o.lr, o.warmup, o.steps, o.min_lr_frac};
  std::unique_ptr<TrainStep> trainer;
  std::unique_ptr<PipelineStep> pipe;
  std::unique_ptr<parallel::Tracer> tracer;
  if (shape.pp == 1) {
    trainer = std::make_unique<TrainStep>(m, opt.get(), adam, schedule, o.grad_clip, B, o.seq,
                                          o.grad_accum);
    trainer->set_data_parallel(dp);
    if (layout) trainer->set_grad_sum_squares(layout->grad_sum_squares());
    trainer->set_skip_nonfinite(o.on_nan == "skip");
    if (o.fault == "nan")  // every rank: a NaN in the summed gradient is on all of them
      trainer->set_grad_hook([&](int step, float* g) {
        if (step + 1 != o.fault_step) return;
        log_warn("test fault: NaN gradient at step ", step + 1);
        g[m.layout()[model::ParamId::kFcw].offset + m.layout()[model::ParamId::kFcw].layer_size()] =
            std::numeric_limits<float>::quiet_NaN();
      });
  } else {
    pipe = make_pipeline_step(o, m, opt.get(), adam, schedule, B, layout->grid().pp(), *c);
    pipe->set_data_parallel(dp);
    pipe->set_grad_sum_squares(layout->grad_sum_squares());
    pipe->set_skip_nonfinite(o.on_nan == "skip");
    if (o.fault == "nan") pipe->set_grad_hook(nan_fault_hook(o, m, rank));
    if (!o.trace.empty()) {
      tracer = std::make_unique<parallel::Tracer>(rank);
      pipe->set_tracer(tracer.get());
    }
  }
  const int accum = shape.pp > 1 ? pipeline_micro_batches(o) : o.grad_accum;
  std::unique_ptr<CommReport> comm_bytes;  // measured bytes per axis vs the formula
  if (layout) comm_bytes = make_comm_report(layout->grid(), cfg, m.config().n_layer, B, o.seq, accum, o.zero);
  int start_step = 0;
  PretrainOptions ck_o = o;  // checkpoint.json records the pipeline's micro-batches
  ck_o.grad_accum = accum;
  if (ck) {
    ckpt_restore_optimizer(resumed, m, cfg, opt.get(), dp);  // sliced for stage and tp shard
    resumed.m = {};
    resumed.v = {};
    start_step = static_cast<int>(pretrain_ckpt_apply(*ck, ck_o, rank, reader));
  }
  CkptSaveOptions save_opts;
  save_opts.run_dir = o.out;
  save_opts.keep = o.keep;
  save_opts.fail_after_bytes = o.save_fail_bytes;

  PretrainResult result;
  result.first_step = start_step;
  result.peak_gflops = o.peak_gflops > 0 ? o.peak_gflops : measure_sgemm_gflops(1024, 3);
  const double step_flops = model::GptModel::train_flops(cfg, o.batch, o.seq) * accum;
  const double tokens_per_step = static_cast<double>(o.batch) * o.seq * accum;
  log_info("train: model ", cfg.describe(), " (", m.num_params(), " params), B=", o.batch,
           " T=", o.seq, " grad_accum=", accum, ", threads ", cpu::num_threads(),
           ", ", reader.total_tokens(), " training tokens in ", train_shards.size(),
           " shard(s), sgemm peak ", result.peak_gflops, " GFLOP/s");
  if (dp)
    log_info("train: ", world, " ranks (", c->backend(), "), grid ", shape.describe(), ", ZeRO-",
             o.zero, ", ", dp->plan().buckets().size(), " gradient buckets",
             dp->early_wte() ? " (wte reduced early)" : "", "; ", dp->memory_report());
  if (pipe) log_pipeline_start(o, m, layout->grid().pp(), shape.dp, accum);
  std::vector<double> bubbles;  // per step, mean over ranks

  // The run directory is created only once every input has been checked.
  std::ofstream metrics;
  if (writer) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw io_error(str("cannot create run directory '", o.out, "': ", ec.message()));
    if (ck)
      metrics_keep_until(metrics_path.string(), start_step);
    else
      ckpt_prepare_fresh_run(o.out, o.overwrite);
    metrics.open(metrics_path, ck ? std::ios::app : std::ios::trunc);
    if (!metrics) throw io_error_errno("cannot create", metrics_path.string());
  }
  // This rank's rows [row0, row0 + B) of each global batch (it reads only those).
  AlignedBuffer<std::int32_t> gx(static_cast<std::size_t>(B) * o.seq);  // (B,T)
  AlignedBuffer<std::int32_t> gy(gx.size());                            // (B,T)
  const int prompt = cfg.vocab > 50256 ? 50256 : 0;  // GPT-2's <|endoftext|>, else token 0
  const bool quiet = o.quiet || !writer;

  for (int step = start_step; step < o.steps; ++step) {
    inject_fault(o, rank, step);
    const BatchSource next = [&](std::int32_t* x, std::int32_t* y) {
      reader.next_rows(x, y, row0, B);
    };
    const double cpu0 = process_cpu_seconds();  // all ranks of this process (thread ranks)
    if (comm_bytes) comm_bytes->begin_step();
    const ThreadUsage use0 = thread_usage_now();
    const StepStats s = pipe ? pipe->run(step, next) : trainer->run(step, next);
    const ThreadUsage use = thread_usage_now() - use0;  // this rank's thread, this step
    if (comm_bytes) comm_bytes->end_step(dp ? dp->wte_late_rows() : -1);
    const double cpu_ms = (process_cpu_seconds() - cpu0) * 1e3;
    if (s.skipped && writer)
      log_warn("step ", step + 1, ": ", s.nonfinite, "; update skipped (--on-nan skip)");
    result.losses.push_back(s.loss);
    const double tok_s = tokens_per_step / (s.ms_total / 1e3);
    const double mfu = step_flops / (s.ms_total / 1e3) / (result.peak_gflops * 1e9);
    nlohmann::json j = {{"step", step + 1},          {"loss", s.loss},
                        {"lr", s.lr},                {"grad_norm", s.grad_norm},
                        {"ms", s.ms_total},          {"cpu_ms", cpu_ms},
                        {"tokens_per_s", tok_s},
                        {"mfu", mfu},                {"ms_forward", s.ms_forward},
                        {"ms_backward", s.ms_backward}, {"ms_optimizer", s.ms_optimizer}};
    if (dp) j["ms_comm"] = s.ms_comm;
    if (dp && dp_comm != nullptr && dp_comm->size() > 1) {
      // This rank's wait also holds the time it waited for a slower peer (imbalance);
      // the last rank to arrive waits only for the communication itself, so the
      // minimum over the dp ranks is the exposed communication proper.
      double least = s.ms_comm;
      dp_comm->all_reduce(std::span<double>(&least, 1), comm::ReduceOp::kMin,
                          str("step ", step + 1, " exposed comm"));
      j["ms_comm_min"] = least;
    }
    if (comm_bytes) j["comm_bytes"] = comm_bytes->json();
    j["thread_cpu_ms"] = use.cpu_ms;  // rank 0's thread (OpenMP workers not counted)
    j["sys_ms"] = use.sys_ms;
    j["minflt"] = use.minor_faults;
    j["csw"] = use.voluntary_cs;
    j["icsw"] = use.involuntary_cs;
    if (pipe) {
      bubbles.push_back(mean_bubble(*pipe, *c, step));
      j["bubble"] = bubbles.back();
    }
    if (s.skipped) j["skipped"] = s.nonfinite;
    if (!quiet)
      std::printf("step %6d/%d | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s | mfu %5.1f%%\n",
                  step + 1, o.steps, s.loss, s.lr, s.grad_norm, s.ms_total, tok_s, 100.0 * mfu);
    const bool last = step + 1 == o.steps;
    if (val_reader && ((step + 1) % o.val_every == 0 || last)) {
      const double vl =
          shape.pp > 1  // the batches flow through the stages; the last one has the loss
              ? grid_evaluate(m, *val_reader, o.val_batches, B, o.seq, row0, gx.data(), gy.data(),
                              layout->grid())
              : evaluate(m, *val_reader, o.val_batches, B, o.seq, row0, gx.data(), gy.data(), dp_comm);
      result.val_losses.push_back(vl);
      j["val_loss"] = vl;
      if (!quiet) std::printf("val    %6d | val_loss %.6f\n", step + 1, vl);
    }
    if (o.sample_every > 0 && ((step + 1) % o.sample_every == 0 || last)) {
      const int n = std::min(o.sample_tokens, o.seq - 1);
      // tp: the argmax over the vocabulary shards; pp: the whole model on rank 0.
      const std::vector<int> toks =
          shape.pp > 1   ? pipeline_sample_greedy(m, cfg, *layout, prompt, n)
          : shape.tp > 1 ? grid_sample_greedy(m, prompt, n, layout->grid())
                         : sample_greedy(m, prompt, n);
      result.samples.push_back(toks);
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
    // Checkpoint: every --save-every steps, at the end, at --stop-after, on a signal.
    const int sig = StopSignals::received(c, step);
    const bool stop = sig != 0 || step + 1 == o.stop_after;
    if (stop || (o.save_every > 0 && ((step + 1) % o.save_every == 0 || last))) {
      result.last_checkpoint =
          ckpt_save(save_opts, step + 1,
                    pretrain_ckpt_meta(ck_o, cfg, shape.dp, shape.tp, step + 1,
                                       ckpt_adam_steps(opt.get(), dp), reader, shape.pp),
                    ckpt_rank_tensors(m, opt.get(), dp, cfg),
                    c);
      if (writer) log_info("train: checkpoint ", result.last_checkpoint);
    }
    if (stop) {
      result.stop_signal = sig;
      if (writer)
        log_info("train: stopped after step ", step + 1,
                 sig ? str(" on signal ", sig) : std::string(" (--stop-after)"),
                 "; continue with --resume");
      break;
    }
  }
  if (comm_bytes) result.comm = comm_bytes->finish(*c, o.quiet);
  if (dp) dp->gather_all_params();  // ZeRO-3: the whole model for the file
  std::vector<float> full;  // tp > 1: the gathered tp = 1 parameters
  if (layout && shape.tp > 1) layout->gather_full(m, full);
  if (pipe) {  // the stages' (tp-gathered) parameters to pipeline rank 0 of dp/tp group 0
    std::vector<float> whole;
    if (coord.dp == 0 && coord.tp == 0)
      whole = pipeline_gather_params(full.empty() ? m.params() : full.data(), m.stage(), cfg,
                                     layout->grid().pp());
    full = std::move(whole);
    finish_pipeline(o, *pipe, layout->grid().pp(), *c, tracer.get(), bubbles);
  }
  if (writer) {
    model::llmc_save_model((run_dir / "model.bin").string(), cfg, full.empty() ? m.params() : full.data());
    log_info("train: saved ", (run_dir / "model.bin").string(), " (llm.c format)");
  }
  if (c != nullptr) c->barrier("end of training");
  return result;
}

}  // namespace

PretrainResult pretrain(const PretrainOptions& o) {
  check_options(o);
  if (o.device == "cuda") return pretrain_gpu(o);
  const StopSignals signals;  // SIGINT/SIGTERM: finish the step, save, return
  const bool mpi = o.ranks_as == "mpi" || (o.ranks_as.empty() && comm::MpiRuntime::built() &&
                                           comm::MpiRuntime::launched());
  // Thread ranks default to the grid's size (--tp 2 alone starts 2 ranks).
  const int grid_world = std::max(o.dp, 1) * o.tp * o.pp;
  const int ranks = !mpi && o.ranks <= 1 && grid_world > 1 ? grid_world : o.ranks;
  if (!mpi && ranks <= 1 && o.ranks_as != "threads") return pretrain_rank(o, nullptr);
  comm::Options copt;
  copt.timeout = std::chrono::milliseconds(static_cast<long long>(o.comm_timeout_s * 1000));
  PretrainResult result;
  const comm::RanksAs as = mpi ? comm::RanksAs::kMpi : comm::parse_ranks_as(o.ranks_as.empty() ? "threads" : o.ranks_as);
  comm::run_ranks(as, mpi ? (o.ranks > 1 ? o.ranks : 0) : ranks, copt, [&](comm::Communicator& c) {
    PretrainResult r = pretrain_rank(o, &c);
    if (c.rank() == 0) result = std::move(r);
  });
  return result;
}

}  // namespace weft::train
