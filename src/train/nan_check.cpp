// Locating non-finite losses and gradients. See nan_check.hpp.
#include "train/nan_check.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include "core/error.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/data_parallel.hpp"
#include "train/ckpt_map.hpp"

namespace weft::train {
namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

std::int64_t first_bad(const float* g, std::size_t begin, std::size_t count) {
  for (std::size_t i = begin; i < begin + count; ++i)
    if (!std::isfinite(g[i])) return static_cast<std::int64_t>(i);
  return kNone;
}

// "fcw (layer 1, element 7)": element e of tensor t (layers counted by t's layer size).
std::string describe_element(const model::ParamTensor& t, std::size_t e) {
  if (!t.per_layer) return str(t.name, " (element ", e, ")");
  return str(t.name, " (layer ", e / t.layer_size(), ", element ", e % t.layer_size(), ")");
}

}  // namespace

std::string describe_param_offset(const model::ParamLayout& layout, std::size_t offset) {
  for (const model::ParamTensor& t : layout.tensors())
    if (offset >= t.offset && offset < t.offset + t.size)
      return describe_element(t, offset - t.offset);
  return str("offset ", offset);
}

std::string nonfinite_report(const model::GptModel& m, parallel::DataParallel* dp, double loss,
                             comm::Communicator* group) {
  const float* g = m.grads();
  std::int64_t first = kNone;  // local flat offset
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
  // Global terms, the same on every rank whatever its stage: (tensor, element of the
  // global tensor) packed as tensor · 2^40 + element. For one tp shard and stage the
  // map is increasing, so the smallest local offset is the smallest global one.
  model::GptConfig whole = m.config();
  if (m.stage().layer_end > 0) whole.n_layer = m.stage().layer_end;
  const CkptMap map(m, whole);
  if (first != kNone) {
    const CkptRun r = map.runs(static_cast<std::size_t>(first), 1, false).front();
    first = (static_cast<std::int64_t>(r.tensor) << 40) + static_cast<std::int64_t>(r.global);
  }
  if (group == nullptr && dp != nullptr) group = &dp->comm();
  if (group != nullptr)
    group->all_reduce(std::span<std::int64_t>(&first, 1), comm::ReduceOp::kMin,
                      "non-finite gradient search");
  std::string out =
      std::isfinite(loss) ? str("loss is finite (", loss, ")") : str("loss is ", loss);
  if (first == kNone) return out + "; every gradient is finite";
  // Layer sizes do not depend on the layer count: any rank's full layout names it.
  const model::ParamTensor& t = map.full_layout().tensors()[static_cast<std::size_t>(first >> 40)];
  return str(out, "; first non-finite gradient: ",
             describe_element(t, static_cast<std::size_t>(first & ((std::int64_t{1} << 40) - 1))));
}

std::string nonfinite_grid_check(const model::GptModel& m, parallel::DataParallel* dp, double loss,
                                 double grad_norm, comm::Communicator& world, int step) {
  std::int64_t bad = std::isfinite(loss) && std::isfinite(grad_norm) ? 0 : 1;
  world.all_reduce(std::span<std::int64_t>(&bad, 1), comm::ReduceOp::kMax,
                   str("step ", step + 1, " non-finite flag"));
  if (bad == 0) return {};
  return nonfinite_report(m, dp, loss, &world);
}

}  // namespace weft::train
