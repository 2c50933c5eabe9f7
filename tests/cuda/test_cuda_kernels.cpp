// GPU kernels vs the double-precision CPU reference (kernels/cpu/reference), op by op,
// in fp32 and in bf16 (tolerances in cuda_test_util.hpp and docs/gpu.md); AdamW vs the
// CPU kernel bit for bit; repeat runs bit for bit (determinism). Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "../kernels/kernel_test_util.hpp"
#include "cuda_test_util.hpp"
#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernels/cuda/adamw.hpp"
#include "kernels/cuda/attention.hpp"
#include "kernels/cuda/classifier.hpp"
#include "kernels/cuda/context.hpp"
#include "kernels/cuda/elementwise.hpp"
#include "kernels/cuda/embedding.hpp"
#include "kernels/cuda/layernorm.hpp"
#include "kernels/cuda/matmul.hpp"

namespace weft {
namespace {

using cuda_test::bf16;
using cuda_test::DeviceBuffer;
using cuda_test::download;
using cuda_test::representable;
using cuda_test::upload;
using kernel_test::expect_close;
using kernel_test::random_vec;

template <typename T>
const char* type_name() {
  return std::is_same_v<T, float> ? "fp32" : "bf16";
}

template <typename T>
void check_embedding() {
  const int B = 2, Tn = 5, C = 40, V = 11;
  std::vector<int32_t> inp = {3, 1, 3, 0, 10, 3, 3, 7, 1, 2};
  const auto wte = representable<T>(random_vec(static_cast<std::size_t>(V) * C, 1));
  const auto wpe = representable<T>(random_vec(static_cast<std::size_t>(Tn) * C, 2));
  const auto dout = representable<T>(random_vec(static_cast<std::size_t>(B) * Tn * C, 3));
  std::vector<double> out(static_cast<std::size_t>(B) * Tn * C), dwte(wte.size(), 0.5), dwpe(wpe.size(), -0.25);
  ref::embedding_forward(out.data(), inp.data(), wte.data(), wpe.data(), B, Tn, C);
  ref::embedding_backward(dwte.data(), dwpe.data(), dout.data(), inp.data(), B, Tn, C);

  DeviceBuffer<int32_t> d_inp(inp.size());
  d_inp.upload(inp);
  auto d_wte = upload<T>(wte), d_wpe = upload<T>(wpe), d_dout = upload<T>(dout);
  DeviceBuffer<T> d_out(out.size());
  // Gradients accumulate: start from non-zero values.
  auto d_dwte = upload<float>(std::vector<double>(wte.size(), 0.5));
  auto d_dwpe = upload<float>(std::vector<double>(wpe.size(), -0.25));
  cuda::embedding_forward<T>(d_out.data(), d_inp.data(), d_wte.data(), d_wpe.data(), B, Tn, C, nullptr);
  cuda::EmbeddingIndex index;
  index.build(inp.data(), B * Tn, nullptr);
  cuda::embedding_backward<T>(d_dwte.data(), d_dwpe.data(), d_dout.data(), index, B, Tn, C, nullptr);
  const cuda_test::Tol t = cuda_test::tol<T>();
  expect_close(download(d_out), out, t.atol, t.rtol, std::string("embedding out ") + type_name<T>());
  expect_close(download(d_dwte), dwte, 1e-5, 1e-5, std::string("dwte ") + type_name<T>());
  expect_close(download(d_dwpe), dwpe, 1e-5, 1e-5, std::string("dwpe ") + type_name<T>());
}

TEST(CudaKernels, EmbeddingFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_embedding<float>(); }
TEST(CudaKernels, EmbeddingBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_embedding<bf16>(); }

template <typename T>
void check_layernorm(bool accumulate) {
  const int N = 6, C = 72;
  const auto inp = representable<T>(random_vec(static_cast<std::size_t>(N) * C, 10, -2, 3));
  const auto w = representable<T>(random_vec(C, 11, 0.5, 1.5));
  const auto b = representable<T>(random_vec(C, 12));
  const auto dout = representable<T>(random_vec(inp.size(), 13));
  const auto dinp0 = representable<T>(random_vec(inp.size(), 14));
  std::vector<double> out(inp.size()), mean(N), rstd(N), dinp(inp.size()), dw(C, 0.1), db(C, 0.2);
  ref::layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(), N, C);
  ref::layernorm_backward(dinp.data(), dw.data(), db.data(), dout.data(), inp.data(), w.data(),
                          mean.data(), rstd.data(), N, C);
  if (accumulate)
    for (std::size_t i = 0; i < dinp.size(); ++i) dinp[i] += dinp0[i];

