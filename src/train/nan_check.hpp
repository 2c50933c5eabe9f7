// Where a non-finite value first appeared in a step: the loss, or the first
// gradient tensor (ParamLayout order, with its GLOBAL layer and element: a pipeline
// stage's or tp shard's offsets are mapped by train/ckpt_map.hpp) holding a NaN/Inf.
// Used by TrainStep and PipelineStep for --on-nan. Collective (every rank scans the
// gradient it holds valid, the smallest global offset wins). Driving thread only.
#pragma once

#include <cstddef>
#include <string>

#include "model/gpt_model.hpp"

namespace weft::comm {
class Communicator;
}
namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

// "loss is nan; first non-finite gradient: fcw (layer 1, element 0)" or similar.
// Collective over `group` (default: dp's communicator; none without dp).
std::string nonfinite_report(const model::GptModel& m, parallel::DataParallel* dp, double loss,
                             comm::Communicator* group = nullptr);
// Collective over `world` (every rank of a dp × tp × pp grid): an all-reduce of a
// "loss or gradient norm not finite here" flag, so all ranks agree even when the
// NaN is on one stage only; then "" (all finite) or nonfinite_report over world.
std::string nonfinite_grid_check(const model::GptModel& m, parallel::DataParallel* dp, double loss,
                                 double grad_norm, comm::Communicator& world, int step);
// "fcw (layer 1, element 7)" for a flat offset.
std::string describe_param_offset(const model::ParamLayout& layout, std::size_t offset);

}  // namespace weft::train
