// Gradient norm under tensor parallelism with a ZeRO-sharded dp axis. See tp_zero_norm.hpp.
#include "parallel/tp_zero_norm.hpp"

#include <span>

#include "core/error.hpp"
#include "kernels/cpu/grad_norm.hpp"

namespace weft::parallel {

double tp_zero_grad_sum_squares(DataParallel& dp, const model::GptModel& model,
                                comm::Communicator& tp) {
  WEFT_CHECK(dp.zero() >= 1, "tp_zero_grad_sum_squares is for ZeRO >= 1");
  const DpPlan& plan = dp.plan();
  const int dp_rank = dp.comm().rank();
  const float* g = model.grads();
  double s = 0.0;
  for (const DpBucket& bk : plan.buckets())
    for (const DpRange& r : bk.ranges) {
      const bool replicated =
          model.layout()[static_cast<model::ParamId>(r.tensor)].tp_split == model::TpSplit::kReplicated;
      if (replicated && tp.rank() != 0) continue;  // equal on every tp rank: count once
      s += cpu::grad_sum_squares(g + plan.piece_begin(r, dp_rank), plan.piece(r));
      if (dp_rank == 0) s += cpu::grad_sum_squares(g + plan.tail_begin(r), r.end - plan.tail_begin(r));
    }
  dp.comm().all_reduce(std::span<double>(&s, 1), comm::ReduceOp::kSum, "tp x ZeRO: grad norm (dp)");
  tp.all_reduce(std::span<double>(&s, 1), comm::ReduceOp::kSum, "tp x ZeRO: grad norm (tp)");
  return s;
}

}  // namespace weft::parallel
