// Samplers (see sampling.hpp). Probabilities are formed in double so that top-p's
// cumulative mass and the inverse-CDF draw do not depend on summation order noise.
#include "infer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.hpp"

namespace weft::infer {

std::int32_t sample_greedy(std::span<const float> logits) {
  WEFT_CHECK(!logits.empty());
  std::size_t best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = i;
  return static_cast<std::int32_t>(best);
}

void apply_repetition_penalty(std::span<float> logits, std::span<const std::int32_t> seen,
                              float penalty) {
  if (penalty == 1.0f) return;
  WEFT_CHECK(penalty > 0.0f, "repetition penalty ", penalty);
  std::vector<char> done(logits.size(), 0);  // each distinct id once
  for (std::int32_t id : seen) {
    if (id < 0 || static_cast<std::size_t>(id) >= logits.size() || done[id]) continue;
    done[id] = 1;
    float& z = logits[id];
    z = z > 0.0f ? z / penalty : z * penalty;
  }
}

void apply_temperature(std::span<float> logits, float temperature) {
  WEFT_CHECK(temperature > 0.0f, "temperature ", temperature);
  if (temperature == 1.0f) return;
  const float inv = 1.0f / temperature;
  for (float& z : logits) z *= inv;
}

void apply_top_k(std::span<float> logits, int k) {
  if (k <= 0 || static_cast<std::size_t>(k) >= logits.size()) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
  const float kth = sorted[k - 1];
  for (float& z : logits)
    if (z < kth) z = -std::numeric_limits<float>::infinity();
}

namespace {
// softmax(logits) in double; -inf → 0.
std::vector<double> softmax_double(std::span<const float> logits) {
  double mx = -std::numeric_limits<double>::infinity();
  for (float z : logits) mx = std::max(mx, static_cast<double>(z));
  WEFT_CHECK(std::isfinite(mx), "no finite logit to sample from");
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    p[i] = std::exp(static_cast<double>(logits[i]) - mx);
    sum += p[i];
  }
  for (double& v : p) v /= sum;
  return p;
}
}  // namespace

void apply_top_p(std::span<float> logits, float top_p) {
  if (top_p >= 1.0f) return;
  const std::vector<double> p = softmax_double(logits);
  std::vector<std::int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return p[a] > p[b]; });
  double mass = 0.0;
  std::size_t keep = 0;
  while (keep < order.size()) {
    mass += p[order[keep]];
    ++keep;
    if (mass >= top_p) break;
  }
  for (std::size_t i = keep; i < order.size(); ++i)
    logits[order[i]] = -std::numeric_limits<float>::infinity();
}

std::int32_t sample_from_logits(std::span<const float> logits, Rng& rng) {
  const std::vector<double> p = softmax_double(logits);
  const double u = rng.uniform_double();
  double cdf = 0.0;
  std::int32_t last = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0.0) continue;
    last = static_cast<std::int32_t>(i);
    cdf += p[i];
    if (u < cdf) return last;
  }
  return last;  // u within rounding of 1: the last token with mass
}

std::int32_t sample_token(std::span<float> logits, std::span<const std::int32_t> seen,
                          const SamplingParams& params, Rng& rng) {
  apply_repetition_penalty(logits, seen, params.repetition_penalty);
  if (params.temperature <= 0.0f) return sample_greedy(logits);
  apply_temperature(logits, params.temperature);
  apply_top_k(logits, params.top_k);
  apply_top_p(logits, params.top_p);
  return sample_from_logits(logits, rng);
}

double token_logprob(std::span<const float> logits, std::int32_t token) {
  WEFT_CHECK(token >= 0 && static_cast<std::size_t>(token) < logits.size());
  double mx = -std::numeric_limits<double>::infinity();
  for (float z : logits) mx = std::max(mx, static_cast<double>(z));
  double sum = 0.0;
  for (float z : logits) sum += std::exp(static_cast<double>(z) - mx);
  return static_cast<double>(logits[token]) - mx - std::log(sum);
}

}  // namespace weft::infer
