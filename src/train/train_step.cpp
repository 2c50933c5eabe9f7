// One timed training step. See train_step.hpp.
#include "train/train_step.hpp"

#include <cmath>

#include "core/timer.hpp"
#include "kernels/cpu/grad_norm.hpp"

namespace weft::train {

TrainStep::TrainStep(model::GptModel& model, AdamWOptimizer& optimizer,
                     const cpu::AdamWConfig& adam, const LrSchedule& schedule, float grad_clip,
                     int B, int T, int grad_accum)
    : model_(model), optimizer_(optimizer), adam_(adam), schedule_(schedule),
      grad_clip_(grad_clip), B_(B), T_(T), grad_accum_(grad_accum),
      x_(static_cast<std::size_t>(B) * T), y_(static_cast<std::size_t>(B) * T) {}

StepStats TrainStep::run(int step, const BatchSource& next_batch) {
  StepStats s;
  Stopwatch total;
  double fwd = 0.0, bwd = 0.0, opt = 0.0;
  {
    ScopedTimer t(&opt);
    model_.zero_grad();
  }
  // Each micro-batch's loss is scaled by 1/grad_accum: the gradient is the mean's.
  const float scale = 1.0f / static_cast<float>(grad_accum_);
  for (int micro = 0; micro < grad_accum_; ++micro) {
    next_batch(x_.data(), y_.data());
    {
      ScopedTimer t(&fwd);
      s.loss += model_.forward_train(x_.data(), y_.data(), nullptr, B_, T_, scale);
    }
    ScopedTimer t(&bwd);
    model_.backward();
  }
  s.loss /= grad_accum_;
  {
    ScopedTimer t(&opt);
    s.grad_norm = std::sqrt(cpu::grad_sum_squares(model_.grads(), model_.num_params()));
    const float clip = cpu::grad_clip_scale(s.grad_norm, grad_clip_);
    s.lr = schedule_.at(step);
    cpu::AdamWConfig c = adam_;
    c.lr = s.lr;
    optimizer_.step(model_.params(), model_.grads(), c, clip);
  }
  s.ms_forward = fwd * 1e3;
  s.ms_backward = bwd * 1e3;
  s.ms_optimizer = opt * 1e3;
  s.ms_total = total.ms();
  return s;
}

}  // namespace weft::train
