// matmul_rows_forward (the decode-step linear layer) against the double-precision
// reference, for row counts 1..17, widths not divisible by 4, with and without bias.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/matmul_rows.hpp"
#include "kernels/cpu/reference/reference.hpp"

namespace weft {
namespace {

TEST(InferMatmulRows, MatchesReference) {
  for (int N : {1, 3, 8, 17}) {
    for (int OC : {7, 64, 130}) {
      const int C = 45;
      std::vector<float> x(N * C), w(OC * C), b(OC), out(N * OC);
      std::vector<double> xd(x.size()), wd(w.size()), bd(b.size()), want(out.size());
      for (std::size_t i = 0; i < x.size(); ++i) xd[i] = x[i] = std::sin(0.1f * i);
      for (std::size_t i = 0; i < w.size(); ++i) wd[i] = w[i] = std::cos(0.07f * i);
      for (std::size_t i = 0; i < b.size(); ++i) bd[i] = b[i] = 0.5f - 0.01f * i;
      for (bool with_bias : {true, false}) {
        cpu::matmul_rows_forward(out.data(), x.data(), w.data(), with_bias ? b.data() : nullptr, N,
                                 C, OC);
        ref::matmul_forward(want.data(), xd.data(), wd.data(), with_bias ? bd.data() : nullptr, N,
                            C, OC);
        for (std::size_t i = 0; i < out.size(); ++i)
          ASSERT_NEAR(out[i], want[i], 1e-4) << "N=" << N << " OC=" << OC << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace weft
