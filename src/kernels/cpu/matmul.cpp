// Linear layer forward/backward on OpenBLAS sgemm (see matmul.hpp).
#include "kernels/cpu/matmul.hpp"

#include <cblas.h>

#include <cstddef>
#include <cstring>

namespace weft::cpu {

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int N, int C, int OC) {
  float beta = 0.0f;
  if (bias != nullptr) {
    // Start from the bias and let sgemm accumulate onto it (one pass fewer than adding after).
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; ++n)
      std::memcpy(out + static_cast<std::size_t>(n) * OC, bias, sizeof(float) * OC);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, beta,
              out, OC);
}

void matmul_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                     const float* inp, const float* weight, int N, int C, int OC) {
  if (dinp != nullptr)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C,
                0.0f, dinp, C);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f,
              dweight, C);
  if (dbias != nullptr) {
    // Column blocks summed over rows in order: same result for any thread count.
    constexpr int kBlock = 64;
    const int blocks = (OC + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; ++blk) {
      const int o0 = blk * kBlock;
      const int width = o0 + kBlock < OC ? kBlock : OC - o0;
      float acc[kBlock] = {};
      for (int n = 0; n < N; ++n) {
        const float* d = dout + static_cast<std::size_t>(n) * OC + o0;
#pragma omp simd
        for (int o = 0; o < width; ++o) acc[o] += d[o];
      }
      for (int o = 0; o < width; ++o) dbias[o0 + o] += acc[o];
    }
  }
}

}  // namespace weft::cpu
