// Warmup + cosine learning-rate schedule. See lr_schedule.hpp.
#include "train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace weft::train {

double LrSchedule::at(int step) const {
  const double min_lr = max_lr * min_lr_frac;
  if (step < warmup_steps) return max_lr * (step + 1) / warmup_steps;
  const int decay_steps = total_steps - warmup_steps;
  if (decay_steps <= 1) return max_lr;
  const double r = std::clamp(static_cast<double>(step - warmup_steps) / (decay_steps - 1), 0.0, 1.0);
  return min_lr + 0.5 * (1.0 + std::cos(M_PI * r)) * (max_lr - min_lr);
}

}  // namespace weft::train
