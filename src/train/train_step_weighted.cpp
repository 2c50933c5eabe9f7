// TrainStep::run_weighted: one optimizer step on weighted, packed micro-batches (SFT).
// All micro-batches are fetched first so the step's total weight Σw (summed over DP
// ranks) is known before any backward: micro-batch m then contributes with
// grad_scale = Σw_m / Σw_total, which makes the gradient that of the step's exact
// weighted mean. See train_step.hpp.
#include <span>

#include "core/error.hpp"
#include "core/timer.hpp"
#include "parallel/data_parallel.hpp"
#include "train/train_step.hpp"

namespace weft::train {

StepStats TrainStep::run_weighted(int step, const MicroBatchSource& next_batch) {
  StepStats s;
  const std::size_t n = static_cast<std::size_t>(B_) * T_;
  if (wx_.empty()) {
    const std::size_t all = n * static_cast<std::size_t>(grad_accum_);
    wx_.allocate(all);
    wy_.allocate(all);
    wdoc_.allocate(all);
    ww_.allocate(all);
  }
  if (dp_) dp_->set_step(step);
  Stopwatch total;
  double fwd = 0.0, bwd = 0.0, opt = 0.0;
  double wsum = 0.0;  // this rank's Σw over the step
  for (int micro = 0; micro < grad_accum_; ++micro) {
    const std::size_t off = n * static_cast<std::size_t>(micro);
    next_batch({wx_.data() + off, wy_.data() + off, ww_.data() + off, wdoc_.data() + off});
    for (std::size_t i = 0; i < n; ++i) wsum += ww_.data()[off + i];
  }
  double total_w = wsum;
  if (dp_)
    dp_->comm().all_reduce(std::span<double>(&total_w, 1), comm::ReduceOp::kSum,
                           str("step ", step + 1, " loss weights"));
  {
    ScopedTimer t(&opt);
    model_.zero_grad();
  }
  double loss_w = 0.0;  // Σ_m loss_m · Σw_m over this rank's micro-batches
  for (int micro = 0; micro < grad_accum_; ++micro) {
    const std::size_t off = n * static_cast<std::size_t>(micro);
    double w_m = 0.0;
    for (std::size_t i = 0; i < n; ++i) w_m += ww_.data()[off + i];
    if (dp_) dp_->begin_micro(micro + 1 == grad_accum_);
    {
      ScopedTimer t(&fwd);
      model_.set_doc_starts(wdoc_.data() + off, B_, T_);
      const float scale = total_w > 0 ? static_cast<float>(w_m / total_w) : 0.0f;
      const float loss = model_.forward_train(wx_.data() + off, wy_.data() + off,
                                              ww_.data() + off, B_, T_, scale);
      loss_w += static_cast<double>(loss) * w_m;
    }
    ScopedTimer t(&bwd);
    model_.backward();
  }
  model_.clear_doc_starts();
  if (dp_) {
    ScopedTimer t(&bwd);
    dp_->finish_grads();
    dp_->comm().all_reduce(std::span<double>(&loss_w, 1), comm::ReduceOp::kSum,
                           str("step ", step + 1, " loss"));
  }
  s.loss = total_w > 0 ? loss_w / total_w : 0.0;
  {
    ScopedTimer t(&opt);
    apply_update(step, s);
  }
  if (dp_) s.ms_comm = dp_->take_exposed_ms();
  s.ms_forward = fwd * 1e3;
  s.ms_backward = bwd * 1e3;
  s.ms_optimizer = opt * 1e3;
  s.ms_total = total.ms();
  return s;
}

}  // namespace weft::train
