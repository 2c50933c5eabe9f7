// Checkpoint glue of `weft train`. See pretrain_ckpt.hpp.
#include "train/pretrain_ckpt.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <span>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/grid.hpp"

namespace weft::train {
namespace fs = std::filesystem;
namespace {

// Set by the signal handler (async-signal-safe); the one mutable global here, as a
// handler can reach nothing else.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
}

nlohmann::json train_settings(const PretrainOptions& o) {
  return {{"batch", o.batch},
          {"seq", o.seq},
          {"grad_accum", o.grad_accum},
          {"lr", o.lr},
          {"warmup", o.warmup},
          {"min_lr_frac", o.min_lr_frac},
          {"weight_decay", o.weight_decay},
          {"grad_clip", o.grad_clip},
          {"steps", o.steps},
          {"seed", o.seed},
          {"precision", o.precision}};
}

}  // namespace

nlohmann::json pretrain_ckpt_meta(const PretrainOptions& o, const model::GptConfig& cfg, int dp,
                                  int tp, std::int64_t step, std::int64_t adam_steps,
                                  const data::ShardReaderSimple& reader, int pp) {
  nlohmann::json shards = nlohmann::json::array();
  std::error_code ec;
  for (const std::string& s : reader.shards())
    shards.push_back({{"name", fs::path(s).filename().string()}, {"bytes", fs::file_size(s, ec)}});
  const data::ShardReaderSimple::Position pos = reader.position();
  nlohmann::json ranks = nlohmann::json::array();
  const parallel::GridShape grid{dp, tp, pp};
  for (int r = 0; r < grid.world(); ++r) {
    const int d = parallel::grid_coord_of(grid, r).dp;
    ranks.push_back({{"rank", r},
                     {"shard", pos.shard},
                     {"offset", pos.offset},
                     {"rows", {d * (o.batch / dp), (d + 1) * (o.batch / dp)}}});
  }
  return {{"format", "weft-checkpoint"},
          {"version", kCkptVersion},
          {"stage", "pretrain"},
          {"step", step},
          {"adam_steps", adam_steps},
          {"tokens_seen", static_cast<std::int64_t>(step) * o.batch * o.seq * o.grad_accum},
          {"model",
           {{"n_layer", cfg.n_layer},
            {"n_head", cfg.n_head},
            {"n_embd", cfg.n_embd},
            {"vocab", cfg.vocab},
            {"padded_vocab", cfg.padded_vocab},
            {"max_seq", cfg.max_seq}}},
          {"layout", {{"dp", dp}, {"tp", tp}, {"pp", pp}, {"zero", dp > 1 ? o.zero : 0}}},
          {"train", train_settings(o)},
          {"data", {{"reader", "sequential"}, {"shards", shards}, {"ranks", ranks}}},
          // The training loop draws no random numbers (no dropout; sequential data):
          // the init seed is all there is. Stages that sample add their streams here.
          {"rng", {{"init_seed", o.seed}, {"streams", nlohmann::json::array()}}}};
}

