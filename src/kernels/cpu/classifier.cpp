// Fused softmax + cross-entropy (+ gradient in place) over padded logits (see classifier.hpp).
#include "kernels/cpu/classifier.hpp"

#include <cmath>
#include <cstddef>

#include "core/error.hpp"
#include "kernels/cpu/vec_math.hpp"

namespace weft::cpu {
namespace {

// Checks targets of weighted rows and returns Σ w_i (in order, double).
double check_and_sum_weights(const int32_t* targets, const float* weights, int N, int V) {
  double wsum = 0.0;
  for (int i = 0; i < N; ++i) {
    const float w = weights != nullptr ? weights[i] : 1.0f;
    if (w == 0.0f) continue;
    if (!(w > 0.0f) || !std::isfinite(w))
      throw input_error(str("classifier: loss weight ", w, " of row ", i,
                            " must be a finite non-negative number"));
    if (targets[i] < 0 || targets[i] >= V)
      throw input_error(str("classifier: target ", targets[i], " of row ", i,
                            " is outside the vocabulary [0, ", V, ")"));
    wsum += w;
  }
  return wsum;
}

float row_max(const float* x, int V) {
  float mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int j = 0; j < V; ++j) mx = x[j] > mx ? x[j] : mx;
  return mx;
}

// Σ_j exp(x_j − mx), and x_j ← exp(x_j − mx) when kStore. Float vector sums over chunks
// of 1024 (64 terms per lane), chunks added in double: accurate, and 8× faster than a
// double vector reduction.
template <bool kStore>
double exp_sum(float* x_store, const float* x, int V, float mx) {
  constexpr int kChunk = 1024;
  double total = 0.0;
  for (int j0 = 0; j0 < V; j0 += kChunk) {
    const int j1 = j0 + kChunk < V ? j0 + kChunk : V;
    float part = 0.0f;
#pragma omp simd reduction(+ : part)
    for (int j = j0; j < j1; ++j) {
      const float e = detail::exp_fast(x[j] - mx);
      if constexpr (kStore) x_store[j] = e;
      part += e;
    }
    total += part;
  }
  return total;
}

ClassifierLoss sum_losses(const float* losses, const float* weights, int N, double wsum) {
  ClassifierLoss result;
  result.weight_sum = wsum;
  if (wsum == 0.0) return result;
  double acc = 0.0;
  for (int i = 0; i < N; ++i)
    acc += static_cast<double>(weights != nullptr ? weights[i] : 1.0f) * losses[i];
  result.loss = acc / wsum;
  return result;
}

}  // namespace

ClassifierLoss classifier_forward(float* losses, const float* logits, const int32_t* targets,
                                  const float* weights, int N, int V, int Vp) {
  WEFT_CHECK(V >= 1 && V <= Vp, "V=", V, " Vp=", Vp);
  const double wsum = check_and_sum_weights(targets, weights, N, V);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float w = weights != nullptr ? weights[i] : 1.0f;
    if (w == 0.0f) {
      losses[i] = 0.0f;
      continue;
    }
    const float* x = logits + static_cast<std::size_t>(i) * Vp;
    const float mx = row_max(x, V);
    const double sum = exp_sum<false>(nullptr, x, V, mx);
    losses[i] = static_cast<float>(std::log(sum) + mx - x[targets[i]]);
  }
  return sum_losses(losses, weights, N, wsum);
}

