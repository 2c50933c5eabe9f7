// One optimizer step of pipeline-parallel training on one stage (docs/parallel.md
// "Pipeline parallel"): reads the step's m micro-batches, lets PipelineRunner drive
// the stage model through the schedule (GPipe or 1F1B; forward/backward callbacks),
// sums the tied embedding's gradient between the first and last stage, then the
// global grad norm, clipping and AdamW as TrainStep does. With a DataParallel
// attached the stage's gradients are also reduced over the dp axis (ZeRO 0/1/2).
// Equal to one rank with grad_accum = m on the same global batch.
// Holds references to the model, optimizer and communicators (caller-owned). One
// rank thread drives it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/pipeline_runner.hpp"
#include "parallel/trace.hpp"
#include "train/adamw_optimizer.hpp"
#include "train/lr_schedule.hpp"
#include "train/train_step.hpp"

namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

struct PipelineStepOptions {
  parallel::PipeSchedule schedule = parallel::PipeSchedule::k1F1B;
  int micro_batches = 1;  // m
  int B = 1, T = 1;       // this rank's rows of one micro-batch, sequence length
};

class PipelineStep {
 public:
  // pp: the pipeline axis (rank = stage); world: every rank (loss). The model is this
  // stage's (model.stage()); its activation slots are set here from the schedule.
  PipelineStep(model::GptModel& model, AdamWOptimizer* optimizer, const cpu::AdamWConfig& adam,
               const LrSchedule& schedule, float grad_clip, const PipelineStepOptions& options,
               comm::Communicator& pp, comm::Communicator& world);
  // dp: the stage's data-parallel group (owned by the caller; nullptr = none).
  void set_data_parallel(parallel::DataParallel* dp) { dp_ = dp; }
  void set_tracer(parallel::Tracer* tracer);
  // The stage's Σ g² when tp > 1 (tensor_parallel.hpp); empty: DP's or the plain sum.
  void set_grad_sum_squares(std::function<double()> fn) { grad_sum_squares_ = std::move(fn); }
  // --on-nan: a non-finite loss or gradient on ANY rank (a world all-reduce of a
  // flag) skips the update on every stage (true) or throws on every rank (false,
  // default); StepStats::nonfinite names the first tensor (train/nan_check.hpp).
  void set_skip_nonfinite(bool skip) { skip_nonfinite_ = skip; }
  // Test hook: called with (step, grads) once the stage's gradients are final.
  void set_grad_hook(std::function<void(int, float*)> hook) { grad_hook_ = std::move(hook); }
  // Step `step` (0-based); next_batch is called m times (micro-batch order) on every rank.
  StepStats run(int step, const BatchSource& next_batch);
  // Timing of the last step's schedule on this stage (bubble = 1 - compute / wall).
  const parallel::PipeTimes& last_times() const { return times_; }
  int slots() const { return runner_.slots(); }

 private:
  void sum_tied_embedding_grad(int step);
  void share_tied_embedding(int step);

  model::GptModel& model_;
  AdamWOptimizer* optimizer_;
  parallel::DataParallel* dp_ = nullptr;
  parallel::Tracer* tracer_ = nullptr;
  std::function<double()> grad_sum_squares_;
  std::function<void(int, float*)> grad_hook_;
  bool skip_nonfinite_ = false;
  cpu::AdamWConfig adam_;
  LrSchedule schedule_;
  float grad_clip_;
  PipelineStepOptions o_;
  comm::Communicator& pp_;
  comm::Communicator& world_;
  parallel::PipelineRunner runner_;
  AlignedBuffer<std::int32_t> x_, y_;  // (m, B, T) each: the step's micro-batches
  AlignedBuffer<float> wte_buf_;       // (Vp, C) first stage: the last stage's wte gradient
  parallel::PipeTimes times_;
};

}  // namespace weft::train