  auto d_inp = upload<T>(inp), d_w = upload<T>(w), d_b = upload<T>(b), d_dout = upload<T>(dout);
  auto d_dinp = upload<T>(dinp0);
  DeviceBuffer<T> d_out(out.size());
  DeviceBuffer<float> d_mean(N), d_rstd(N), d_scratch(cuda::layernorm_backward_scratch(N, C));
  auto d_dw = upload<float>(std::vector<double>(C, 0.1)), d_db = upload<float>(std::vector<double>(C, 0.2));
  cuda::layernorm_forward<T>(d_out.data(), d_mean.data(), d_rstd.data(), d_inp.data(), d_w.data(),
                             d_b.data(), N, C, nullptr);
  cuda::layernorm_backward<T>(d_dinp.data(), d_dw.data(), d_db.data(), d_scratch.data(), d_dout.data(),
                              d_inp.data(), d_w.data(), d_mean.data(), d_rstd.data(), N, C,
                              accumulate, nullptr);
  const cuda_test::Tol t = cuda_test::tol<T>();
  const std::string n = type_name<T>();
  expect_close(download(d_out), out, t.atol, t.rtol, "layernorm out " + n);
  expect_close(download(d_mean), mean, 1e-5, 1e-5, "layernorm mean " + n);
  expect_close(download(d_rstd), rstd, 1e-5, 1e-4, "layernorm rstd " + n);
  expect_close(download(d_dinp), dinp, t.atol, t.rtol, "layernorm dinp " + n);
  expect_close(download(d_dw), dw, 1e-4, 1e-4, "layernorm dweight " + n);
  expect_close(download(d_db), db, 1e-4, 1e-4, "layernorm dbias " + n);
}

TEST(CudaKernels, LayerNormFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_layernorm<float>(false); check_layernorm<float>(true); }
TEST(CudaKernels, LayerNormBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_layernorm<bf16>(false); check_layernorm<bf16>(true); }

template <typename T>
void check_matmul(bool with_bias) {
  const int N = 32, C = 64, OC = 96;
  cuda::CudaContext ctx;
  const auto inp = representable<T>(random_vec(static_cast<std::size_t>(N) * C, 20));
  const auto w = representable<T>(random_vec(static_cast<std::size_t>(OC) * C, 21, -0.3, 0.3));
  const auto b = representable<T>(random_vec(OC, 22));
  const auto dout = representable<T>(random_vec(static_cast<std::size_t>(N) * OC, 23));
  std::vector<double> out(static_cast<std::size_t>(N) * OC), dinp(inp.size()), dw(w.size(), 0.5), db(OC, 0.5);
  ref::matmul_forward(out.data(), inp.data(), w.data(), with_bias ? b.data() : nullptr, N, C, OC);
  ref::matmul_backward(dinp.data(), dw.data(), with_bias ? db.data() : nullptr, dout.data(), inp.data(),
                       w.data(), N, C, OC);
  auto d_inp = upload<T>(inp), d_w = upload<T>(w), d_b = upload<T>(b), d_dout = upload<T>(dout);
  DeviceBuffer<T> d_out(out.size()), d_dinp(inp.size());
  auto d_dw = upload<float>(std::vector<double>(w.size(), 0.5));
  auto d_db = upload<float>(std::vector<double>(OC, 0.5));
  DeviceBuffer<float> scratch(cuda::bias_backward_scratch(N, OC));
  cuda::matmul_forward<T>(ctx, d_out.data(), d_inp.data(), d_w.data(), with_bias ? d_b.data() : nullptr, N, C, OC);
  cuda::matmul_backward<T>(ctx, d_dinp.data(), d_dw.data(), with_bias ? d_db.data() : nullptr,
                           scratch.data(), d_dout.data(), d_inp.data(), d_w.data(), N, C, OC);
  ctx.synchronize();
  const cuda_test::Tol t = cuda_test::tol<T>();
  const std::string n = std::string(type_name<T>()) + (with_bias ? " bias" : " no bias");
  expect_close(download(d_out), out, t.atol, t.rtol, "matmul out " + n);
  expect_close(download(d_dinp), dinp, t.atol, t.rtol, "matmul dinp " + n);
  expect_close(download(d_dw), dw, 1e-4, 1e-4, "matmul dweight (fp32 out) " + n);
  if (with_bias) expect_close(download(d_db), db, 1e-4, 1e-4, "matmul dbias " + n);
}

TEST(CudaKernels, MatmulFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_matmul<float>(true); check_matmul<float>(false); }
TEST(CudaKernels, MatmulBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_matmul<bf16>(true); check_matmul<bf16>(false); }

template <typename T>
void check_attention() {
  const int B = 2, Tn = 16, C = 64, NH = 4;
  cuda::CudaContext ctx;
  const auto qkv = representable<T>(random_vec(static_cast<std::size_t>(B) * Tn * 3 * C, 30));
  const auto dout = representable<T>(random_vec(static_cast<std::size_t>(B) * Tn * C, 31));
  std::vector<double> out(dout.size()), att(static_cast<std::size_t>(B) * NH * Tn * Tn), dqkv(qkv.size());
  ref::attention_forward(out.data(), att.data(), qkv.data(), B, Tn, C, NH);
  ref::attention_backward(dqkv.data(), dout.data(), att.data(), qkv.data(), B, Tn, C, NH);
  auto d_qkv = upload<T>(qkv), d_dout = upload<T>(dout);
  DeviceBuffer<T> d_out(out.size()), d_att(att.size()), d_datt(att.size()), d_dqkv(qkv.size());
  DeviceBuffer<T> scratch(cuda::attention_scratch(B, Tn, C));
  cuda::attention_forward<T>(ctx, d_out.data(), d_att.data(), scratch.data(), d_qkv.data(), B, Tn, C, NH);
  cuda::attention_backward<T>(ctx, d_dqkv.data(), d_datt.data(), scratch.data(), d_dout.data(),
                              d_att.data(), d_qkv.data(), B, Tn, C, NH);
  ctx.synchronize();
  const cuda_test::Tol t = cuda_test::tol<T>();
  const std::string n = type_name<T>();
  expect_close(download(d_att), att, t.atol, t.rtol, "attention probabilities " + n);
  expect_close(download(d_out), out, t.atol, t.rtol, "attention out " + n);
  expect_close(download(d_dqkv), dqkv, t.atol, t.rtol, "attention dqkv " + n);
}

TEST(CudaKernels, AttentionFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_attention<float>(); }
TEST(CudaKernels, AttentionBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_attention<bf16>(); }

template <typename T>
void check_gelu_residual() {
  const std::size_t n = 1000;
  const auto x = representable<T>(random_vec(n, 40, -4, 4));
  const auto y = representable<T>(random_vec(n, 41));
  const auto dout = representable<T>(random_vec(n, 42));
  std::vector<double> g(n), dg(n), sum(n);
  ref::gelu_forward(g.data(), x.data(), static_cast<long>(n));
  ref::gelu_backward(dg.data(), dout.data(), x.data(), static_cast<long>(n));
  for (std::size_t i = 0; i < n; ++i) sum[i] = x[i] + y[i];
  auto d_x = upload<T>(x), d_y = upload<T>(y), d_dout = upload<T>(dout);
  DeviceBuffer<T> d_g(n), d_sum(n);
  cuda::gelu_forward<T>(d_g.data(), d_x.data(), n, nullptr);
  cuda::gelu_backward<T>(d_dout.data(), d_dout.data(), d_x.data(), n, nullptr);  // in place
  cuda::residual_forward<T>(d_sum.data(), d_x.data(), d_y.data(), n, nullptr);
  const cuda_test::Tol t = cuda_test::tol<T>();
  const std::string nm = type_name<T>();
  expect_close(download(d_g), g, t.atol, t.rtol, "gelu " + nm);
  expect_close(download(d_dout), dg, t.atol, t.rtol, "gelu backward " + nm);
  expect_close(download(d_sum), sum, t.atol, t.rtol, "residual " + nm);
}

TEST(CudaKernels, GeluResidualFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_gelu_residual<float>(); }
TEST(CudaKernels, GeluResidualBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_gelu_residual<bf16>(); }

template <typename T>
void check_classifier() {
  const int N = 6, V = 50, Vp = 64;
  auto logits = random_vec(static_cast<std::size_t>(N) * Vp, 50, -3, 3);
  for (int i = 0; i < N; ++i)
    for (int j = V; j < Vp; ++j) logits[static_cast<std::size_t>(i) * Vp + j] = 0.0;
  logits = representable<T>(logits);
  const std::vector<int32_t> targets = {0, 49, 7, 7, 23, 1};
  const double grad_scale = 0.5;
  std::vector<double> losses(N), dlogits(logits.size());
  const double loss = ref::classifier_loss(losses.data(), logits.data(), targets.data(), nullptr, N, V, Vp);
  ref::classifier_grad(dlogits.data(), logits.data(), targets.data(), nullptr, N, V, Vp, grad_scale);
  auto d_logits = upload<T>(logits);
  DeviceBuffer<int32_t> d_targets(N);
  d_targets.upload(targets);
  DeviceBuffer<float> d_losses(N);
  cuda::classifier_forward<T>(d_logits.data(), d_losses.data(), d_targets.data(), nullptr, N, V, Vp,
                              static_cast<float>(grad_scale / N), true, nullptr);
  const std::vector<float> got_losses = download(d_losses);
  double mean = 0.0;
  for (float l : got_losses) mean += l;
  mean /= N;
  const std::string n = type_name<T>();
  expect_close(got_losses, losses, 1e-5, 1e-5, "classifier row losses " + n);
  EXPECT_NEAR(mean, loss, 1e-5) << n;
  const cuda_test::Tol t = cuda_test::tol<T>();
  // dlogits are small (≤ grad_scale/N): a relative bf16 check with a tight absolute floor.
  expect_close(download(d_logits), dlogits, std::is_same_v<T, float> ? 1e-6 : 1e-3, t.rtol,
               "classifier dlogits " + n);
}

TEST(CudaKernels, ClassifierFp32) { WEFT_REQUIRE_CUDA_DEVICE(); check_classifier<float>(); }
TEST(CudaKernels, ClassifierBf16) { WEFT_REQUIRE_CUDA_DEVICE(); check_classifier<bf16>(); }

// AdamW: same formula and rounding as the CPU kernel, so the results agree bit for bit;
// the bf16 copy is the round-to-nearest-even of the new fp32 weights.
TEST(CudaKernels, AdamWMatchesCpuBitForBitAndWritesBf16Copy) {
  WEFT_REQUIRE_CUDA_DEVICE();
  const std::size_t n = 3000;
  auto p = kernel_test::to_float(random_vec(n, 60));
  auto g = kernel_test::to_float(random_vec(n, 61));
  std::vector<float> m(n, 0.0f), v(n, 0.0f);
  const std::vector<cpu::AdamWRange> ranges = {{0, 1000, true}, {1000, 1500, false}, {2600, 400, true}};
  cpu::AdamWConfig cfg;
  cfg.lr = 1e-2;
  cfg.weight_decay = 0.1;
  DeviceBuffer<float> dp(n), dm(n, true), dv(n, true), dg(n);
  DeviceBuffer<bf16> copy(n, true);
  dp.upload(p);
  dg.upload(g);
  for (int t = 1; t <= 3; ++t) {
    cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, ranges, cfg, t, 0.7f);
    cuda::adamw_update<bf16>(dp.data(), dm.data(), dv.data(), dg.data(), copy.data(), ranges, cfg, t,
                             0.7f, nullptr);
  }
  const std::vector<float> gp = dp.to_host(), gm = dm.to_host(), gv = dv.to_host();
  const std::vector<bf16> gc = copy.to_host();
  int mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mismatches += gp[i] != p[i] || gm[i] != m[i] || gv[i] != v[i];
    const bool in_range = i < 2500 || i >= 2600;
    const cpu::bf16 want = in_range ? cpu::f32_to_bf16(p[i]) : 0;
    mismatches += cuda_test::bits(gc[i]) != want;
  }
  EXPECT_EQ(mismatches, 0) << "GPU AdamW differs from cpu::adamw_update";
}

