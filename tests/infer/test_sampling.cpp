// Samplers against independent computations: argmax, the exact top-k / top-p sets
// from a full sort, temperature → 0 equals greedy, seeded repeatability, the sampled
// frequencies against softmax, and the CTRL / Hugging Face repetition penalty.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include "infer/sampling.hpp"

namespace weft::infer {
namespace {

std::vector<float> wavy_logits(int V, float scale = 3.0f) {
  std::vector<float> z(V);
  for (int i = 0; i < V; ++i) z[i] = scale * std::sin(1.7f * i + 0.3f) + 0.01f * i;
  return z;
}

std::set<int> finite_set(const std::vector<float>& z) {
  std::set<int> s;
  for (int i = 0; i < static_cast<int>(z.size()); ++i)
    if (std::isfinite(z[i])) s.insert(i);
  return s;
}

std::vector<int> order_by_value(const std::vector<float>& z) {
  std::vector<int> idx(z.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int a, int b) { return z[a] > z[b]; });
  return idx;
}

TEST(InferSampling, GreedyIsArgmax) {
  const std::vector<float> z = wavy_logits(97);
  EXPECT_EQ(sample_greedy(z), std::max_element(z.begin(), z.end()) - z.begin());
}

TEST(InferSampling, TopKKeepsExactlyTheKLargest) {
  for (int k : {1, 5, 30}) {
    std::vector<float> z = wavy_logits(97);
    const std::vector<int> order = order_by_value(z);
    apply_top_k(z, k);
    EXPECT_EQ(finite_set(z), std::set<int>(order.begin(), order.begin() + k)) << "k=" << k;
  }
  std::vector<float> z = wavy_logits(10), before = z;
  apply_top_k(z, 0);
  EXPECT_EQ(z, before);  // off
}

TEST(InferSampling, TopPKeepsTheSmallestSetReachingP) {
  for (float p : {0.05f, 0.3f, 0.9f}) {
    std::vector<float> z = wavy_logits(97);
    const std::vector<int> order = order_by_value(z);
    // Independent: probabilities in long double, cumulative in sorted order.
    long double mx = *std::max_element(z.begin(), z.end()), sum = 0;
    for (float v : z) sum += std::exp(static_cast<long double>(v) - mx);
    std::set<int> want;
    long double mass = 0;
    for (int i : order) {
      want.insert(i);
      mass += std::exp(static_cast<long double>(z[i]) - mx) / sum;
      if (mass >= p) break;
    }
    apply_top_p(z, p);
    EXPECT_EQ(finite_set(z), want) << "p=" << p;
    EXPECT_GE(want.size(), 1u);
  }
}

TEST(InferSampling, TemperatureToZeroEqualsGreedy) {
  const std::vector<float> z0 = wavy_logits(97);
  const int greedy = sample_greedy(z0);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    std::vector<float> z = z0;
    SamplingParams sp;
    sp.temperature = 1e-3f;
    EXPECT_EQ(sample_token(z, {}, sp, rng), greedy);
    z = z0;
    sp.temperature = 0.0f;
    EXPECT_EQ(sample_token(z, {}, sp, rng), greedy);
  }
}

TEST(InferSampling, SeededDrawsRepeatAndFollowSoftmax) {
  const std::vector<float> z0 = {1.0f, 0.0f, -1.0f, 2.0f};
  SamplingParams sp;
  sp.temperature = 1.0f;
  auto draw_many = [&](std::uint64_t seed, int n) {
    Rng rng(seed);
    std::vector<int> out;
    for (int i = 0; i < n; ++i) {
      std::vector<float> z = z0;
      out.push_back(sample_token(z, {}, sp, rng));
    }
    return out;
  };
  EXPECT_EQ(draw_many(42, 200), draw_many(42, 200));
  EXPECT_NE(draw_many(42, 200), draw_many(43, 200));
  const int n = 40000;
  const std::vector<int> d = draw_many(5, n);
  double sum = 0;
  for (float v : z0) sum += std::exp(v);
  for (int i = 0; i < 4; ++i) {
    const double freq = std::count(d.begin(), d.end(), i) / static_cast<double>(n);
    EXPECT_NEAR(freq, std::exp(z0[i]) / sum, 0.01) << "token " << i;
  }
}

TEST(InferSampling, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  std::vector<float> z = {2.0f, -2.0f, 1.0f, 0.5f, -0.5f};
  const std::vector<std::int32_t> seen = {0, 1, 1, 4, 4, 4};  // repeats count once
  apply_repetition_penalty(z, seen, 2.0f);
  const std::vector<float> want = {1.0f, -4.0f, 1.0f, 0.5f, -1.0f};
  EXPECT_EQ(z, want);
}

TEST(InferSampling, TokenLogprobIsLogSoftmax) {
  const std::vector<float> z = {1.0f, 2.0f, 3.0f};
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(token_logprob(z, 1), 2.0 - lse, 1e-12);
}

}  // namespace
}  // namespace weft::infer
