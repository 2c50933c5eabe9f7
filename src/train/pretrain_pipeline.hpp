// The pipeline-parallel pieces of `weft train` (pretrain.cpp calls them when
// --pp > 1): option checks, the PipelineStep, the
// start report (stage split, activation memory per stage) and the end report
// (measured bubble vs theory, the --trace file). One rank thread calls them.
#pragma once

#include <memory>
#include <vector>

#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/trace.hpp"
#include "train/pipeline_step.hpp"
#include "train/pretrain.hpp"

namespace weft::train {

// Throws a config error naming the option when the pipeline flags cannot work.
void check_pipeline_options(const PretrainOptions& o);

// m: --micro-batches, else --grad-accum when > 1, else --pp.
int pipeline_micro_batches(const PretrainOptions& o);

std::unique_ptr<PipelineStep> make_pipeline_step(const PretrainOptions& o, model::GptModel& m,
                                                 AdamWOptimizer* opt, const cpu::AdamWConfig& adam,
                                                 const LrSchedule& schedule, int B,
                                                 comm::Communicator& pp, comm::Communicator& world);

// Collective over pp: logs the stage split and activation memory per stage.
void log_pipeline_start(const PretrainOptions& o, model::GptModel& m, comm::Communicator& pp,
                        int dp_size, int m_micro);

// Collective over world: the last step's bubble fraction averaged over ranks.
double mean_bubble(const PipelineStep& step, comm::Communicator& world, int step_index);

// Collective over world: logs the median measured bubble next to (pp-1)/(m+pp-1)
// and writes the --trace file when a tracer is given.
void finish_pipeline(const PretrainOptions& o, const PipelineStep& step, comm::Communicator& pp,
                     comm::Communicator& world, parallel::Tracer* tracer,
                     const std::vector<double>& bubbles);

}  // namespace weft::train