TEST(CudaKernels, GradSumSquaresAndBf16Conversion) {
  WEFT_REQUIRE_CUDA_DEVICE();
  const std::size_t n = 1000003;
  const auto x = random_vec(n, 70);
  double want = 0.0;
  for (double e : x) want += e * e;
  auto dx = upload<float>(x);
  DeviceBuffer<float> scratch(cuda::grad_sum_squares_scratch());
  EXPECT_NEAR(cuda::grad_sum_squares(dx.data(), n, scratch.data(), nullptr), want, 1e-5 * want);
  // fp32 → bf16 on the device equals cpu::f32_to_bf16 bit for bit (ties, NaN, inf included).
  std::vector<float> f = kernel_test::to_float(random_vec(4096, 71, -1e4, 1e4));
  f[0] = 1.00390625f;  // exactly half-way between two bf16 values: rounds to even
  f[1] = std::nanf("");
  f[2] = INFINITY;
  f[3] = 3.4e38f;      // rounds up to inf
  DeviceBuffer<float> df(f.size());
  df.upload(f);
  DeviceBuffer<bf16> db(f.size());
  cuda::convert_from_f32<bf16>(db.data(), df.data(), f.size(), nullptr);
  const std::vector<bf16> got = db.to_host();
  int bad = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const cpu::bf16 h = cuda_test::bits(got[i]);
    const cpu::bf16 want_h = cpu::f32_to_bf16(f[i]);
    bad += std::isnan(f[i]) ? !std::isnan(cpu::bf16_to_f32(h)) : h != want_h;
  }
  EXPECT_EQ(bad, 0);
}

