// Token + position embedding forward/backward (see embedding.hpp).
#include "kernels/cpu/embedding.hpp"

#include <cstddef>

#include "core/error.hpp"

namespace weft::cpu {

void embedding_forward(float* out, const int32_t* inp, const float* wte, const float* wpe,
                       int B, int T, int C, int V, const int32_t* pos) {
  const std::size_t bt_count = static_cast<std::size_t>(B) * T;
  for (std::size_t i = 0; i < bt_count; ++i) {
    if (inp[i] < 0 || inp[i] >= V)
      throw input_error(str("embedding: token ", inp[i], " at position ", i,
                            " (batch row ", i / T, ", t ", i % T, ") is outside the vocabulary [0, ",
                            V, ")"));
    if (pos != nullptr && (pos[i] < 0 || pos[i] >= T))
      throw input_error(str("embedding: position id ", pos[i], " at ", i, " is outside [0, ", T, ")"));
  }
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(bt_count); ++i) {
    const int t = pos ? pos[i] : static_cast<int>(i % T);
    float* o = out + i * C;
    const float* we = wte + static_cast<std::size_t>(inp[i]) * C;
    const float* pe = wpe + static_cast<std::size_t>(t) * C;
#pragma omp simd
    for (int c = 0; c < C; ++c) o[c] = we[c] + pe[c];
  }
}

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* inp,
                        int B, int T, int C, const int32_t* pos) {
  // Each thread owns a block of channels and walks every token in order, so the sums
  // (and any repeated tokens) accumulate in the same order for any thread count.
  constexpr int kBlock = 64;
  const int blocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < blocks; ++blk) {
    const int c0 = blk * kBlock;
    const int c1 = c0 + kBlock < C ? c0 + kBlock : C;
    for (int b = 0; b < B; ++b) {
      for (int t = 0; t < T; ++t) {
        const std::size_t i = static_cast<std::size_t>(b) * T + t;
        const float* d = dout + i * C;
        float* gw = dwte + static_cast<std::size_t>(inp[i]) * C;
        float* gp = dwpe + static_cast<std::size_t>(pos ? pos[i] : t) * C;
#pragma omp simd
        for (int c = c0; c < c1; ++c) {
          gw[c] += d[c];
          gp[c] += d[c];
        }
      }
    }
  }
}

}  // namespace weft::cpu
