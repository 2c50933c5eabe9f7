// Locating non-finite losses and gradients. See nan_check.hpp.
#include "train/nan_check.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "core/error.hpp"
#include "parallel/data_parallel.hpp"

namespace weft::train {
namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

std::int64_t first_bad(const float* g, std::size_t begin, std::size_t count) {
  for (std::size_t i = begin; i < begin + count; ++i)
    if (!std::isfinite(g[i])) return static_cast<std::int64_t>(i);
  return kNone;
}

}  // namespace

std::string describe_param_offset(const model::ParamLayout& layout, std::size_t offset) {
  for (const model::ParamTensor& t : layout.tensors()) {
    if (offset < t.offset || offset >= t.offset + t.size) continue;
    const std::size_t local = offset - t.offset;
    if (!t.per_layer) return str(t.name, " (element ", local, ")");
    return str(t.name, " (layer ", local / t.layer_size(), ", element ", local % t.layer_size(),
               ")");
  }
  return str("offset ", offset);
}

std::string nonfinite_report(const model::GptModel& m, parallel::DataParallel* dp, double loss) {
  const float* g = m.grads();
  std::int64_t first = kNone;
  if (dp == nullptr || dp->zero() == 0) {
    first = first_bad(g, 0, m.num_params());
  } else {  // only the own pieces and the tails hold the summed gradient
    const parallel::DpPlan& plan = dp->plan();
    const int rank = dp->comm().rank();
    for (const parallel::DpBucket& bk : plan.buckets())
      for (const parallel::DpRange& r : bk.ranges) {
        first = std::min(first, first_bad(g, plan.piece_begin(r, rank), plan.piece(r)));
        first = std::min(first, first_bad(g, plan.tail_begin(r), r.end - plan.tail_begin(r)));
      }
  }
  if (dp != nullptr)
    dp->comm().all_reduce(std::span<std::int64_t>(&first, 1), comm::ReduceOp::kMin,
                          "non-finite gradient search");
  std::string out =
      std::isfinite(loss) ? str("loss is finite (", loss, ")") : str("loss is ", loss);
  if (first == kNone) return out + "; every gradient is finite";
  return str(out, "; first non-finite gradient: ",
             describe_param_offset(m.layout(), static_cast<std::size_t>(first)));
}

}  // namespace weft::train
