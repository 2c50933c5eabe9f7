// Matmul (+bias) kernel vs the double reference; reference backward vs finite differences.
#include <gtest/gtest.h>

#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

void check_matmul(int N, int C, int OC, bool with_bias, bool with_fd) {
  auto inp = random_vec(static_cast<size_t>(N) * C, 31);
  auto w = random_vec(static_cast<size_t>(OC) * C, 32);
  auto bias = random_vec(OC, 33);
  const auto dout = random_vec(static_cast<size_t>(N) * OC, 34);
  const double* bias_ref = with_bias ? bias.data() : nullptr;

  std::vector<double> out_ref(dout.size());
  ref::matmul_forward(out_ref.data(), inp.data(), w.data(), bias_ref, N, C, OC);
  const auto inp_f = to_float(inp), w_f = to_float(w), bias_f = to_float(bias),
             dout_f = to_float(dout);
  std::vector<float> out(dout.size(), 77.0f);
  cpu::matmul_forward(out.data(), inp_f.data(), w_f.data(), with_bias ? bias_f.data() : nullptr,
                      N, C, OC);
  expect_close(out, out_ref, 1e-5, 1e-5, "matmul out");

  // Parameter gradients accumulate onto existing values.
  const auto dw0 = random_vec(w.size(), 35), db0 = random_vec(bias.size(), 36);
  std::vector<double> dinp_ref(inp.size()), dw_ref(dw0), db_ref(db0);
  ref::matmul_backward(dinp_ref.data(), dw_ref.data(), with_bias ? db_ref.data() : nullptr,
                       dout.data(), inp.data(), w.data(), N, C, OC);
  std::vector<float> dinp(inp.size(), -5.0f), dw = to_float(dw0), db = to_float(db0);
  cpu::matmul_backward(dinp.data(), dw.data(), with_bias ? db.data() : nullptr, dout_f.data(),
                       inp_f.data(), w_f.data(), N, C, OC);
  expect_close(dinp, dinp_ref, 1e-5, 1e-5, "matmul dinp");
  expect_close(dw, dw_ref, 1e-5, 1e-5, "matmul dweight");
  expect_close(db, db_ref, 1e-5, 1e-5, "matmul dbias");

  // dinp = nullptr skips the input gradient and still accumulates dweight.
  std::vector<float> dw_only = to_float(dw0);
  cpu::matmul_backward(nullptr, dw_only.data(), nullptr, dout_f.data(), inp_f.data(), w_f.data(),
                       N, C, OC);
  expect_close(dw_only, dw_ref, 1e-5, 1e-5, "matmul dweight (no dinp)");

  if (!with_fd) return;
  std::vector<double> g_w(w.size()), g_b(bias.size());
  for (size_t i = 0; i < w.size(); ++i) g_w[i] = dw_ref[i] - dw0[i];
  for (size_t i = 0; i < bias.size(); ++i) g_b[i] = db_ref[i] - db0[i];
  std::vector<double> tmp(dout.size());
  auto loss = [&] {
    ref::matmul_forward(tmp.data(), inp.data(), w.data(), bias.data(), N, C, OC);
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(inp, dinp_ref, loss, 1e-8, "matmul dinp fd");
  expect_grad_matches_fd(w, g_w, loss, 1e-8, "matmul dweight fd");
  expect_grad_matches_fd(bias, g_b, loss, 1e-8, "matmul dbias fd");
}

TEST(KernelMatmul, OddShapesWithBias) { check_matmul(14, 12, 36, true, true); }
TEST(KernelMatmul, OddShapesWithoutBias) { check_matmul(7, 13, 130, false, false); }
TEST(KernelMatmul, LargerThanOneBlasBlock) { check_matmul(70, 96, 200, true, false); }

}  // namespace
}  // namespace weft