// Two runs of the reductions with atomics elsewhere in the world (embedding, LayerNorm and
// bias gradients) give the same bits.
TEST(CudaKernels, BackwardReductionsAreDeterministic) {
  WEFT_REQUIRE_CUDA_DEVICE();
  const int B = 8, Tn = 64, C = 128, V = 50, N = B * Tn;
  std::vector<int32_t> inp(static_cast<std::size_t>(N));
  std::mt19937 gen(5);
  for (int32_t& t : inp) t = static_cast<int32_t>(gen() % V);
  const auto dout = random_vec(static_cast<std::size_t>(N) * C, 80);
  const auto x = random_vec(dout.size(), 81);
  const auto w = random_vec(C, 82);
  auto run = [&] {
    cuda::CudaContext ctx;
    auto d_dout = upload<float>(dout), d_x = upload<float>(x), d_w = upload<float>(w);
    DeviceBuffer<float> dwte(static_cast<std::size_t>(V) * C, true), dwpe(static_cast<std::size_t>(Tn) * C, true);
    DeviceBuffer<float> mean(N), rstd(N), out(dout.size()), dinp(dout.size()), dw(C, true), db(C, true);
    DeviceBuffer<float> scratch(cuda::layernorm_backward_scratch(N, C));
    cuda::EmbeddingIndex index;
    index.build(inp.data(), N, ctx.stream());
    cuda::embedding_backward<float>(dwte.data(), dwpe.data(), d_dout.data(), index, B, Tn, C, ctx.stream());
    cuda::layernorm_forward<float>(out.data(), mean.data(), rstd.data(), d_x.data(), d_w.data(), d_w.data(), N, C, ctx.stream());
    cuda::layernorm_backward<float>(dinp.data(), dw.data(), db.data(), scratch.data(), d_dout.data(), d_x.data(),
                                    d_w.data(), mean.data(), rstd.data(), N, C, false, ctx.stream());
    ctx.synchronize();
    std::vector<float> all = dwte.to_host();
    for (const auto* b : {&dwpe, &dinp, &dw, &db}) {
      const std::vector<float> h = b->to_host();
      all.insert(all.end(), h.begin(), h.end());
    }
    return all;
  };
  const std::vector<float> a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace weft
