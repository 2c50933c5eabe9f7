// Fused AdamW matching torch.optim.AdamW's single-tensor path (see adamw.hpp).
#include "kernels/cpu/adamw.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace weft::cpu {

void adamw_update(float* params, float* m, float* v, const float* grads, std::size_t n,
                  std::span<const AdamWRange> ranges, const AdamWConfig& config, int64_t t,
                  float grad_scale, bf16* params_bf16) {
  WEFT_CHECK(t >= 1, "AdamW step t=", t, " (must start at 1)");
  {
    // Ranges inside [0, n) and disjoint (sorted copy; few dozen entries).
    std::vector<AdamWRange> sorted(ranges.begin(), ranges.end());
    std::sort(sorted.begin(), sorted.end(),
              [](const AdamWRange& a, const AdamWRange& b) { return a.offset < b.offset; });
    std::size_t end = 0;
    for (const AdamWRange& r : sorted) {
      WEFT_CHECK(r.offset >= end, "AdamW ranges overlap at offset ", r.offset);
      WEFT_CHECK(r.offset + r.count <= n, "AdamW range [", r.offset, ", +", r.count,
                 ") beyond n=", n);
      end = r.offset + r.count;
    }
  }
  // Scalars formed in double and rounded once, as PyTorch does with Python floats.
  const double step = static_cast<double>(t);
  const float beta1 = static_cast<float>(config.beta1);
  const float beta2 = static_cast<float>(config.beta2);
  const float one_minus_beta1 = static_cast<float>(1.0 - config.beta1);
  const float one_minus_beta2 = static_cast<float>(1.0 - config.beta2);
  const double bias_correction1 = 1.0 - std::pow(config.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(config.beta2, step);
  const float neg_step_size = static_cast<float>(-(config.lr / bias_correction1));
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float eps = static_cast<float>(config.eps);
  const float decay_factor = static_cast<float>(1.0 - config.lr * config.weight_decay);

  // Same loop twice (with and without the bf16 copy) so each stays branch-free.
  auto update = [&](auto with_copy) {
#pragma omp parallel
    for (const AdamWRange& r : ranges) {
      float* p = params + r.offset;
      float* mr = m + r.offset;
      float* vr = v + r.offset;
      const float* g = grads + r.offset;
      bf16* p16 = params_bf16 + (with_copy ? r.offset : 0);
      const float decay = r.decay ? decay_factor : 1.0f;
      const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(r.count);
#pragma omp for simd schedule(static) nowait
      for (std::ptrdiff_t i = 0; i < count; ++i) {
        const float gi = g[i] * grad_scale;
        const float pi = p[i] * decay;
        // exp_avg.mul_(β1).add_(g, alpha=1-β1): PyTorch's vectorised add is an fma.
        const float mi = std::fma(gi, one_minus_beta1, mr[i] * beta1);
        // exp_avg_sq.mul_(β2).addcmul_(g, g, value=1-β2): fma((1-β2)·g, g, ·) as PyTorch's.
        const float vi = std::fma(one_minus_beta2 * gi, gi, vr[i] * beta2);
        const float denom = std::sqrt(vi) / bc2_sqrt + eps;
        mr[i] = mi;
        vr[i] = vi;
        // param.addcdiv_(m, denom, value=-step_size) evaluates (value·m)/denom.
        const float pn = pi + (neg_step_size * mi) / denom;
        p[i] = pn;
        if constexpr (decltype(with_copy)::value) {  // as f32_to_bf16_array (bf16.cpp)
          const std::uint32_t u = std::bit_cast<std::uint32_t>(pn);
          const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
          const std::uint32_t nan = (u >> 16) | 0x40u;
          p16[i] = static_cast<bf16>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
        }
      }
    }
  };
  if (params_bf16 != nullptr) update(std::true_type{});
  else update(std::false_type{});
}

}  // namespace weft::cpu
