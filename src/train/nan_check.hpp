// Where a non-finite value first appeared in a step: the loss, or the first
// gradient tensor (ParamLayout order, with its layer) holding a NaN/Inf. Used by
// TrainStep for --on-nan. Collective under data parallelism (every rank scans the
// gradient it holds valid, the smallest offset wins). Driving thread only.
#pragma once

#include <cstddef>
#include <string>

#include "model/gpt_model.hpp"

namespace weft::parallel {
class DataParallel;
}

namespace weft::train {

// "loss is nan; first non-finite gradient: fcw (layer 1, element 0)" or similar.
std::string nonfinite_report(const model::GptModel& m, parallel::DataParallel* dp, double loss);
// "fcw (layer 1, element 7)" for a flat offset.
std::string describe_param_offset(const model::ParamLayout& layout, std::size_t offset);

}  // namespace weft::train
