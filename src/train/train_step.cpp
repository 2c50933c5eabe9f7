// One timed training step. See train_step.hpp.
#include "train/train_step.hpp"

#include <cmath>

#include "core/timer.hpp"
#include "core/error.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "parallel/data_parallel.hpp"
#include "train/nan_check.hpp"

namespace weft::train {

TrainStep::TrainStep(model::GptModel& model, AdamWOptimizer& optimizer,
                     const cpu::AdamWConfig& adam, const LrSchedule& schedule, float grad_clip,
                     int B, int T, int grad_accum)
    : TrainStep(model, &optimizer, adam, schedule, grad_clip, B, T, grad_accum) {}

TrainStep::TrainStep(model::GptModel& model, AdamWOptimizer* optimizer,
                     const cpu::AdamWConfig& adam, const LrSchedule& schedule, float grad_clip,
                     int B, int T, int grad_accum)
    : model_(model), optimizer_(optimizer), adam_(adam), schedule_(schedule),
      grad_clip_(grad_clip), B_(B), T_(T), grad_accum_(grad_accum),
      x_(static_cast<std::size_t>(B) * T), y_(static_cast<std::size_t>(B) * T) {}

StepStats TrainStep::run(int step, const BatchSource& next_batch) {
  StepStats s;
  const int world = dp_ ? dp_->comm().size() : 1;
  if (dp_) dp_->set_step(step);
  double loss_w = 0.0, weight_sum = 0.0;  // Σ loss·w and Σ w over this rank's micro-batches
  Stopwatch total;
  double fwd = 0.0, bwd = 0.0, opt = 0.0;
  {
    ScopedTimer t(&opt);
    if (dp_) dp_->zero_grads(); else model_.zero_grad();  // ZeRO-2/3: own pieces only
  }
  // Each micro-batch's loss is scaled by 1/grad_accum: the gradient is the mean's.
  // Under DP every rank holds B/N of the rows (unweighted: equal token counts), so
  // the gradient of the global mean is the sum over ranks of 1/N of each local mean.
  const float scale = 1.0f / static_cast<float>(grad_accum_ * world);
  for (int micro = 0; micro < grad_accum_; ++micro) {
    next_batch(x_.data(), y_.data());
    if (dp_) dp_->begin_micro(micro + 1 == grad_accum_);
    {
      ScopedTimer t(&fwd);
      const float loss = model_.forward_train(x_.data(), y_.data(), nullptr, B_, T_, scale);
      s.loss += loss;
      loss_w += static_cast<double>(loss) * model_.last_weight_sum();
      weight_sum += model_.last_weight_sum();
    }
    ScopedTimer t(&bwd);
    model_.backward();
  }
  s.loss /= grad_accum_;
  if (dp_) {
    ScopedTimer t(&bwd);
    dp_->finish_grads();
    double sums[2] = {loss_w, weight_sum};
    dp_->comm().all_reduce(std::span<double>(sums, 2), comm::ReduceOp::kSum,
                           str("step ", step + 1, " loss"));
    s.loss = sums[0] / sums[1];
  }
  apply_update(step, s, &opt);
  if (dp_) s.ms_comm = dp_->take_exposed_ms();
  s.ms_forward = fwd * 1e3;
  s.ms_backward = bwd * 1e3;
  s.ms_optimizer = opt * 1e3;
  s.ms_total = total.ms();
  return s;
}

void TrainStep::apply_update(int step, StepStats& s, double* opt_s) {
  if (grad_hook_) grad_hook_(step, model_.grads());
  {
    ScopedTimer t(opt_s);
    s.grad_norm = std::sqrt(grad_sum_squares_ ? grad_sum_squares_()
                            : dp_ ? dp_->grad_sum_squares()
                                  : cpu::grad_sum_squares(model_.grads(), model_.num_params()));
    s.lr = schedule_.at(step);
    if (!std::isfinite(s.loss) || !std::isfinite(s.grad_norm)) {
      // Loss and norm are global, so every rank takes the same branch.
      s.nonfinite = nonfinite_report(model_, dp_, s.loss);
      if (!skip_nonfinite_)
        throw Error(ErrorKind::kRuntime,
                    str("step ", step + 1, ": ", s.nonfinite, " (--on-nan stop)"),
                    "lower --lr, check the data, resume from the last checkpoint, or pass --on-nan skip");
      s.skipped = true;
    }
  }
  if (s.skipped) return;
  ScopedTimer t(opt_s);
  const float clip = cpu::grad_clip_scale(s.grad_norm, grad_clip_);
  cpu::AdamWConfig c = adam_;
  c.lr = s.lr;
  if (dp_ && dp_->zero() >= 1) {
    dp_->optimizer_step(c, clip);
  } else {
    WEFT_CHECK(optimizer_ != nullptr, "TrainStep without an optimizer");
    // bf16: the update also writes the model's bf16 weight copy (one pass, not two).
    float* params = model_.params();
    cpu::bf16* params_bf16 = model_.params_bf16_for_update();
    optimizer_->step(params, model_.grads(), c, clip, params_bf16);
  }
}

}  // namespace weft::train
