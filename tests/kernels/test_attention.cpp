// Causal attention kernel vs the double reference (one and several 64-query blocks);
// reference backward vs finite differences.
#include <gtest/gtest.h>

#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

void check_attention(int B, int T, int C, int NH, bool with_fd, uint64_t seed) {
  auto qkv = random_vec(static_cast<size_t>(B) * T * 3 * C, seed, -2.0, 2.0);
  const auto dout = random_vec(static_cast<size_t>(B) * T * C, seed + 1);
  const size_t att_n = static_cast<size_t>(B) * NH * T * T;

  std::vector<double> out_ref(dout.size()), att_ref(att_n), dqkv_ref(qkv.size());
  ref::attention_forward(out_ref.data(), att_ref.data(), qkv.data(), B, T, C, NH);
  ref::attention_backward(dqkv_ref.data(), dout.data(), att_ref.data(), qkv.data(), B, T, C, NH);

  const auto qkv_f = to_float(qkv), dout_f = to_float(dout);
  std::vector<float> out(dout.size()), att(att_n, 9.0f), dqkv(qkv.size(), 9.0f);
  cpu::attention_forward(out.data(), att.data(), qkv_f.data(), B, T, C, NH);
  expect_close(out, out_ref, 1e-5, 1e-4, "attention out");
  expect_close(att, att_ref, 1e-6, 1e-4, "attention probabilities");  // zeros above diagonal too

  std::vector<float> scratch(cpu::attention_backward_scratch_size(T));
  cpu::attention_backward(dqkv.data(), scratch.data(), scratch.size(), dout_f.data(), att.data(),
                          qkv_f.data(), B, T, C, NH);
  expect_close(dqkv, dqkv_ref, 1e-5, 1e-4, "attention dqkv");

  if (!with_fd) return;
  std::vector<double> tmp(dout.size()), tmp_att(att_n);
  auto loss = [&] {
    ref::attention_forward(tmp.data(), tmp_att.data(), qkv.data(), B, T, C, NH);
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(qkv, dqkv_ref, loss, 1e-8, "attention dqkv fd");
}

TEST(KernelAttention, OddShapesMatchReferenceAndFiniteDifferences) {
  check_attention(2, 7, 12, 3, true, 41);
}

TEST(KernelAttention, SeveralQueryBlocks) {
  // T=150 spans three 64-query blocks, the last one partial.
  check_attention(1, 150, 8, 2, false, 43);
}

TEST(KernelAttention, FiniteDifferencesAcrossBlocks) {
  check_attention(1, 67, 4, 2, true, 45);
}

}  // namespace
}  // namespace weft
