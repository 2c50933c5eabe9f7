// LayerNorm kernel vs the double reference; reference backward vs finite differences.
#include <gtest/gtest.h>

#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

constexpr int N = 14, C = 12;  // B=2, T=7

TEST(KernelLayerNorm, ForwardBackwardMatchReferenceAndFiniteDifferences) {
  auto inp = random_vec(static_cast<size_t>(N) * C, 11, -2.0, 3.0);
  auto w = random_vec(C, 12, 0.5, 1.5);
  auto b = random_vec(C, 13);
  const auto dout = random_vec(inp.size(), 14);

  std::vector<double> out_ref(inp.size()), mean_ref(N), rstd_ref(N);
  ref::layernorm_forward(out_ref.data(), mean_ref.data(), rstd_ref.data(), inp.data(), w.data(),
                         b.data(), N, C);
  const auto inp_f = to_float(inp), w_f = to_float(w), b_f = to_float(b), dout_f = to_float(dout);
  std::vector<float> out(inp.size()), mean(N), rstd(N);
  cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), inp_f.data(), w_f.data(),
                         b_f.data(), N, C);
  expect_close(out, out_ref, 1e-5, 1e-5, "ln out");
  expect_close(mean, mean_ref, 1e-6, 1e-6, "ln mean");
  expect_close(rstd, rstd_ref, 1e-6, 1e-5, "ln rstd");

  std::vector<double> dinp_ref(inp.size()), dw_ref(C, 0.0), db_ref(C, 0.0);
  ref::layernorm_backward(dinp_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), inp.data(),
                          w.data(), mean_ref.data(), rstd_ref.data(), N, C);
  std::vector<double> tmp(inp.size()), m(N), r(N);
  auto loss = [&] {
    ref::layernorm_forward(tmp.data(), m.data(), r.data(), inp.data(), w.data(), b.data(), N, C);
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(inp, dinp_ref, loss, 1e-8, "ln dinp fd");
  expect_grad_matches_fd(w, dw_ref, loss, 1e-8, "ln dweight fd");
  expect_grad_matches_fd(b, db_ref, loss, 1e-8, "ln dbias fd");

  // Float backward: dinp written (garbage before), dweight/dbias accumulate onto 0.25.
  std::vector<float> dinp(inp.size(), 123.0f), dw(C, 0.25f), db(C, 0.25f);
  cpu::layernorm_backward(dinp.data(), dw.data(), db.data(), dout_f.data(), inp_f.data(),
                          w_f.data(), mean.data(), rstd.data(), N, C);
  for (int c = 0; c < C; ++c) {
    dw_ref[c] += 0.25;
    db_ref[c] += 0.25;
  }
  expect_close(dinp, dinp_ref, 1e-5, 1e-4, "ln dinp");
  expect_close(dw, dw_ref, 1e-5, 1e-4, "ln dweight");
  expect_close(db, db_ref, 1e-5, 1e-4, "ln dbias");

  // The _add form adds the same dinp onto what is there.
  std::vector<float> dinp_add(inp.size(), 1.0f), dw2(C, 0.0f), db2(C, 0.0f);
  cpu::layernorm_backward_add(dinp_add.data(), dw2.data(), db2.data(), dout_f.data(), inp_f.data(),
                              w_f.data(), mean.data(), rstd.data(), N, C);
  std::vector<double> expect_add(dinp_ref);
  for (double& v : expect_add) v += 1.0;
  expect_close(dinp_add, expect_add, 1e-5, 1e-4, "ln dinp (add)");
}

TEST(KernelLayerNorm, WideRowsAndBlockTail) {
  // C=200 is not a multiple of the 64-channel blocks or of the vector width.
  constexpr int n = 5, c = 200;
  const auto inp = random_vec(static_cast<size_t>(n) * c, 21, -4.0, 4.0);
  const auto w = random_vec(c, 22), b = random_vec(c, 23), dout = random_vec(inp.size(), 24);
  std::vector<double> out_ref(inp.size()), m(n), r(n), dinp_ref(inp.size()), dw_ref(c), db_ref(c);
  ref::layernorm_forward(out_ref.data(), m.data(), r.data(), inp.data(), w.data(), b.data(), n, c);
  ref::layernorm_backward(dinp_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), inp.data(),
                          w.data(), m.data(), r.data(), n, c);
  const auto inp_f = to_float(inp), w_f = to_float(w), b_f = to_float(b), dout_f = to_float(dout);
  std::vector<float> out(inp.size()), mf(n), rf(n), dinp(inp.size()), dw(c), db(c);
  cpu::layernorm_forward(out.data(), mf.data(), rf.data(), inp_f.data(), w_f.data(), b_f.data(), n, c);
  cpu::layernorm_backward(dinp.data(), dw.data(), db.data(), dout_f.data(), inp_f.data(), w_f.data(),
                          mf.data(), rf.data(), n, c);
  expect_close(out, out_ref, 1e-5, 1e-5, "ln out");
  expect_close(dinp, dinp_ref, 1e-5, 1e-4, "ln dinp");
  expect_close(dw, dw_ref, 1e-5, 1e-4, "ln dweight");
  expect_close(db, db_ref, 1e-5, 1e-4, "ln dbias");
}

}  // namespace
}  // namespace weft
