// Determinism: every kernel twice with the same inputs and threads → bitwise equal; the
// kernels documented as thread-count independent give the same bits with 1 and 3 threads.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

constexpr int B = 2, T = 70, C = 48, NH = 4, V = 200, Vp = 256, N = B * T;

struct Outputs {
  std::vector<float> independent;  // thread-count independent kernels
  std::vector<float> blas;         // results that go through multi-threaded sgemm
};

void append(std::vector<float>& to, const std::vector<float>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

Outputs run_all(int threads) {
  ScopedThreads scoped(threads);
  Outputs o;
  std::vector<int32_t> tok(N);
  for (int i = 0; i < N; ++i) tok[i] = (i * 7919) % V;
  const auto wte = to_float(random_vec(static_cast<size_t>(Vp) * C, 1));
  const auto wpe = to_float(random_vec(static_cast<size_t>(T) * C, 2));
  std::vector<float> x(static_cast<size_t>(N) * C), dwte(wte.size()), dwpe(wpe.size());
  cpu::embedding_forward(x.data(), tok.data(), wte.data(), wpe.data(), B, T, C, V);
  const auto dx = to_float(random_vec(x.size(), 3));
  cpu::embedding_backward(dwte.data(), dwpe.data(), dx.data(), tok.data(), B, T, C);
  append(o.independent, x);
  append(o.independent, dwte);
  append(o.independent, dwpe);

  const auto lw = to_float(random_vec(C, 4)), lb = to_float(random_vec(C, 5));
  std::vector<float> ln(x.size()), mean(N), rstd(N), dln(x.size()), dlw(C), dlb(C);
  cpu::layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), lw.data(), lb.data(), N, C);
  cpu::layernorm_backward(dln.data(), dlw.data(), dlb.data(), dx.data(), x.data(), lw.data(),
                          mean.data(), rstd.data(), N, C);
  append(o.independent, ln);
  append(o.independent, dln);
  append(o.independent, dlw);
  append(o.independent, dlb);

  const auto qkv = to_float(random_vec(static_cast<size_t>(N) * 3 * C, 6, -2.0, 2.0));
  std::vector<float> att_out(x.size()), att(static_cast<size_t>(B) * NH * T * T),
      dqkv(qkv.size()), scratch(cpu::attention_backward_scratch_size(T));
  cpu::attention_forward(att_out.data(), att.data(), qkv.data(), B, T, C, NH);
  cpu::attention_backward(dqkv.data(), scratch.data(), scratch.size(), dx.data(), att.data(),
                          qkv.data(), B, T, C, NH);
  append(o.independent, att_out);
  append(o.independent, att);
  append(o.independent, dqkv);

  std::vector<float> g(x.size()), dg(x.size());
  cpu::gelu_forward(g.data(), x.data(), x.size());
  cpu::gelu_backward(dg.data(), dx.data(), x.data(), x.size());
  append(o.independent, g);
  append(o.independent, dg);

  auto logits = to_float(random_vec(static_cast<size_t>(N) * Vp, 7, -5.0, 5.0));
  std::vector<float> losses(N), w(N, 1.0f);
  w[3] = 0.0f;
  const auto cl = cpu::classifier_forward_backward(logits.data(), losses.data(), tok.data(),
                                                   w.data(), N, V, Vp, 0.5f);
  append(o.independent, logits);
  append(o.independent, losses);
  o.independent.push_back(static_cast<float>(cl.loss));

  auto p = to_float(random_vec(wte.size(), 8));
  std::vector<float> m(p.size()), v(p.size());
  const cpu::AdamWRange ranges[] = {{0, 1000, true}, {1000, p.size() - 1000, false}};
  for (int t = 1; t <= 3; ++t)
    cpu::adamw_update(p.data(), m.data(), v.data(), dwte.data(), p.size(), ranges,
                      cpu::AdamWConfig{}, t, 0.7f);
  append(o.independent, p);
  append(o.independent, m);
  append(o.independent, v);

  const auto wm = to_float(random_vec(static_cast<size_t>(3) * C * C, 9));
  const auto bm = to_float(random_vec(static_cast<size_t>(3) * C, 10));
  std::vector<float> mo(static_cast<size_t>(N) * 3 * C), dmi(x.size()), dwm(wm.size()), dbm(bm.size());
  cpu::matmul_forward(mo.data(), ln.data(), wm.data(), bm.data(), N, C, 3 * C);
  cpu::matmul_backward(dmi.data(), dwm.data(), dbm.data(), qkv.data(), ln.data(), wm.data(), N, C, 3 * C);
  append(o.blas, mo);
  append(o.blas, dmi);
  append(o.blas, dwm);
  append(o.independent, dbm);  // dbias is our own column loop
  o.blas.push_back(static_cast<float>(cpu::grad_sum_squares(dwm.data(), dwm.size())));
  return o;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(KernelDeterminism, SameInputsSameThreadsSameBits) {
  const Outputs a = run_all(2), b = run_all(2);
  EXPECT_TRUE(bitwise_equal(a.independent, b.independent));
  EXPECT_TRUE(bitwise_equal(a.blas, b.blas));
}

TEST(KernelDeterminism, ThreadCountIndependentKernels) {
  const Outputs a = run_all(1), b = run_all(3);
  EXPECT_TRUE(bitwise_equal(a.independent, b.independent));
}

}  // namespace
}  // namespace weft
