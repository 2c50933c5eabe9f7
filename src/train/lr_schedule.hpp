// Learning-rate schedule: linear warmup to max_lr, then cosine decay to a floor
// (max_lr · min_lr_frac) at the last step, as llm.c and nanoGPT do. Value type.
#pragma once

namespace weft::train {

struct LrSchedule {
  double max_lr = 3e-4;
  int warmup_steps = 0;
  int total_steps = 1;
  double min_lr_frac = 0.0;

  // Learning rate of step s (0-based): warmup gives max_lr·(s+1)/warmup for s <
  // warmup; then 0.5·(1+cos(π·r)) between max_lr and the floor, r = (s-warmup)/(N-warmup).
  double at(int step) const;
};

}  // namespace weft::train
