// Pipeline-parallel pieces of `weft train`. See pretrain_pipeline.hpp.
#include "train/pretrain_pipeline.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"
#include "core/log.hpp"
#include "train/pipeline_setup.hpp"

namespace weft::train {

void check_pipeline_options(const PretrainOptions& o) {
  if (o.pp < 1) throw config_error(str("--pp = ", o.pp, " must be at least 1"));
  if (o.micro_batches < 0)
    throw config_error(str("--micro-batches = ", o.micro_batches, " must be >= 0"));
  parallel::parse_pipe_schedule(o.schedule);
  if (o.pp == 1) {
    if (!o.trace.empty()) throw config_error("--trace records a pipeline: it needs --pp >= 2");
    if (o.micro_batches > 0)
      throw config_error("--micro-batches is for --pp >= 2 (one rank: use --grad-accum)");
    return;
  }
  if (o.micro_batches > 0 && o.grad_accum > 1 && o.micro_batches != o.grad_accum)
    throw config_error(str("--micro-batches ", o.micro_batches, " and --grad-accum ", o.grad_accum,
                           " disagree: with --pp the micro-batches are the accumulation"),
                       "give one of them");
  if (o.zero > 2)
    throw config_error(str("--zero ", o.zero, " with --pp ", o.pp,
                           ": pipeline runs support ZeRO 0, 1 and 2 (ZeRO-3 would gather every "
                           "stage's parameters per micro-batch); use --zero 2 or less"));
}

int pipeline_micro_batches(const PretrainOptions& o) {
  if (o.micro_batches > 0) return o.micro_batches;
  return o.grad_accum > 1 ? o.grad_accum : o.pp;
}

std::unique_ptr<PipelineStep> make_pipeline_step(const PretrainOptions& o, model::GptModel& m,
                                                 AdamWOptimizer* opt, const cpu::AdamWConfig& adam,
                                                 const LrSchedule& schedule, int B,
                                                 comm::Communicator& pp,
                                                 comm::Communicator& world) {
  PipelineStepOptions po;
  po.schedule = parallel::parse_pipe_schedule(o.schedule);
  po.micro_batches = pipeline_micro_batches(o);
  po.B = B;
  po.T = o.seq;
  return std::make_unique<PipelineStep>(m, opt, adam, schedule, o.grad_clip, po, pp, world);
}

void log_pipeline_start(const PretrainOptions& o, model::GptModel& m, comm::Communicator& pp,
                        int dp_size, int m_micro) {
  const std::string mem = pipeline_memory_report(m, pp);
  log_info("train: pipeline ", pp.size(), " stages × ", dp_size, " data-parallel, schedule ",
           o.schedule, ", ", m_micro, " micro-batches per step; ", mem);
}

double mean_bubble(const PipelineStep& step, comm::Communicator& world, int step_index) {
  double b = step.last_times().bubble();
  world.all_reduce(std::span<double>(&b, 1), comm::ReduceOp::kSum,
                   str("step ", step_index + 1, " bubble"));
  return b / world.size();
}

void finish_pipeline(const PretrainOptions& o, const PipelineStep& /*step*/, comm::Communicator& pp,
                     comm::Communicator& world, parallel::Tracer* tracer,
                     const std::vector<double>& bubbles) {
  // Median over the steps after the first (the first pays page faults and warm-up).
  std::vector<double> v(bubbles.size() > 1 ? bubbles.begin() + 1 : bubbles.begin(), bubbles.end());
  std::sort(v.begin(), v.end());
  const double measured = v.empty() ? 0.0 : v[v.size() / 2];
  const double theory = parallel::pipe_bubble_theory(pp.size(), pipeline_micro_batches(o));
  if (world.rank() == 0 && !o.quiet)
    std::printf(
        "pipeline | %s pp=%d m=%d | bubble measured %.3f (median over steps, mean over "
        "ranks) | theory (pp-1)/(m+pp-1) = %.3f\n",
        o.schedule.c_str(), pp.size(), pipeline_micro_batches(o), measured, theory);
  log_info("train: pipeline bubble measured ", measured, " vs theory ", theory);
  if (tracer != nullptr) {
    tracer->write(world, o.trace, str("rank ", world.rank(), " (pp stage ", pp.rank(), ")"));
    log_info("train: trace of ", world.size(), " ranks written to ", o.trace,
             " (open in ui.perfetto.dev or chrome://tracing)");
  }
}

}  // namespace weft::train
