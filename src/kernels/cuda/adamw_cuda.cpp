// AdamW over parameter ranges: forms the scalars as cpu::adamw_update does, then launches
// one kernel per range. See adamw.hpp.
#include <cmath>

#include "kernels/cuda/adamw.hpp"
#include "kernels/cuda/device.hpp"

namespace weft::cuda {

template <typename T>
void adamw_update(float* params, float* m, float* v, const float* grads, T* params_copy,
                  std::span<const cpu::AdamWRange> ranges, const cpu::AdamWConfig& config,
                  int64_t t, float grad_scale, cudaStream_t stream) {
  const double step = static_cast<double>(t);
  const double bias_correction1 = 1.0 - std::pow(config.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(config.beta2, step);
  AdamWScalars s{};
  s.beta1 = static_cast<float>(config.beta1);
  s.beta2 = static_cast<float>(config.beta2);
  s.one_minus_beta1 = static_cast<float>(1.0 - config.beta1);
  s.one_minus_beta2 = static_cast<float>(1.0 - config.beta2);
  s.neg_step_size = static_cast<float>(-(config.lr / bias_correction1));
  s.bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  s.eps = static_cast<float>(config.eps);
  s.grad_scale = grad_scale;
  const float decay_factor = static_cast<float>(1.0 - config.lr * config.weight_decay);
  for (const cpu::AdamWRange& r : ranges) {
    s.decay = r.decay ? decay_factor : 1.0f;
    const std::size_t o = r.offset;
    adamw_range<T>(params + o, m + o, v + o, grads + o, params_copy ? params_copy + o : nullptr,
                   r.count, s, stream);
  }
}

template void adamw_update<float>(float*, float*, float*, const float*, float*, std::span<const cpu::AdamWRange>, const cpu::AdamWConfig&, int64_t, float, cudaStream_t);
template void adamw_update<bf16>(float*, float*, float*, const float*, bf16*, std::span<const cpu::AdamWRange>, const cpu::AdamWConfig&, int64_t, float, cudaStream_t);

}  // namespace weft::cuda
