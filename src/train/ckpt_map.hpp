// Where one rank's parameter elements sit in the global model (tp = 1, every layer):
// the composition of the tensor-parallel split (model/param_layout.hpp TpSplit) and
// the pipeline stage's layer offset (model/gpt_model.hpp StageSpec). Checkpoints use
// it to name every piece a rank writes by its global tensor and element range (no
// gather: each rank writes its own elements) and to slice a global state for any
// layout; --on-nan uses it to name a non-finite gradient in global terms.
// Value type; pure functions; any thread.
#pragma once

#include <cstddef>
#include <vector>

#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "model/param_layout.hpp"

namespace weft::train {

// Local elements [local, local + count) of the rank's flat buffer are the global
// tensor `tensor`'s elements [global, global + count) (row-major, global shape).
struct CkptRun {
  std::size_t local = 0;
  std::size_t global = 0;
  std::size_t count = 0;
  int tensor = 0;  // ParamLayout index
};

class CkptMap {
 public:
  // The layout of `m` (its tp shard and pipeline stage) against `full`, the whole
  // model's config (equal to m.config() without pipeline stages).
  CkptMap(const model::GptModel& m, const model::GptConfig& full);
  // The same from parts: `local` = ParamLayout(stage config, tp.size).
  CkptMap(const model::ParamLayout& local, const model::GptConfig& full, model::TpShard tp,
          model::StageSpec stage, bool last_stage);

  // Runs covering local flat elements [begin, begin + count), ascending in both.
  // writer_only drops what another rank writes: replicated tensors off tp rank 0,
  // wte/wpe off the first stage, lnf off the last (copies of the owner's values).
  std::vector<CkptRun> runs(std::size_t begin, std::size_t count, bool writer_only) const;
  // Global flat offset (in ParamLayout(full)) of local flat offset `local`.
  std::size_t global_offset(std::size_t local) const;
  // Fills the rank's flat buffer (local layout, every element) from a global one.
  void local_from_global(const float* global, float* local) const;

  const model::ParamLayout& local_layout() const { return local_; }
  const model::ParamLayout& full_layout() const { return full_; }

 private:
  bool writes(int tensor) const;
  // The run holding local element e of tensor i (e in [0, local size)).
  CkptRun run_at(int tensor, std::size_t e) const;

  model::ParamLayout local_, full_;
  model::TpShard tp_;
  model::StageSpec stage_;
  bool last_stage_ = true;
};

}  // namespace weft::train
