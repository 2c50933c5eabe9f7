// bf16 conversion vs an independent nearest-neighbour rounding in double; the bf16
// matmul (forward, backward) vs the double reference on (a) bf16-rounded inputs, tight,
// and (b) the original inputs, within the stated bf16 bound.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/bf16.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "core/error.hpp"
#include "kernel_test_util.hpp"

namespace weft {
namespace {

using namespace kernel_test;

float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Independent rounding: take the two bf16 neighbours of x (truncate, and one ulp away
// from zero), pick the nearer in double, ties to the even significand.
std::uint16_t round_by_neighbours(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if (std::isnan(x)) return 0;  // checked separately
  const std::uint32_t lo = u & 0xffff0000u;
  const std::uint32_t hi = lo + 0x10000u;  // next magnitude up (may become inf: right)
  const double dlo = std::fabs(static_cast<double>(bits_to_float(lo)) - x);
  const double dhi = std::isinf(bits_to_float(hi)) && !std::isinf(x)
                         ? std::fabs(std::ldexp(1.0, 128) - std::fabs(static_cast<double>(x)))
                         : std::fabs(static_cast<double>(bits_to_float(hi)) - x);
  if (dlo < dhi) return static_cast<std::uint16_t>(lo >> 16);
  if (dhi < dlo) return static_cast<std::uint16_t>(hi >> 16);
  return static_cast<std::uint16_t>(((lo >> 16) & 1u) == 0 ? lo >> 16 : hi >> 16);
}

TEST(KernelBf16, ConversionMatchesNeighbourRounding) {
  std::vector<float> xs = {0.0f, -0.0f, 1.0f, -1.0f, 1.00390625f /*tie, even down*/,
                           1.01171875f /*tie, odd: up*/, std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::min(), std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), 3.3895314e38f};
  std::mt19937 gen(7);
  for (int i = 0; i < 200000; ++i) {
    float f = bits_to_float(gen());
    if (!std::isnan(f)) xs.push_back(f);
  }
  for (int i = 0; i < 1000; ++i)  // exact ties: low 16 bits = 0x8000
    xs.push_back(bits_to_float((gen() & 0x7f7f0000u) | 0x8000u));
  std::vector<cpu::bf16> got(xs.size());
  cpu::f32_to_bf16_array(got.data(), xs.data(), xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_EQ(got[i], round_by_neighbours(xs[i])) << "x=" << xs[i] << " i=" << i;
    ASSERT_EQ(cpu::f32_to_bf16(xs[i]), got[i]);
    // Normal range: rel. error <= 2^-8 (unit roundoff, 8-bit significand).
    if (std::fabs(xs[i]) >= std::numeric_limits<float>::min() && std::fabs(xs[i]) < 3e38f) {
      ASSERT_LE(std::fabs(cpu::bf16_to_f32(got[i]) - xs[i]), std::ldexp(std::fabs(xs[i]), -8) + 1e-45);
    }
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float snan = bits_to_float(0x7f800001u);  // would round to inf if treated as a number
  EXPECT_TRUE(std::isnan(cpu::bf16_to_f32(cpu::f32_to_bf16(nan))));
  cpu::bf16 h;
  cpu::f32_to_bf16_array(&h, &snan, 1);
  EXPECT_TRUE(std::isnan(cpu::bf16_to_f32(h)));
}

std::vector<double> rounded(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    r[i] = cpu::bf16_to_f32(round_by_neighbours(static_cast<float>(v[i])));
  return r;
}

std::vector<double> absolute(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = std::fabs(v[i]);
  return r;
}

// |got − ref| <= rel · mag_i + 1e-6 for all i, mag_i = Σ_k |a_k||b_k| of that element.
void expect_bound(const std::vector<float>& got, const std::vector<double>& ref,
                  const std::vector<double>& mag, double rel, const char* what) {
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - ref[i]);
    worst = std::max(worst, err / (rel * mag[i] + 1e-6));
  }
  EXPECT_LE(worst, 1.0) << what << ": worst error / bound";
}

void check_bf16_matmul(int N, int C, int OC) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const auto inp = random_vec(static_cast<size_t>(N) * C, 41);
  const auto w = random_vec(static_cast<size_t>(OC) * C, 42);
  const auto bias = random_vec(OC, 43);
  const auto dout = random_vec(static_cast<size_t>(N) * OC, 44);
  const auto dw0 = random_vec(w.size(), 45), db0 = random_vec(bias.size(), 46);
  const auto inp_f = to_float(inp), bias_f = to_float(bias), dout_f = to_float(dout);
  const auto w_f = to_float(w);
  std::vector<cpu::bf16> w16(w.size());
  cpu::f32_to_bf16_array(w16.data(), w_f.data(), w.size());

