// Causal multi-head attention forward/backward (see attention.hpp). Each (batch, head)
// pair is one task of a static OpenMP loop; inside it single-threaded sgemm calls
// (OpenBLAS runs 1 thread inside a parallel region) work on blocks of kRows queries,
// touching only keys 0..(last query of the block), i.e. the causal lower part.
#include "kernels/cpu/attention.hpp"

#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "kernels/cpu/vec_math.hpp"

namespace weft::cpu {
namespace {

constexpr int kRows = 64;  // queries per block

// row[lo..t] = softmax(row[lo..t]), the rest of row[0..T) = 0.
void softmax_causal_row(float* row, int lo, int t, int T) {
  for (int s = 0; s < lo; ++s) row[s] = 0.0f;
  float mx = row[lo];
  for (int s = lo + 1; s <= t; ++s) mx = row[s] > mx ? row[s] : mx;
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int s = lo; s <= t; ++s) {
    const float e = detail::exp_fast(row[s] - mx);
    row[s] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int s = lo; s <= t; ++s) row[s] *= inv;
  for (int s = t + 1; s < T; ++s) row[s] = 0.0f;
}

}  // namespace

void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int NH,
                       const std::int32_t* doc_start) {
  WEFT_CHECK(C % NH == 0, "C=", C, " NH=", NH);
  if (doc_start != nullptr)
    for (std::size_t i = 0; i < static_cast<std::size_t>(B) * T; ++i)
      WEFT_CHECK(doc_start[i] >= 0 && doc_start[i] <= static_cast<int>(i % T),
                 "attention doc_start[", i, "] = ", doc_start[i], " outside [0, t]");
  const int hs = C / NH;
  const int C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b) {
    for (int h = 0; h < NH; ++h) {
      const float* q = qkv + static_cast<std::size_t>(b) * T * C3 + h * hs;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* a = att + (static_cast<std::size_t>(b) * NH + h) * T * T;
      float* o = out + static_cast<std::size_t>(b) * T * C + h * hs;
      for (int r0 = 0; r0 < T; r0 += kRows) {
        const int r1 = r0 + kRows < T ? r0 + kRows : T;
        const int rows = r1 - r0;
        float* ab = a + static_cast<std::size_t>(r0) * T;
        // scores (rows, r1) = scale · q[r0:r1] · k[0:r1]ᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, r1, hs, scale,
                    q + static_cast<std::size_t>(r0) * C3, C3, k, C3, 0.0f, ab, T);
        for (int t = r0; t < r1; ++t) {
          const int lo = doc_start ? doc_start[static_cast<std::size_t>(b) * T + t] : 0;
          softmax_causal_row(a + static_cast<std::size_t>(t) * T, lo, t, T);
        }
        // out[r0:r1] (rows, hs) = P (rows, r1) · v[0:r1]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, r1, 1.0f, ab, T, v, C3,
                    0.0f, o + static_cast<std::size_t>(r0) * C, C);
      }
    }
  }
}

std::size_t attention_backward_scratch_size(int T) {
  const int rows = T < kRows ? T : kRows;
  return static_cast<std::size_t>(omp_get_max_threads()) * rows * T;
}

void attention_backward(float* dqkv, float* scratch, std::size_t scratch_floats,
                        const float* dout, const float* att, const float* qkv,
                        int B, int T, int C, int NH) {
  WEFT_CHECK(C % NH == 0, "C=", C, " NH=", NH);
  WEFT_CHECK(scratch_floats >= attention_backward_scratch_size(T), "attention scratch ",
             scratch_floats, " < ", attention_backward_scratch_size(T),
             " (computed with another thread count?)");
  const int hs = C / NH;
  const int C3 = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const std::size_t tile = static_cast<std::size_t>(T < kRows ? T : kRows) * T;
#pragma omp parallel
  {
    float* d = scratch + tile * omp_get_thread_num();
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; ++b) {
      for (int h = 0; h < NH; ++h) {
        const std::size_t base = static_cast<std::size_t>(b) * T * C3 + h * hs;
        const float* q = qkv + base;
        const float* k = q + C;
        const float* v = q + 2 * C;
        float* dq = dqkv + base;
        float* dk = dq + C;
        float* dv = dq + 2 * C;
        const float* a = att + (static_cast<std::size_t>(b) * NH + h) * T * T;
        const float* dO = dout + static_cast<std::size_t>(b) * T * C + h * hs;
        // dk, dv accumulate over query blocks: start from zero.
        for (int t = 0; t < T; ++t) {
          std::memset(dk + static_cast<std::size_t>(t) * C3, 0, sizeof(float) * hs);
          std::memset(dv + static_cast<std::size_t>(t) * C3, 0, sizeof(float) * hs);
        }
        for (int r0 = 0; r0 < T; r0 += kRows) {
          const int r1 = r0 + kRows < T ? r0 + kRows : T;
          const int rows = r1 - r0;
          const float* p = a + static_cast<std::size_t>(r0) * T;  // (rows, r1), ld T
          const float* dOb = dO + static_cast<std::size_t>(r0) * C;
          // dv[0:r1] += Pᵀ · dout[r0:r1]
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hs, rows, 1.0f, p, T, dOb, C,
                      1.0f, dv, C3);
          // dP (rows, r1) = dout[r0:r1] · v[0:r1]ᵀ, into the tile (ld r1)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, r1, hs, 1.0f, dOb, C, v, C3,
                      0.0f, d, r1);
          // dS = scale · P ⊙ (dP − Σ_s dP·P), masked part stays 0 because P is 0 there.
          for (int i = 0; i < rows; ++i) {
            const float* pr = p + static_cast<std::size_t>(i) * T;
            float* dr = d + static_cast<std::size_t>(i) * r1;
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int s = 0; s < r1; ++s) dot += dr[s] * pr[s];
#pragma omp simd
            for (int s = 0; s < r1; ++s) dr[s] = scale * pr[s] * (dr[s] - dot);
          }
          // dq[r0:r1] = dS · k[0:r1];  dk[0:r1] += dSᵀ · q[r0:r1]
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, r1, 1.0f, d, r1, k, C3,
                      0.0f, dq + static_cast<std::size_t>(r0) * C3, C3);
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hs, rows, 1.0f, d, r1,
                      q + static_cast<std::size_t>(r0) * C3, C3, 1.0f, dk, C3);
        }
      }
    }
  }
}

}  // namespace weft::cpu
