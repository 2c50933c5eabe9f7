// Attention and embedding over packed rows (doc_start / position ids): the kernel vs the
// double reference with the mask; the masked reference vs the plain reference run on
// each document alone (independent of the mask code); reference gradient vs finite
// differences; embedding with position ids vs the reference.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

// doc_start (B,T) for rows cut into documents of the given lengths (each row sums to T).
std::vector<int32_t> doc_starts(const std::vector<std::vector<int>>& rows, int T) {
  std::vector<int32_t> s;
  for (const auto& lens : rows) {
    int at = 0;
    for (int n : lens) {
      for (int i = 0; i < n; ++i) s.push_back(at);
      at += n;
    }
    EXPECT_EQ(at, T);
  }
  return s;
}

void check_packed(const std::vector<std::vector<int>>& rows, int T, int C, int NH, bool with_fd,
                  uint64_t seed) {
  const int B = static_cast<int>(rows.size());
  const std::vector<int32_t> ds = doc_starts(rows, T);
  auto qkv = random_vec(static_cast<size_t>(B) * T * 3 * C, seed, -2.0, 2.0);
  const auto dout = random_vec(static_cast<size_t>(B) * T * C, seed + 1);
  const size_t att_n = static_cast<size_t>(B) * NH * T * T;

  std::vector<double> out_ref(dout.size()), att_ref(att_n), dqkv_ref(qkv.size());
  ref::attention_forward(out_ref.data(), att_ref.data(), qkv.data(), B, T, C, NH, ds.data());
  ref::attention_backward(dqkv_ref.data(), dout.data(), att_ref.data(), qkv.data(), B, T, C, NH);

  // Independent: each document run alone through the plain causal reference.
  for (int b = 0; b < B; ++b) {
    int at = 0;
    for (int n : rows[static_cast<size_t>(b)]) {
      std::vector<double> q(qkv.begin() + (size_t(b) * T + at) * 3 * C,
                            qkv.begin() + (size_t(b) * T + at + n) * 3 * C);
      std::vector<double> o(size_t(n) * C), a(size_t(NH) * n * n);
      ref::attention_forward(o.data(), a.data(), q.data(), 1, n, C, NH);
      for (size_t i = 0; i < o.size(); ++i)
        ASSERT_NEAR(o[i], out_ref[(size_t(b) * T + at) * C + i], 1e-12) << "row " << b << " doc at " << at;
      at += n;
    }
  }

  const auto qkv_f = to_float(qkv), dout_f = to_float(dout);
  std::vector<float> out(dout.size()), att(att_n, 9.0f), dqkv(qkv.size(), 9.0f);
  cpu::attention_forward(out.data(), att.data(), qkv_f.data(), B, T, C, NH, ds.data());
  expect_close(out, out_ref, 1e-5, 1e-4, "packed attention out");
  expect_close(att, att_ref, 1e-6, 1e-4, "packed attention probabilities");  // zeros outside docs
  std::vector<float> scratch(cpu::attention_backward_scratch_size(T));
  cpu::attention_backward(dqkv.data(), scratch.data(), scratch.size(), dout_f.data(), att.data(),
                          qkv_f.data(), B, T, C, NH);
  expect_close(dqkv, dqkv_ref, 1e-5, 1e-4, "packed attention dqkv");

  if (!with_fd) return;
  std::vector<double> tmp(dout.size()), tmp_att(att_n);
  auto loss = [&] {
    ref::attention_forward(tmp.data(), tmp_att.data(), qkv.data(), B, T, C, NH, ds.data());
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(qkv, dqkv_ref, loss, 1e-8, "packed attention dqkv fd");
}

TEST(KernelAttentionPacked, TwoRowsOfDocumentsMatchReferenceAndFd) {
  check_packed({{3, 4, 2}, {1, 8}}, 9, 12, 3, true, 51);
}

TEST(KernelAttentionPacked, DocumentsAcrossQueryBlocks) {
  // T=150: documents straddle the 64-query block boundaries.
  check_packed({{50, 30, 1, 69}}, 150, 8, 2, false, 53);
}

TEST(KernelEmbeddingPacked, PositionIdsMatchReference) {
  const int B = 2, T = 5, C = 6, V = 11, maxT = 8;
  const std::vector<int32_t> inp = {1, 4, 7, 10, 0, 3, 3, 2, 9, 5};
  const std::vector<int32_t> pos = {0, 1, 0, 1, 2, 0, 1, 2, 3, 0};
  const auto wte = random_vec(size_t(V) * C, 61), wpe = random_vec(size_t(maxT) * C, 62);
  const auto dout = random_vec(size_t(B) * T * C, 63);
  std::vector<double> out_ref(dout.size()), dwte_ref(wte.size()), dwpe_ref(wpe.size());
  ref::embedding_forward(out_ref.data(), inp.data(), wte.data(), wpe.data(), B, T, C, pos.data());
  ref::embedding_backward(dwte_ref.data(), dwpe_ref.data(), dout.data(), inp.data(), B, T, C,
                          pos.data());
  // The reference's positions: wpe row pos[i], checked by hand for one token.
  EXPECT_DOUBLE_EQ(out_ref[size_t(7) * C + 2], wte[size_t(2) * C + 2] + wpe[size_t(2) * C + 2]);
  const auto wte_f = to_float(wte), wpe_f = to_float(wpe), dout_f = to_float(dout);
  std::vector<float> out(dout.size()), dwte(wte.size(), 0.0f), dwpe(wpe.size(), 0.0f);
  cpu::embedding_forward(out.data(), inp.data(), wte_f.data(), wpe_f.data(), B, T, C, V, pos.data());
  expect_close(out, out_ref, 0, 6e-8, "packed embedding out");
  cpu::embedding_backward(dwte.data(), dwpe.data(), dout_f.data(), inp.data(), B, T, C, pos.data());
  expect_close(dwte, dwte_ref, 1e-6, 1e-6, "packed embedding dwte");
  expect_close(dwpe, dwpe_ref, 1e-6, 1e-6, "packed embedding dwpe");
  std::vector<int32_t> bad = pos;
  bad[3] = T;
  EXPECT_THROW(cpu::embedding_forward(out.data(), inp.data(), wte_f.data(), wpe_f.data(), B, T, C,
                                      V, bad.data()),
               Error);
}

}  // namespace
}  // namespace weft
