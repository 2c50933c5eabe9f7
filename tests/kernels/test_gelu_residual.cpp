// GELU and residual kernels vs the double reference; GELU backward vs finite differences.
#include <gtest/gtest.h>

#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernels/cpu/residual.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

TEST(KernelGelu, ForwardBackwardMatchReferenceAndFiniteDifferences) {
  // Wide range: both tails (saturated tanh) and the middle; odd length for the vector tail.
  constexpr long n = 1001;
  auto inp = random_vec(n, 51, -12.0, 12.0);
  inp[0] = 0.0;
  inp[1] = 1e-3;
  inp[2] = -1e-3;
  const auto dout = random_vec(n, 52);
  std::vector<double> out_ref(n), dinp_ref(n);
  ref::gelu_forward(out_ref.data(), inp.data(), n);
  ref::gelu_backward(dinp_ref.data(), dout.data(), inp.data(), n);

  const auto inp_f = to_float(inp), dout_f = to_float(dout);
  std::vector<float> out(n), dinp(n);
  cpu::gelu_forward(out.data(), inp_f.data(), n);
  cpu::gelu_backward(dinp.data(), dout_f.data(), inp_f.data(), n);
  expect_close(out, out_ref, 2e-7, 2e-6, "gelu out");
  expect_close(dinp, dinp_ref, 2e-7, 2e-6, "gelu dinp");

  std::vector<double> tmp(n);
  auto loss = [&] {
    ref::gelu_forward(tmp.data(), inp.data(), n);
    return dot(tmp, dout);
  };
  expect_grad_matches_fd(inp, dinp_ref, loss, 1e-8, "gelu dinp fd");
}

TEST(KernelGelu, InPlace) {
  const auto inp = random_vec(67, 53, -3.0, 3.0);
  std::vector<double> out_ref(inp.size());
  ref::gelu_forward(out_ref.data(), inp.data(), static_cast<long>(inp.size()));
  auto x = to_float(inp);
  cpu::gelu_forward(x.data(), x.data(), x.size());
  expect_close(x, out_ref, 2e-7, 2e-6, "gelu in place");
}

TEST(KernelResidual, ForwardBackward) {
  constexpr size_t n = 37;
  const auto a = to_float(random_vec(n, 54)), b = to_float(random_vec(n, 55));
  const auto d = to_float(random_vec(n, 56));
  std::vector<float> out(n), d1(n, 3.0f), d2(n, 4.0f);
  cpu::residual_forward(out.data(), a.data(), b.data(), n);
  cpu::residual_backward(d1.data(), d2.data(), d.data(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i], a[i] + b[i]);
    EXPECT_EQ(d1[i], d[i]);
    EXPECT_EQ(d2[i], d[i]);
  }
  cpu::residual_backward_add(d1.data(), d2.data(), d.data(), n);
  std::vector<float> y(a);
  cpu::add_inplace(y.data(), b.data(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(d1[i], d[i] + d[i]);
    EXPECT_EQ(d2[i], d[i] + d[i]);
    EXPECT_EQ(y[i], a[i] + b[i]);
  }
}

}  // namespace
}  // namespace weft
