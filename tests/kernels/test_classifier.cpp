// Fused classifier vs the double reference (loss, dlogits, padded columns, loss mask);
// reference gradient vs finite differences.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

constexpr int N = 14, V = 101, Vp = 130;

std::vector<int32_t> targets() {
  std::vector<int32_t> t(N);
  for (int i = 0; i < N; ++i) t[i] = (i * 37 + 5) % V;
  t[3] = V - 1;
  t[4] = 0;
  return t;
}

void check_classifier(const std::vector<double>* weights, float grad_scale, bool with_fd) {
  auto logits = random_vec(static_cast<size_t>(N) * Vp, 81, -4.0, 4.0);
  // Padded columns hold garbage that must not leak into the loss.
  for (int i = 0; i < N; ++i)
    for (int j = V; j < Vp; ++j) logits[static_cast<size_t>(i) * Vp + j] = 50.0;
  const auto tg = targets();
  const double* w_ref = weights != nullptr ? weights->data() : nullptr;
  std::vector<float> w_f;
  if (weights != nullptr) w_f = to_float(*weights);
  const float* w = weights != nullptr ? w_f.data() : nullptr;

  std::vector<double> losses_ref(N), dlogits_ref(logits.size());
  const double loss_ref = ref::classifier_loss(losses_ref.data(), logits.data(), tg.data(), w_ref, N, V, Vp);
  ref::classifier_grad(dlogits_ref.data(), logits.data(), tg.data(), w_ref, N, V, Vp, grad_scale);

  auto x = to_float(logits);
  std::vector<float> losses(N, 7.0f);
  const cpu::ClassifierLoss fwd = cpu::classifier_forward(losses.data(), x.data(), tg.data(), w, N, V, Vp);
  EXPECT_NEAR(fwd.loss, loss_ref, 1e-5 * std::fabs(loss_ref));
  expect_close(losses, losses_ref, 1e-6, 1e-5, "row losses (forward)");
  const cpu::ClassifierLoss both =
      cpu::classifier_forward_backward(x.data(), losses.data(), tg.data(), w, N, V, Vp, grad_scale);
  EXPECT_EQ(both.loss, fwd.loss);
  EXPECT_EQ(both.weight_sum, fwd.weight_sum);
  expect_close(x, dlogits_ref, 1e-8, 1e-5, "dlogits");  // padded columns: exactly 0

  if (!with_fd) return;
  std::vector<double> tmp(N);
  auto loss = [&] { return grad_scale * ref::classifier_loss(tmp.data(), logits.data(), tg.data(), w_ref, N, V, Vp); };
  // Padded columns have zero finite difference; the reference gradient writes zero there.
  expect_grad_matches_fd(logits, dlogits_ref, loss, 1e-8, "dlogits fd");
}

TEST(KernelClassifier, UnweightedMatchesReferenceAndFiniteDifferences) {
  check_classifier(nullptr, 1.0f, true);
}

TEST(KernelClassifier, WeightedWithGradScale) {
  std::vector<double> w(N, 1.0);
  w[0] = 0.0;
  w[5] = 0.0;
  w[6] = 2.0;
  w[13] = 0.0;
  check_classifier(&w, 0.25f, true);
}

TEST(KernelClassifier, MaskedTokensContributeNothing) {
  // Loss over rows with weight 1 among masked rows == loss over those rows alone,
  // whatever the masked rows hold (here also target -1, like ignore_index).
  auto logits = to_float(random_vec(static_cast<size_t>(N) * Vp, 91, -3.0, 3.0));
  auto tg = targets();
  std::vector<float> w(N, 1.0f);
  std::vector<int> kept;
  for (int i = 0; i < N; ++i) {
    if (i % 3 == 1) {
      w[i] = 0.0f;
      tg[i] = -1;
    } else {
      kept.push_back(i);
    }
  }
  const int K = static_cast<int>(kept.size());
  std::vector<float> sub(static_cast<size_t>(K) * Vp), losses_sub(K);
  std::vector<int32_t> tg_sub(K);
  for (int k = 0; k < K; ++k) {
    std::copy_n(logits.begin() + static_cast<long>(kept[k]) * Vp, Vp, sub.begin() + static_cast<long>(k) * Vp);
    tg_sub[k] = tg[kept[k]];
  }
  std::vector<float> losses(N);
  auto masked = logits;
  const auto a = cpu::classifier_forward_backward(masked.data(), losses.data(), tg.data(), w.data(), N, V, Vp, 1.0f);
  const auto b = cpu::classifier_forward_backward(sub.data(), losses_sub.data(), tg_sub.data(), nullptr, K, V, Vp, 1.0f);
  EXPECT_NEAR(a.loss, b.loss, 1e-6 * b.loss);
  EXPECT_EQ(a.weight_sum, K);
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < Vp; ++j) {
      const float got = masked[static_cast<size_t>(i) * Vp + j];
      if (w[i] == 0.0f) {
        ASSERT_EQ(got, 0.0f) << "masked row " << i;
      }
    }
    if (w[i] == 0.0f) {
      EXPECT_EQ(losses[i], 0.0f);
    }
  }
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < Vp; ++j)
      ASSERT_NEAR(masked[static_cast<size_t>(kept[k]) * Vp + j], sub[static_cast<size_t>(k) * Vp + j], 1e-9);

  // All rows masked: loss 0, gradient 0, no division by zero.
  std::vector<float> zero_w(N, 0.0f), x2 = logits;
  const auto c = cpu::classifier_forward_backward(x2.data(), losses.data(), tg.data(), zero_w.data(), N, V, Vp, 1.0f);
  EXPECT_EQ(c.loss, 0.0);
  EXPECT_EQ(c.weight_sum, 0.0);
  for (float g : x2) ASSERT_EQ(g, 0.0f);
}

TEST(KernelClassifier, BadTargetsAndWeightsAreInputErrors) {
  auto logits = to_float(random_vec(static_cast<size_t>(N) * Vp, 92));
  auto tg = targets();
  std::vector<float> losses(N);
  tg[2] = V;  // a padded column is not a valid target
  EXPECT_THROW(cpu::classifier_forward(losses.data(), logits.data(), tg.data(), nullptr, N, V, Vp), Error);
  tg[2] = 1;
  std::vector<float> w(N, 1.0f);
  w[4] = -1.0f;
  EXPECT_THROW(cpu::classifier_forward_backward(logits.data(), losses.data(), tg.data(), w.data(), N, V, Vp, 1.0f), Error);
}

}  // namespace
}  // namespace weft