ClassifierLoss classifier_forward_backward(float* logits, float* losses, const int32_t* targets,
                                           const float* weights, int N, int V, int Vp,
                                           float grad_scale) {
  WEFT_CHECK(V >= 1 && V <= Vp, "V=", V, " Vp=", Vp);
  const double wsum = check_and_sum_weights(targets, weights, N, V);
  const double inv_wsum = wsum > 0.0 ? 1.0 / wsum : 0.0;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    float* x = logits + static_cast<std::size_t>(i) * Vp;
    const float w = weights != nullptr ? weights[i] : 1.0f;
    if (w == 0.0f) {
      losses[i] = 0.0f;
      for (int j = 0; j < Vp; ++j) x[j] = 0.0f;
      continue;
    }
    const float mx = row_max(x, V);
    const float x_target = x[targets[i]];
    const double sum = exp_sum<true>(x, x, V, mx);
    losses[i] = static_cast<float>(std::log(sum) + mx - x_target);
    // dlogits = g · (p − onehot), g = grad_scale · w / Σw.
    const double g = static_cast<double>(grad_scale) * w * inv_wsum;
    const float k = static_cast<float>(g / sum);
#pragma omp simd
    for (int j = 0; j < V; ++j) x[j] *= k;
    x[targets[i]] -= static_cast<float>(g);
    for (int j = V; j < Vp; ++j) x[j] = 0.0f;
  }
  return sum_losses(losses, weights, N, wsum);
}

namespace {
// Real (non-padding) columns of a shard.
int shard_real(const ClassifierShard& s) {
  const int n = s.V - s.v0;
  return n < 0 ? 0 : (n > s.Vs ? s.Vs : n);
}
}  // namespace

double classifier_shard_max(double* row_max, const float* logits, const int32_t* targets,
                            const float* weights, int N, const ClassifierShard& s) {
  WEFT_CHECK(s.V >= 1 && s.v0 >= 0 && s.Vs >= 1, "V=", s.V, " v0=", s.v0, " Vs=", s.Vs);
  const double wsum = check_and_sum_weights(targets, weights, N, s.V);
  const int real = shard_real(s);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    const float w = weights != nullptr ? weights[i] : 1.0f;
    const float* x = logits + static_cast<std::size_t>(i) * s.Vs;
    row_max[i] = (w == 0.0f || real == 0) ? -INFINITY : static_cast<double>(cpu::row_max(x, real));
  }
  return wsum;
}

void classifier_shard_sums(double* sums, float* logits, const int32_t* targets,
                           const float* weights, const double* row_max, int N,
                           const ClassifierShard& s, bool store_exp) {
  const int real = shard_real(s);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    float* x = logits + static_cast<std::size_t>(i) * s.Vs;
    const float w = weights != nullptr ? weights[i] : 1.0f;
    sums[i] = 0.0;
    sums[N + i] = 0.0;
    if (w == 0.0f) continue;
    const int tl = targets[i] - s.v0;
    if (tl >= 0 && tl < real) sums[N + i] = x[tl];
    if (real == 0) continue;
    const float mx = static_cast<float>(row_max[i]);
    sums[i] = store_exp ? exp_sum<true>(x, x, real, mx) : exp_sum<false>(nullptr, x, real, mx);
  }
}

ClassifierLoss classifier_shard_finish(float* losses, float* logits, const int32_t* targets,
                                       const float* weights, const double* row_max,
                                       const double* sums, int N, const ClassifierShard& s,
                                       double weight_sum, bool with_grad, float grad_scale) {
  const int real = shard_real(s);
  const double inv_wsum = weight_sum > 0.0 ? 1.0 / weight_sum : 0.0;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; ++i) {
    float* x = logits + static_cast<std::size_t>(i) * s.Vs;
    const float w = weights != nullptr ? weights[i] : 1.0f;
    if (w == 0.0f) {
      losses[i] = 0.0f;
      if (with_grad)
        for (int j = 0; j < s.Vs; ++j) x[j] = 0.0f;
      continue;
    }
    const double sum = sums[i];
    losses[i] = static_cast<float>(std::log(sum) + row_max[i] - sums[N + i]);
    if (!with_grad) continue;
    const double g = static_cast<double>(grad_scale) * w * inv_wsum;
    const float k = static_cast<float>(g / sum);
#pragma omp simd
    for (int j = 0; j < real; ++j) x[j] *= k;
    const int tl = targets[i] - s.v0;
    if (tl >= 0 && tl < real) x[tl] -= static_cast<float>(g);
    for (int j = real; j < s.Vs; ++j) x[j] = 0.0f;
  }
  return sum_losses(losses, weights, N, weight_sum);
}

}  // namespace weft::cpu