  cpu::Bf16Matmul mm;
  std::vector<float> out(static_cast<size_t>(N) * OC, 77.0f), dinp(inp.size(), -5.0f);
  std::vector<float> dw = to_float(dw0), db = to_float(db0);
  mm.forward(out.data(), inp_f.data(), w16.data(), bias_f.data(), N, C, OC);
  mm.backward(dinp.data(), dw.data(), db.data(), dout_f.data(), inp_f.data(), w16.data(), N, C, OC);

  // Magnitudes Σ|a||b| per output element: the scale of every error bound.
  const auto inp_a = absolute(inp), w_a = absolute(w), dout_a = absolute(dout);
  std::vector<double> out_mag(out.size()), dinp_mag(inp.size()), dw_mag(w.size(), 0.0);
  ref::matmul_forward(out_mag.data(), inp_a.data(), w_a.data(), nullptr, N, C, OC);
  ref::matmul_backward(dinp_mag.data(), dw_mag.data(), nullptr, dout_a.data(), inp_a.data(),
                       w_a.data(), N, C, OC);
  for (std::size_t i = 0; i < out_mag.size(); ++i) out_mag[i] += std::fabs(bias[i % OC]);
  for (std::size_t i = 0; i < dw_mag.size(); ++i) dw_mag[i] += std::fabs(dw0[i]);

  // (a) Same maths on bf16-rounded operands in double: only fp32 accumulation differs,
  // so |err| <= K·2^-24·Σ|a||b| (K = summed length) — fails if operands are not rounded
  // (or rounded differently).
  {
    const auto inp_r = rounded(inp), w_r = rounded(w), dout_r = rounded(dout);
    std::vector<double> o(out.size()), di(inp.size()), dwr(dw0), dbr(db0);
    ref::matmul_forward(o.data(), inp_r.data(), w_r.data(), bias.data(), N, C, OC);
    ref::matmul_backward(di.data(), dwr.data(), dbr.data(), dout.data(), inp_r.data(), w_r.data(),
                         N, C, OC);
    // dinp/dweight used the rounded dout; dbias the fp32 dout (recompute those two with dout_r).
    std::vector<double> di2(inp.size()), dw2(dw0), db_unused(OC, 0.0);
    ref::matmul_backward(di2.data(), dw2.data(), db_unused.data(), dout_r.data(), inp_r.data(),
                         w_r.data(), N, C, OC);
    expect_bound(out, o, out_mag, C * std::ldexp(1.0, -24) * 2, "out vs rounded-operand ref");
    expect_bound(dinp, di2, dinp_mag, OC * std::ldexp(1.0, -24) * 2, "dinp vs rounded-operand ref");
    expect_bound(dw, dw2, dw_mag, N * std::ldexp(1.0, -24) * 2, "dweight vs rounded-operand ref");
    expect_bound(db, dbr, std::vector<double>(OC, static_cast<double>(N)), 1e-6, "dbias (fp32)");
  }
  // (b) Against the exact double result on the original operands: each product carries
  // at most 2·2^-8 + 2^-16 relative error from rounding its two operands (unit
  // roundoff 2^-8), so |err| <= (2^-7 + 2^-16 + K·2^-24)·Σ|a||b|. Typical errors are
  // ~2^-8·sqrt(K)·rms(a)·rms(b), far below; the bound is loose but always holds.
  std::vector<double> o(out.size()), di(inp.size()), dwr(dw0), dbr(db0);
  ref::matmul_forward(o.data(), inp.data(), w.data(), bias.data(), N, C, OC);
  ref::matmul_backward(di.data(), dwr.data(), dbr.data(), dout.data(), inp.data(), w.data(), N, C,
                       OC);
  auto rel = [](int K) { return std::ldexp(1.0, -7) + std::ldexp(1.0, -16) + K * std::ldexp(1.0, -24); };
  expect_bound(out, o, out_mag, rel(C), "out vs exact");
  expect_bound(dinp, di, dinp_mag, rel(OC), "dinp vs exact");
  expect_bound(dw, dwr, dw_mag, rel(N), "dweight vs exact");
  // And the bf16 result is really bf16: its error is far above fp32's on this data.
  double max_err = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) max_err = std::max(max_err, std::fabs(out[i] - o[i]));
  EXPECT_GT(max_err, 1e-4) << "out looks like an fp32 matmul, not bf16";
}

