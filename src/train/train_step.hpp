// One optimizer step of single-rank training: grad_accum micro-batches of
// forward_train + backward, global grad-norm clipping, AdamW with the scheduled LR,
// timed per phase. Shared by `weft train` and bench/bench_train. Holds references
// to the model and optimizer (owned by the caller) and its own (B,T) token buffers,
// so a step allocates nothing. One thread drives it. With a DataParallel attached
// (set_data_parallel) the same step runs as one DP rank: B is then this rank's
// slice of the global batch, gradients are reduced through the model's hooks, the
// loss is the weighted mean over the global batch and the norm the global norm.
#pragma once

#include <cstdint>
#include <functional>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/lr_schedule.hpp"

namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

struct StepStats {
  double loss = 0.0;       // mean over the micro-batches
  double grad_norm = 0.0;  // before clipping
  double lr = 0.0;
  double ms_forward = 0.0, ms_backward = 0.0, ms_optimizer = 0.0, ms_total = 0.0;
  double ms_comm = 0.0;    // communication waited for (not overlapped), DP only
};

// Fills x (B,T) and y (B,T) with the next micro-batch.
using BatchSource = std::function<void(std::int32_t* x, std::int32_t* y)>;

// A micro-batch with per-token loss weights and packed documents (SFT): buffers owned
// by TrainStep that the source fills.
struct MicroBatch {
  std::int32_t* x;          // (B,T) input tokens
  std::int32_t* y;          // (B,T) targets (any value in [0, V) where the weight is 0)
  float* weights;           // (B,T) loss weights (SFT: 1 on assistant targets, else 0)
  std::int32_t* doc_start;  // (B,T) first position of each token's document (GptModel::set_doc_starts)
};
using MicroBatchSource = std::function<void(const MicroBatch&)>;

class TrainStep {
 public:
  TrainStep(model::GptModel& model, AdamWOptimizer& optimizer, const cpu::AdamWConfig& adam,
            const LrSchedule& schedule, float grad_clip, int B, int T, int grad_accum);
  // As above; optimizer may be nullptr when the DataParallel owns it (ZeRO >= 1).
  TrainStep(model::GptModel& model, AdamWOptimizer* optimizer, const cpu::AdamWConfig& adam,
            const LrSchedule& schedule, float grad_clip, int B, int T, int grad_accum);
  // Runs as one DP rank of `dp` (owned by the caller; nullptr = single rank).
  void set_data_parallel(parallel::DataParallel* dp) { dp_ = dp; }
  // Runs step `step` (0-based, for the schedule).
  StepStats run(int step, const BatchSource& next_batch);
  // As run(), for weighted, packed micro-batches (train_step_weighted.cpp). The loss
  // is Σ w·loss / Σ w over the whole step — every micro-batch of every DP rank — so a
  // DP run equals one rank on the same rows however the weights fall. The source is
  // called for all grad_accum micro-batches before the first forward.
  StepStats run_weighted(int step, const MicroBatchSource& next_batch);

 private:
  model::GptModel& model_;
  AdamWOptimizer* optimizer_;
  parallel::DataParallel* dp_ = nullptr;
  cpu::AdamWConfig adam_;
  LrSchedule schedule_;
  float grad_clip_;
  int B_, T_, grad_accum_;
  // Clips, steps the optimizer (or DP's ZeRO shard) and fills s.grad_norm, s.lr.
  void apply_update(int step, StepStats& s);

  AlignedBuffer<std::int32_t> x_, y_;  // (B, T) each
  // run_weighted: (grad_accum, B, T) each, allocated on first use.
  AlignedBuffer<std::int32_t> wx_, wy_, wdoc_;
  AlignedBuffer<float> ww_;
};

}  // namespace weft::train
