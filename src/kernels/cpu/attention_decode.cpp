// Attention of new query rows against a KV cache (see attention_decode.hpp). One
// (row, head) pair per OpenMP task: dot products against the cached keys, a causal
// softmax in fp32, then a weighted sum of the cached values (all contiguous in hs).
#include "kernels/cpu/attention_decode.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/error.hpp"
#include "kernels/cpu/vec_math.hpp"

namespace weft::cpu {

void kv_cache_write(float* k_cache, float* v_cache, const float* qkv, const int32_t* slot,
                    const int32_t* pos, int N, int C, int NH, int maxT) {
  WEFT_CHECK(C % NH == 0, "C=", C, " NH=", NH);
  const int hs = C / NH;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; ++n) {
    WEFT_CHECK(pos[n] >= 0 && pos[n] < maxT, "position ", pos[n], " outside the cache (", maxT,
               ")");
    const float* k = qkv + static_cast<std::size_t>(n) * 3 * C + C;
    const float* v = k + C;
    for (int h = 0; h < NH; ++h) {
      const std::size_t at = ((static_cast<std::size_t>(slot[n]) * NH + h) * maxT + pos[n]) *
                             static_cast<std::size_t>(hs);
      for (int i = 0; i < hs; ++i) {
        k_cache[at + i] = k[h * hs + i];
        v_cache[at + i] = v[h * hs + i];
      }
    }
  }
}

void attention_decode_forward(float* out, const float* qkv, const float* k_cache,
                              const float* v_cache, const int32_t* slot, const int32_t* pos, int N,
                              int C, int NH, int maxT) {
  WEFT_CHECK(C % NH == 0, "C=", C, " NH=", NH);
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
#pragma omp parallel
  {
    std::vector<float> scores(static_cast<std::size_t>(maxT));  // this thread's row of scores
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < N; ++n) {
      for (int h = 0; h < NH; ++h) {
        const float* q = qkv + static_cast<std::size_t>(n) * 3 * C + h * hs;
        const std::size_t base =
            (static_cast<std::size_t>(slot[n]) * NH + h) * maxT * static_cast<std::size_t>(hs);
        const float* k = k_cache + base;
        const float* v = v_cache + base;
        const int t = pos[n];
        float mx = -INFINITY;
        for (int s = 0; s <= t; ++s) {
          const float* ks = k + static_cast<std::size_t>(s) * hs;
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int i = 0; i < hs; ++i) dot += q[i] * ks[i];
          dot *= scale;
          scores[s] = dot;
          mx = dot > mx ? dot : mx;
        }
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int s = 0; s <= t; ++s) {
          const float e = detail::exp_fast(scores[s] - mx);
          scores[s] = e;
          sum += e;
        }
        const float inv = 1.0f / sum;
        float* o = out + static_cast<std::size_t>(n) * C + h * hs;
        for (int i = 0; i < hs; ++i) o[i] = 0.0f;
        for (int s = 0; s <= t; ++s) {
          const float p = scores[s] * inv;
          const float* vs = v + static_cast<std::size_t>(s) * hs;
#pragma omp simd
          for (int i = 0; i < hs; ++i) o[i] += p * vs[i];
        }
      }
    }
  }
}

}  // namespace weft::cpu
