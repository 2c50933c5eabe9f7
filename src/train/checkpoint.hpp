// weft checkpoints (docs/formats.md "weft checkpoints", docs/training.md
// "Checkpoints and resume"): RUN_DIR/ckpt/step_N/ holds one rank file per rank
// (train/ckpt_file.hpp) and checkpoint.json (config, layout, step, data position of
// every rank, RNG, per-file size + SHA-256, and a SHA-256 of itself). Saving is
// collective: every rank writes its own slice into a temporary directory, rank 0
// writes checkpoint.json, renames the directory into place, then updates `latest`
// and prunes to the newest K. Loading verifies everything first, assembles the
// global tensors and re-slices them for the loading layout (any dp × tp × pp grid,
// any ZeRO stage). Called by the thread that drives a rank; returned objects own their data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/aligned_buffer.hpp"
#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/ckpt_file.hpp"

namespace weft::comm {
class Communicator;
}
namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

inline constexpr int kCkptVersion = 1;

// ---- what one rank holds (ckpt_shard.cpp) -----------------------------------

// This rank's pieces of params / adam_m / adam_v under its layout, named by their
// GLOBAL tensors (full model, tp = 1) and element ranges (train/ckpt_map.hpp): the
// whole model on one rank; the DP owner pieces (ZeRO ownership, tails on dp rank 0)
// under data parallelism, whatever the ZeRO stage; of a tensor-parallel shard, the
// split tensors' slices, replicated tensors from tp rank 0 only; of a pipeline stage,
// its layers at their global offsets, wte/wpe from the first stage, lnf from the
// last. So every element is written once, by its owner, with no gather. Pointers
// into the model, optimizer or DataParallel (kept alive by the caller). Not collective.
// full_cfg: the whole model's config (m.config() unless m is a pipeline stage).
std::vector<CkptTensor> ckpt_rank_tensors(const model::GptModel& m, AdamWOptimizer* opt,
                                          parallel::DataParallel* dp,
                                          const model::GptConfig& full_cfg);
// AdamW step count of whichever object holds the optimizer.
std::int64_t ckpt_adam_steps(const AdamWOptimizer* opt, const parallel::DataParallel* dp);

// ---- saving (ckpt_save.cpp) ------------------------------------------------------

struct CkptSaveOptions {
  std::string run_dir;                 // checkpoints go to run_dir/ckpt/step_N
  int keep = 3;                        // newest K step directories kept
  std::int64_t fail_after_bytes = -1;  // test hook: rank files fail as on a full disk
};

// Collective (every rank of c, or c == nullptr for one rank). meta: checkpoint.json
// without "files" (rank 0's is written). Returns the directory written. If any rank
// fails, the temporary directory is removed, the previous checkpoint is untouched,
// and every rank throws weft::Error (kIo) saying so.
std::string ckpt_save(const CkptSaveOptions& options, std::int64_t step, nlohmann::json meta,
                      const std::vector<CkptTensor>& mine, comm::Communicator* c);

// ---- loading (ckpt_load.cpp) -----------------------------------------------------

struct Checkpoint {
  std::string dir;
  nlohmann::json meta;              // checkpoint.json
  std::vector<CkptRankFile> files;  // indexes of every rank file
};

// A step directory from `path`: a step directory itself, or a directory holding
// `latest` (RUN_DIR/ckpt) or ckpt/latest (RUN_DIR). Throws kInput when none.
std::string ckpt_resolve(const std::string& path);
// Reads checkpoint.json and verifies its self-checksum, every rank file's presence,
// size and SHA-256 and its index. Throws kInput naming the file and the reason;
// never modifies or deletes anything.
Checkpoint ckpt_open(const std::string& step_dir);
model::GptConfig ckpt_model_config(const Checkpoint& ck);

// The global flat buffers (ParamLayout order, num_params floats each).
struct CkptFullState {
  AlignedBuffer<float> params, m, v;
  std::int64_t adam_steps = 0;
};
// Assembles params (and the AdamW moments when `optimizer`) from every rank file;
// each tensor must be covered exactly once (else kInput naming tensor and range).
CkptFullState ckpt_assemble(const Checkpoint& ck, const model::ParamLayout& layout, bool optimizer);
// Puts the global moments into this rank's optimizer state (opt, or dp's ZeRO
// shard), sliced for m's pipeline stage and tp shard (full: the whole model's config).
void ckpt_restore_optimizer(const CkptFullState& s, const model::GptModel& m,
                            const model::GptConfig& full, AdamWOptimizer* opt,
                            parallel::DataParallel* dp);

// checkpoint.json helpers shared by save and load.
std::string ckpt_json_checksum(nlohmann::json meta);  // SHA-256 of meta minus "json_sha256"
std::string ckpt_rank_file_name(int rank);            // "rank_00003.bin"

}  // namespace weft::train
