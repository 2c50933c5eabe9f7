// LayerNorm forward/backward (see layernorm.hpp). Rows run in parallel; the parameter
// gradients are summed by channel blocks over all rows in order (thread-count independent).
#include "kernels/cpu/layernorm.hpp"

#include <cmath>
#include <cstddef>

namespace weft::cpu {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    const float* x = inp + static_cast<std::size_t>(n) * C;
    float* o = out + static_cast<std::size_t>(n) * C;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int c = 0; c < C; ++c) sum += x[c];
    const float m = sum / static_cast<float>(C);
    float var = 0.0f;
#pragma omp simd reduction(+ : var)
    for (int c = 0; c < C; ++c) var += (x[c] - m) * (x[c] - m);
    const float s = 1.0f / std::sqrt(var / static_cast<float>(C) + kLayerNormEps);
#pragma omp simd
    for (int c = 0; c < C; ++c) o[c] = (x[c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

namespace {

template <bool kAdd>
void layernorm_backward_impl(float* dinp, float* dweight, float* dbias, const float* dout,
                             const float* inp, const float* weight, const float* mean,
                             const float* rstd, int N, int C) {
  constexpr int kBlock = 64;
  const int blocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel
  {
    // dinp, row by row: dx = rstd·(dn − mean(dn) − x̂·mean(dn·x̂)), dn = dout·w.
#pragma omp for schedule(static) nowait
    for (int n = 0; n < N; ++n) {
      const std::size_t off = static_cast<std::size_t>(n) * C;
      const float* x = inp + off;
      const float* d = dout + off;
      float* dx = dinp + off;
      const float m = mean[n];
      const float s = rstd[n];
      float sum_dn = 0.0f;
      float sum_dn_xhat = 0.0f;
#pragma omp simd reduction(+ : sum_dn, sum_dn_xhat)
      for (int c = 0; c < C; ++c) {
        const float dn = d[c] * weight[c];
        sum_dn += dn;
        sum_dn_xhat += dn * (x[c] - m) * s;
      }
      const float a = sum_dn / static_cast<float>(C);
      const float b = sum_dn_xhat / static_cast<float>(C);
#pragma omp simd
      for (int c = 0; c < C; ++c) {
        const float v = s * (d[c] * weight[c] - a - (x[c] - m) * s * b);
        if constexpr (kAdd) {
          dx[c] += v;
        } else {
          dx[c] = v;
        }
      }
    }
    // dweight, dbias by channel blocks, rows in order.
#pragma omp for schedule(static)
    for (int blk = 0; blk < blocks; ++blk) {
      const int c0 = blk * kBlock;
      const int width = c0 + kBlock < C ? kBlock : C - c0;
      float gw[kBlock] = {};
      float gb[kBlock] = {};
      for (int n = 0; n < N; ++n) {
        const std::size_t off = static_cast<std::size_t>(n) * C + c0;
        const float* x = inp + off;
        const float* d = dout + off;
        const float m = mean[n];
        const float s = rstd[n];
#pragma omp simd
        for (int c = 0; c < width; ++c) {
          gb[c] += d[c];
          gw[c] += d[c] * (x[c] - m) * s;
        }
      }
      for (int c = 0; c < width; ++c) {
        dweight[c0 + c] += gw[c];
        dbias[c0 + c] += gb[c];
      }
    }
  }
}

}  // namespace

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int N, int C) {
  layernorm_backward_impl<false>(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
}

void layernorm_backward_add(float* dinp, float* dweight, float* dbias, const float* dout,
                            const float* inp, const float* weight, const float* mean,
                            const float* rstd, int N, int C) {
  layernorm_backward_impl<true>(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
}

}  // namespace weft::cpu
