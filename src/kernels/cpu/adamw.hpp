// AdamW, fused single pass, matching torch.optim.AdamW (PyTorch 1.13, foreach=False,
// amsgrad=False, maximize=False) in float: decoupled weight decay p *= 1 - lr·wd where a
// range says so (2-D weights only), bias correction, denom = √v/√(1-β2^t) + eps.
// Built with -ffp-contract=off (CMakeLists.txt) so no fma appears where PyTorch has none.
// Call from one thread (OpenMP inside); deterministic for any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/cpu/bf16.hpp"

namespace weft::cpu {

// Hyperparameters in double, as Python floats are: derived constants (1 - β1, lr·wd,
// bias corrections) are formed in double and rounded to float once, as PyTorch does.
struct AdamWConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

// A contiguous run of parameters, offsets relative to the arrays passed to adamw_update.
struct AdamWRange {
  std::size_t offset = 0;
  std::size_t count = 0;
  bool decay = false;  // apply weight decay (true for 2-D weight matrices only)
};

// params, m, v (n) updated in place; grads (n) read, each element multiplied by grad_scale
// first (the clip factor from grad_clip_scale, 1 for none); step t >= 1 (bias correction).
// Only elements inside `ranges` are touched; ranges must not overlap (checked).
// params_bf16 (n), when not nullptr, also receives f32_to_bf16 of each updated param:
// bf16 training gets its weight copy from this pass instead of a second read of params.
void adamw_update(float* params, float* m, float* v, const float* grads, std::size_t n,
                  std::span<const AdamWRange> ranges, const AdamWConfig& config, int64_t t,
                  float grad_scale, bf16* params_bf16 = nullptr);

}  // namespace weft::cpu