TEST(KernelBf16, MatmulSmall) { check_bf16_matmul(5, 7, 3); }
TEST(KernelBf16, MatmulGptShapes) { check_bf16_matmul(64, 96, 288); }
TEST(KernelBf16, MatmulTallSkinny) { check_bf16_matmul(130, 384, 32); }
TEST(KernelBf16, ParsePrecision) {
  EXPECT_EQ(cpu::parse_precision("bf16"), cpu::Precision::kBf16);
  EXPECT_EQ(cpu::parse_precision("fp32"), cpu::Precision::kFp32);
  EXPECT_THROW(cpu::parse_precision("fp16"), Error);
}

// The fused bf16 copy of AdamW: params, m and v are bitwise those of the plain
// update, and the copy is the scalar f32_to_bf16 of every new param (inside the
// ranges), so bf16 training may skip its own rounding pass after the optimizer.
TEST(KernelBf16, AdamWWritesTheBf16CopyOfItsUpdate) {
  const std::size_t n = 70001;  // odd: a vector tail
  std::mt19937 gen(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> p(n), m(n), v(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = nd(gen);
    m[i] = 0.1f * nd(gen);
    v[i] = std::fabs(0.01f * nd(gen));
    g[i] = nd(gen);
  }
  const cpu::AdamWRange ranges[2] = {{0, 40000, true}, {40000, n - 40000, false}};
  cpu::AdamWConfig c;
  c.lr = 1e-2;
  c.weight_decay = 0.1;
  std::vector<float> p2 = p, m2 = m, v2 = v;
  std::vector<cpu::bf16> copy(n, 0);
  cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, ranges, c, 3, 0.5f);
  cpu::adamw_update(p2.data(), m2.data(), v2.data(), g.data(), n, ranges, c, 3, 0.5f, copy.data());
  EXPECT_EQ(0, std::memcmp(p.data(), p2.data(), n * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(m.data(), m2.data(), n * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(v.data(), v2.data(), n * sizeof(float)));
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += copy[i] != cpu::f32_to_bf16(p[i]) ? 1 : 0;
  EXPECT_EQ(bad, 0u);
}

// Row buckets (the decoder's setting): N rows run as a zero-padded bucket give the
// same rows as the exact-N primitive, up to fp32 summation order (|Δ| ≤ K·2⁻²⁴·Σ|a||b|),
// and rows of the padded output never leak into `out` beyond N (guard value kept).
TEST(KernelBf16, RowBucketsGiveTheSameRows) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const int C = 96, OC = 80;
  std::mt19937 gen(9);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> w(static_cast<std::size_t>(OC) * C), bias(OC);
  for (float& x : w) x = nd(gen);
  for (float& x : bias) x = nd(gen);
  std::vector<cpu::bf16> w16(w.size());
  cpu::f32_to_bf16_array(w16.data(), w.data(), w.size());
  cpu::Bf16Matmul exact, bucketed;
  bucketed.set_row_buckets(true);
  for (int N : {1, 3, 7, 33, 65, 130}) {
    std::vector<float> inp(static_cast<std::size_t>(N) * C);
    for (float& x : inp) x = nd(gen);
    std::vector<float> a(static_cast<std::size_t>(N) * OC), b(a.size() + 1, 0.0f);
    b.back() = 12345.0f;  // guard just past the N rows
    exact.forward(a.data(), inp.data(), w16.data(), bias.data(), N, C, OC);
    bucketed.forward(b.data(), inp.data(), w16.data(), bias.data(), N, C, OC);
    EXPECT_EQ(b.back(), 12345.0f) << "N=" << N;
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < OC; ++o) {
        double mag = std::fabs(bias[o]);
        for (int k = 0; k < C; ++k)
          mag += std::fabs(double(inp[std::size_t(n) * C + k]) * w[std::size_t(o) * C + k]);
        const std::size_t i = static_cast<std::size_t>(n) * OC + o;
        ASSERT_NEAR(b[i], a[i], 2.0 * C * std::ldexp(1.0, -24) * mag) << "N=" << N;
      }
  }
}

}  // namespace
}  // namespace weft