std::int64_t pretrain_ckpt_apply(const Checkpoint& ck, const PretrainOptions& o, int rank,
                                 data::ShardReaderSimple& reader) {
  const nlohmann::json& j = ck.meta;
  auto bad = [&](const std::string& why) {
    return config_error(str("cannot resume from ", ck.dir, ": ", why));
  };
  try {
    if (j.at("stage").get<std::string>() != "pretrain")
      throw bad(str("it is a '", j.at("stage").get<std::string>(), "' checkpoint"));
    const std::int64_t step = j.at("step").get<std::int64_t>();
    if (step >= o.steps)
      throw bad(str("it is at step ", step, ", and --steps is ", o.steps, ": nothing left to do"));
    const nlohmann::json& shards = j.at("data").at("shards");
    if (shards.size() != reader.shards().size())
      throw bad(str("it was trained on ", shards.size(), " shard(s), this run has ",
                    reader.shards().size()));
    std::error_code ec;
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const std::string& s = reader.shards()[i];
      if (shards[i].at("name").get<std::string>() != fs::path(s).filename().string() ||
          shards[i].at("bytes").get<std::uintmax_t>() != fs::file_size(s, ec))
        throw bad(str("training shard ", i, " differs (checkpoint: ", shards[i].dump(),
                      ", now: ", s, ")"));
    }
    const nlohmann::json& ranks = j.at("data").at("ranks");
    // Every rank of the writer held the same position; a new layout takes rank 0's.
    const nlohmann::json& mine = ranks.at(
        static_cast<std::size_t>(rank) < ranks.size() ? static_cast<std::size_t>(rank) : 0);
    reader.set_position(
        {mine.at("shard").get<std::size_t>(), mine.at("offset").get<std::uint64_t>()});
    const nlohmann::json now = train_settings(o), then = j.at("train");
    // Rows per step (batch × grad_accum) must match for an exact continuation; how
    // they are split into micro-batches and ranks may change (resharding).
    const std::int64_t rows_then =
        then.at("batch").get<std::int64_t>() * then.at("grad_accum").get<std::int64_t>();
    if (rows_then != static_cast<std::int64_t>(o.batch) * o.grad_accum && rank == 0)
      log_warn("resume: ", rows_then, " rows per step (batch × grad_accum) in the checkpoint, now ",
               o.batch * o.grad_accum, " (the run will not match an uninterrupted one)");
    for (const auto& [key, value] : now.items())
      if (key != "steps" && key != "batch" && key != "grad_accum" && then.contains(key) &&
          then[key] != value && rank == 0)
        log_warn("resume: ", key, " was ", then[key].dump(), " in the checkpoint, now ",
                 value.dump(), " (the run will not match an uninterrupted one)");
    if (rank == 0)
      log_info("resume: ", ck.dir, " (step ", step, ", layout ", j.at("layout").dump(),
               ") → continuing at step ", step + 1, " of ", o.steps);
    return step;
  } catch (const nlohmann::json::exception& e) {
    throw input_error(str("checkpoint ", ck.dir, ": checkpoint.json: ", e.what()));
  }
}

void ckpt_prepare_fresh_run(const std::string& run_dir, bool overwrite) {
  const fs::path root = fs::path(run_dir) / "ckpt";
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  if (!overwrite)
    throw config_error(
        str(root.string(), " already holds checkpoints: refusing to start a new run over them"),
        "continue it with --resume, or pass --overwrite to replace the run");
  log_warn("train: --overwrite: removing the old run's checkpoints in ", root.string());
  fs::remove_all(root, ec);
  if (ec) throw io_error(str("cannot remove ", root.string(), ": ", ec.message()));
}

void metrics_keep_until(const std::string& path, std::int64_t step) {
  std::ifstream in(path);
  if (!in) return;  // a run that never wrote metrics
  std::string kept, line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).at("step").get<std::int64_t>() > step) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // a half-written last line of a killed run
    }
    kept += line + "\n";
  }
  file_write_atomic(path, kept.data(), kept.size());
}

StopSignals::StopSignals() {
  g_stop_signal.store(0);
  old_int_ = std::signal(SIGINT, on_stop_signal);
  old_term_ = std::signal(SIGTERM, on_stop_signal);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, old_int_ == SIG_ERR ? SIG_DFL : old_int_);
  std::signal(SIGTERM, old_term_ == SIG_ERR ? SIG_DFL : old_term_);
}

int StopSignals::received(comm::Communicator* c, int step) {
  std::int64_t sig = g_stop_signal.load();
  if (c != nullptr)
    c->all_reduce(std::span<std::int64_t>(&sig, 1), comm::ReduceOp::kMax,
                  str("step ", step + 1, " stop check"));
  return static_cast<int>(sig);
}

}  // namespace weft::train
