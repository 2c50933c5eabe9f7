// Small-N linear layer (see matmul_rows.hpp): threads split the output channels; each
// weight row is read once and dotted with all N input rows (which stay in L1/L2).
// Four weight rows at a time so each input load feeds four FMA chains.
#include "kernels/cpu/matmul_rows.hpp"

#include <cstddef>

namespace weft::cpu {

void matmul_rows_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int N, int C, int OC) {
  const int OC4 = OC / 4 * 4;
#pragma omp parallel for schedule(static)
  for (int o = 0; o < OC4; o += 4) {
    const float* w0 = weight + static_cast<std::size_t>(o) * C;
    const float* w1 = w0 + C;
    const float* w2 = w1 + C;
    const float* w3 = w2 + C;
    for (int n = 0; n < N; ++n) {
      const float* x = inp + static_cast<std::size_t>(n) * C;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int i = 0; i < C; ++i) {
        s0 += w0[i] * x[i];
        s1 += w1[i] * x[i];
        s2 += w2[i] * x[i];
        s3 += w3[i] * x[i];
      }
      float* y = out + static_cast<std::size_t>(n) * OC + o;
      y[0] = s0 + (bias ? bias[o] : 0.0f);
      y[1] = s1 + (bias ? bias[o + 1] : 0.0f);
      y[2] = s2 + (bias ? bias[o + 2] : 0.0f);
      y[3] = s3 + (bias ? bias[o + 3] : 0.0f);
    }
  }
  for (int o = OC4; o < OC; ++o) {
    const float* w = weight + static_cast<std::size_t>(o) * C;
    for (int n = 0; n < N; ++n) {
      const float* x = inp + static_cast<std::size_t>(n) * C;
      float s = 0.0f;
      for (int i = 0; i < C; ++i) s += w[i] * x[i];
      out[static_cast<std::size_t>(n) * OC + o] = s + (bias ? bias[o] : 0.0f);
    }
  }
}

}  // namespace weft::cpu
