// Vocab-parallel classifier (three phases, statistics reduced between them) against
// the double reference (itself checked by finite differences in test_classifier.cpp):
// 1, 2 and 5 column shards, one of them holding only padding; one shard is bitwise
// the fused classifier. Vocab-parallel embedding: the sum over shards equals the
// whole embedding, forward and backward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

constexpr int N = 14, V = 101, Vp = 130;

// Runs the three phases over `shards` column shards of x (N,Vp), reducing the
// statistics by hand as TensorParallel would; returns the loss and writes the
// shards' dlogits (with_grad) back into x's columns.
cpu::ClassifierLoss sharded(std::vector<float>& x, const std::vector<int32_t>& tg, const float* w,
                            int shards, bool with_grad, float grad_scale) {
  const int Vs = Vp / shards;
  std::vector<std::vector<float>> part(static_cast<std::size_t>(shards));
  std::vector<std::vector<double>> mx(part.size(), std::vector<double>(N)),
      sums(part.size(), std::vector<double>(2 * N));
  std::vector<cpu::ClassifierShard> s(part.size());
  double wsum = 0;
  for (int r = 0; r < shards; ++r) {
    s[r] = {r * Vs, Vs, V};
    part[r].resize(static_cast<std::size_t>(N) * Vs);
    for (int i = 0; i < N; ++i)
      std::copy_n(x.data() + static_cast<std::size_t>(i) * Vp + r * Vs, Vs, part[r].data() + i * Vs);
    wsum = cpu::classifier_shard_max(mx[r].data(), part[r].data(), tg.data(), w, N, s[r]);
  }
  std::vector<double> m(N, -INFINITY), sum(2 * N, 0.0);
  for (int r = 0; r < shards; ++r)
    for (int i = 0; i < N; ++i) m[i] = std::max(m[i], mx[r][i]);
  for (int r = 0; r < shards; ++r) {
    cpu::classifier_shard_sums(sums[r].data(), part[r].data(), tg.data(), w, m.data(), N, s[r], with_grad);
    for (int i = 0; i < 2 * N; ++i) sum[i] += sums[r][i];
  }
  std::vector<float> losses(N);
  cpu::ClassifierLoss out;
  for (int r = 0; r < shards; ++r) {
    out = cpu::classifier_shard_finish(losses.data(), part[r].data(), tg.data(), w, m.data(),
                                       sum.data(), N, s[r], wsum, with_grad, grad_scale);
    if (with_grad)
      for (int i = 0; i < N; ++i)
        std::copy_n(part[r].data() + i * Vs, Vs, x.data() + static_cast<std::size_t>(i) * Vp + r * Vs);
  }
  return out;
}

struct Case {
  std::vector<double> logits;
  std::vector<int32_t> tg;
  std::vector<float> w;
};

Case make_case() {
  Case c;
  c.logits = random_vec(static_cast<size_t>(N) * Vp, 91, -4.0, 4.0);
  for (int i = 0; i < N; ++i)
    for (int j = V; j < Vp; ++j) c.logits[static_cast<size_t>(i) * Vp + j] = 50.0;  // padding garbage
  for (int i = 0; i < N; ++i) c.tg.push_back((i * 37 + 5) % V);
  c.tg[3] = V - 1;
  c.w.assign(N, 1.0f);
  c.w[5] = 0.0f;
  c.tg[5] = -1;  // ignored row
  c.w[6] = 2.5f;
  return c;
}

class ClassifierShards : public ::testing::TestWithParam<int> {};

TEST_P(ClassifierShards, MatchesDoubleReference) {
  const int shards = GetParam();
  const Case c = make_case();
  std::vector<double> w_ref(c.w.begin(), c.w.end());
  std::vector<double> losses_ref(N), dlogits_ref(c.logits.size());
  const double loss_ref =
      ref::classifier_loss(losses_ref.data(), c.logits.data(), c.tg.data(), w_ref.data(), N, V, Vp);
  ref::classifier_grad(dlogits_ref.data(), c.logits.data(), c.tg.data(), w_ref.data(), N, V, Vp, 0.5f);
  std::vector<float> x = to_float(c.logits);
  const cpu::ClassifierLoss fwd = sharded(x, c.tg, c.w.data(), shards, false, 1.0f);
  EXPECT_NEAR(fwd.loss, loss_ref, 1e-5 * std::fabs(loss_ref));
  const cpu::ClassifierLoss both = sharded(x, c.tg, c.w.data(), shards, true, 0.5f);
  EXPECT_NEAR(both.loss, loss_ref, 1e-5 * std::fabs(loss_ref));
  expect_close(x, dlogits_ref, 1e-8, 1e-5, "sharded dlogits");  // padded columns exactly 0
}

INSTANTIATE_TEST_SUITE_P(Shards, ClassifierShards, ::testing::Values(1, 2, 5));

TEST(ClassifierShards, OneShardIsBitwiseTheFusedClassifier) {
  const Case c = make_case();
  std::vector<float> a = to_float(c.logits), b = a;
  std::vector<float> la(N), lb(N);
  const auto fa = cpu::classifier_forward_backward(a.data(), la.data(), c.tg.data(), c.w.data(), N, V, Vp, 0.25f);
  const auto fb = sharded(b, c.tg, c.w.data(), 1, true, 0.25f);
  EXPECT_EQ(fa.loss, fb.loss);
  EXPECT_EQ(a, b);
}

TEST(EmbeddingShards, SumOverShardsIsTheEmbedding) {
  constexpr int B = 2, T = 5, C = 8, Vv = 20, Vpp = 24, maxT = 6;
  const auto wte = to_float(random_vec(static_cast<size_t>(Vpp) * C, 3));
  const auto wpe = to_float(random_vec(static_cast<size_t>(maxT) * C, 4));
  const auto dout = to_float(random_vec(static_cast<size_t>(B) * T * C, 5));
  const std::vector<int32_t> inp{0, 7, 19, 12, 7, 3, 18, 11, 0, 6};
  std::vector<float> full(static_cast<size_t>(B) * T * C), dwte(wte.size(), 0.f), dwpe(wpe.size(), 0.f);
  cpu::embedding_forward(full.data(), inp.data(), wte.data(), wpe.data(), B, T, C, Vv);
  cpu::embedding_backward(dwte.data(), dwpe.data(), dout.data(), inp.data(), B, T, C);
  for (int shards : {1, 2, 3, 4}) {
    const int Vs = Vpp / shards;
    std::vector<float> sum(full.size(), 0.f), gwte(wte.size(), 0.f);
    for (int r = 0; r < shards; ++r) {
      std::vector<float> out(full.size()), gwpe(wpe.size(), 0.f);
      cpu::embedding_forward_shard(out.data(), inp.data(), wte.data() + r * Vs * C, wpe.data(), B,
                                   T, C, Vv, r * Vs, Vs, r == 0);
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += out[i];
      cpu::embedding_backward_shard(gwte.data() + r * Vs * C, gwpe.data(), dout.data(), inp.data(),
                                    B, T, C, r * Vs, Vs);
      EXPECT_EQ(gwpe, dwpe) << "every shard gets the whole wpe gradient";
    }
    EXPECT_EQ(sum, full) << shards << " shards";  // one non-zero term per element: exact
    EXPECT_EQ(gwte, dwte) << shards << " shards";
  }
}

}  // namespace
}  // namespace weft
