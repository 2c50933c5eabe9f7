// The checkpoint side of `weft train` (train/pretrain.cpp): checkpoint.json
// contents of a pretraining run, checking a checkpoint against the run that resumes
// it, trimming metrics.jsonl to the resumed step, and SIGINT/SIGTERM → "finish the
// step, save, exit 0". Called by the rank threads of pretrain; StopSignals is
// created once per pretrain() call on the main thread.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "data/shard_reader_simple.hpp"
#include "model/gpt_config.hpp"
#include "train/checkpoint.hpp"
#include "train/pretrain.hpp"

namespace weft::comm {
class Communicator;
}

namespace weft::train {

// checkpoint.json without "files" for a run at `step` (steps done). Every rank's
// data position is the shared reader's (each rank reads the whole global batch).
// Under pipeline parallelism o.grad_accum should be the micro-batch count.
nlohmann::json pretrain_ckpt_meta(const PretrainOptions& o, const model::GptConfig& cfg, int dp,
                                  int tp, std::int64_t step, std::int64_t adam_steps,
                                  const data::ShardReaderSimple& reader, int pp = 1);

// Checks `ck` against this run (model, data shards, global batch) and returns the
// step to continue from; sets the reader to the checkpoint's data position.
// Differences that change the numbers but not correctness are logged as warnings.
std::int64_t pretrain_ckpt_apply(const Checkpoint& ck, const PretrainOptions& o, int rank,
                                 data::ShardReaderSimple& reader);

// A fresh run (no --resume) into RUN_DIR: refuses when RUN_DIR/ckpt holds
// checkpoints, unless `overwrite` (then they are removed: the user replaces the run).
void ckpt_prepare_fresh_run(const std::string& run_dir, bool overwrite);

// Rewrites metrics.jsonl keeping only the lines of steps <= step (atomically).
void metrics_keep_until(const std::string& path, std::int64_t step);

// Installs SIGINT/SIGTERM handlers that only set a flag; restores the old ones.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // The signal received (0 = none). Collective under DP: any rank's signal counts,
  // so all ranks stop after the same step.
  static int received(comm::Communicator* c, int step);

 private:
  void (*old_int_)(int) = nullptr;
  void (*old_term_)(int) = nullptr;
};

}  // namespace weft::train
