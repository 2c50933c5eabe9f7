// Benchmark of the CPU kernels at GPT-2 d12 shapes (B=4, T=64, C=768, NH=12, Vp=50304):
// first checks every kernel against the double reference on a reduced shape, then prints
// the measured sgemm peak (2048³) and each kernel's median time, rate and share of a
// training step beside the matmul time of the same step. Threads: OMP_NUM_THREADS.
// Usage: bench_kernels [--reps R] [--B 4] [--T 64] [--L 12] [--C 768] [--NH 12]
// (d6 of issue 3: --B 8 --T 256 --L 6 --C 384 --NH 6)
#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/embedding.hpp"
#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/matmul.hpp"
#include "kernels/cpu/reference/reference.hpp"
#include "kernels/cpu/residual.hpp"
#include "kernels/cpu/threads.hpp"

namespace {

using weft::AlignedBuffer;
using Buf = AlignedBuffer<float>;

Buf random_buf(std::size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Buf b(n, false);
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (std::size_t i = 0; i < n; ++i) b[i] = dist(gen);
  return b;
}

std::vector<double> to_double(const float* x, std::size_t n) { return {x, x + n}; }

// Median seconds of `reps` runs after one warm-up.
double median_seconds(int reps, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    weft::Stopwatch w;
    fn();
    t.push_back(w.seconds());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int failures = 0;
void check(const char* what, const float* got, const double* want, std::size_t n, double tol) {
  double worst = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]) / (1.0 + std::fabs(want[i])));
  const bool ok = worst <= tol;
  failures += ok ? 0 : 1;
  std::printf("  check %-22s max rel err %.2e  %s\n", what, worst, ok ? "ok" : "FAILED");
}

// Every kernel vs the double reference on a reduced d12 shape (B=1, T=64, real widths).
void check_results() {
  constexpr int B = 1, T = 64, C = 768, NH = 12, N = B * T, V = 50257, Vp = 50304, NC = 8;
  std::printf("result checks (B=%d T=%d C=%d NH=%d; classifier on %d rows of Vp=%d):\n", B, T, C,
              NH, NC, Vp);
  const Buf x = random_buf(static_cast<std::size_t>(N) * C, 1, -2, 2);
  const Buf w = random_buf(static_cast<std::size_t>(4) * C * C, 2, -0.05f, 0.05f);
  const Buf bias = random_buf(4 * C, 3);
  Buf out(static_cast<std::size_t>(N) * 4 * C);
  weft::cpu::matmul_forward(out.data(), x.data(), w.data(), bias.data(), N, C, 4 * C);
  std::vector<double> ref_out(out.size());
  const auto xd = to_double(x.data(), x.size()), wd = to_double(w.data(), w.size()),
             bd = to_double(bias.data(), bias.size());
  weft::ref::matmul_forward(ref_out.data(), xd.data(), wd.data(), bd.data(), N, C, 4 * C);
  check("matmul_forward", out.data(), ref_out.data(), out.size(), 1e-5);

  Buf ln(x.size()), mean(N), rstd(N);
  const Buf lw = random_buf(C, 4), lb = random_buf(C, 5);
  weft::cpu::layernorm_forward(ln.data(), mean.data(), rstd.data(), x.data(), lw.data(), lb.data(), N, C);
  std::vector<double> ref_ln(ln.size()), rm(N), rr(N);
  const auto lwd = to_double(lw.data(), C), lbd = to_double(lb.data(), C);
  weft::ref::layernorm_forward(ref_ln.data(), rm.data(), rr.data(), xd.data(), lwd.data(), lbd.data(), N, C);
  check("layernorm_forward", ln.data(), ref_ln.data(), ln.size(), 1e-5);

  const Buf qkv = random_buf(static_cast<std::size_t>(N) * 3 * C, 6, -2, 2);
  Buf att_out(x.size()), att(static_cast<std::size_t>(B) * NH * T * T);
  weft::cpu::attention_forward(att_out.data(), att.data(), qkv.data(), B, T, C, NH);
  std::vector<double> ref_att_out(x.size()), ref_att(att.size());
  const auto qkvd = to_double(qkv.data(), qkv.size());
  weft::ref::attention_forward(ref_att_out.data(), ref_att.data(), qkvd.data(), B, T, C, NH);
  check("attention_forward", att_out.data(), ref_att_out.data(), x.size(), 1e-5);

  Buf g(x.size());
  weft::cpu::gelu_forward(g.data(), x.data(), x.size());
  std::vector<double> ref_g(x.size());
  weft::ref::gelu_forward(ref_g.data(), xd.data(), static_cast<long>(x.size()));
  check("gelu_forward", g.data(), ref_g.data(), x.size(), 1e-6);

  Buf logits = random_buf(static_cast<std::size_t>(NC) * Vp, 7, -8, 8);
  std::vector<int32_t> tg(NC);
  for (int i = 0; i < NC; ++i) tg[i] = i * 6007 % V;
  const auto ld = to_double(logits.data(), logits.size());
  std::vector<double> ref_losses(NC), ref_dl(ld.size());
  weft::ref::classifier_loss(ref_losses.data(), ld.data(), tg.data(), nullptr, NC, V, Vp);
  weft::ref::classifier_grad(ref_dl.data(), ld.data(), tg.data(), nullptr, NC, V, Vp, 1.0);
  Buf losses(NC);
  weft::cpu::classifier_forward_backward(logits.data(), losses.data(), tg.data(), nullptr, NC, V, Vp, 1.0f);
  check("classifier losses", losses.data(), ref_losses.data(), NC, 1e-6);
  check("classifier dlogits", logits.data(), ref_dl.data(), ld.size(), 1e-6);
}

struct Row {
  std::string name;
  int calls;       // per training step
  double seconds;  // median per call
  double work;     // flops or bytes per call
  bool is_flops;
  bool is_matmul;
};

}  // namespace

int main(int argc, char** argv) {
  // Passive waiting must be set before the OpenMP runtime starts: re-exec once if unset.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);
  }
  int reps = 7, B = 4, T = 64, L = 12, C = 768, NH = 12;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (a == "--reps") reps = v;
    else if (a == "--B") B = v;
    else if (a == "--T") T = v;
    else if (a == "--L") L = v;
    else if (a == "--C") C = v;
    else if (a == "--NH") NH = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  constexpr int V = 50257, Vp = 50304;
  const int N = B * T;
  if (B < 1 || T < 1 || L < 1 || NH < 1 || C % NH != 0) {
    std::fprintf(stderr, "bad shape: need B, T, L, NH >= 1 and C %% NH == 0\n");
    return 2;
  }
  const int threads = weft::cpu::num_threads();
  std::printf("bench_kernels: threads=%d OMP_WAIT_POLICY=%s reps=%d (medians)\n", threads,
              std::getenv("OMP_WAIT_POLICY"), reps);

  check_results();
  if (failures > 0) {
    std::printf("result check FAILED: not timing\n");
    return 1;
  }

  // sgemm peak, 2048³.
  {
    const int M = 2048;
    const Buf a = random_buf(static_cast<std::size_t>(M) * M, 10), b = random_buf(static_cast<std::size_t>(M) * M, 11);
    Buf c(static_cast<std::size_t>(M) * M);
    const double s = median_seconds(std::max(3, reps / 2), [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, M, 1.0f, a.data(), M, b.data(), M, 0.0f, c.data(), M);
    });
    std::printf("sgemm peak 2048^3: %.1f ms, %.1f GFLOP/s (%d threads)\n", s * 1e3,
                2.0 * M * M * M / s / 1e9, threads);
  }

  std::printf("\nshapes: B=%d T=%d C=%d NH=%d L=%d V=%d Vp=%d\n", B, T, C, NH, L, V, Vp);
  std::vector<Row> rows;
  const double f4 = sizeof(float);
  // Matmuls of one step: per layer qkv, attproj, fc, fcproj; plus the tied LM head.
  struct Shape { const char* name; int C_in, OC, calls; };
  const Shape shapes[] = {{"qkv", C, 3 * C, L}, {"attproj", C, C, L}, {"fc", C, 4 * C, L},
                          {"fcproj", 4 * C, C, L}, {"lm_head", C, Vp, 1}};
  for (const Shape& sh : shapes) {
    const Buf inp = random_buf(static_cast<std::size_t>(N) * sh.C_in, 20);
    const Buf w = random_buf(static_cast<std::size_t>(sh.OC) * sh.C_in, 21, -0.05f, 0.05f);
    const Buf bias = random_buf(sh.OC, 22);
    Buf out(static_cast<std::size_t>(N) * sh.OC), dinp(inp.size()), dw(w.size()), db(sh.OC);
    const bool has_bias = std::strcmp(sh.name, "lm_head") != 0;
    const double flops = 2.0 * N * sh.C_in * sh.OC;
    rows.push_back({std::string("matmul_fwd ") + sh.name, sh.calls,
                    median_seconds(reps, [&] { weft::cpu::matmul_forward(out.data(), inp.data(), w.data(), has_bias ? bias.data() : nullptr, N, sh.C_in, sh.OC); }),
                    flops, true, true});
    rows.push_back({std::string("matmul_bwd ") + sh.name, sh.calls,
                    median_seconds(reps, [&] { weft::cpu::matmul_backward(dinp.data(), dw.data(), has_bias ? db.data() : nullptr, out.data(), inp.data(), w.data(), N, sh.C_in, sh.OC); }),
                    2 * flops, true, true});
  }

  const std::size_t NC = static_cast<std::size_t>(N) * C;
  {
    std::vector<int32_t> tok(N);
    for (int i = 0; i < N; ++i) tok[i] = i * 7919 % V;
    const Buf wte = random_buf(static_cast<std::size_t>(Vp) * C, 30), wpe = random_buf(static_cast<std::size_t>(T) * C, 31);
    Buf out(NC), dwte(wte.size()), dwpe(wpe.size());
    rows.push_back({"embedding_fwd", 1, median_seconds(reps, [&] { weft::cpu::embedding_forward(out.data(), tok.data(), wte.data(), wpe.data(), B, T, C, V); }), 3 * NC * f4, false, false});
    rows.push_back({"embedding_bwd", 1, median_seconds(reps, [&] { weft::cpu::embedding_backward(dwte.data(), dwpe.data(), out.data(), tok.data(), B, T, C); }), 5 * NC * f4, false, false});
  }
  {
    const Buf x = random_buf(NC, 40), w = random_buf(C, 41), b = random_buf(C, 42), d = random_buf(NC, 43);
    Buf out(NC), mean(N), rstd(N), dx(NC), dw(C), db(C);
    rows.push_back({"layernorm_fwd", 2 * L + 1, median_seconds(reps, [&] { weft::cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C); }), 2 * NC * f4, false, false});
    rows.push_back({"layernorm_bwd_add", 2 * L + 1, median_seconds(reps, [&] { weft::cpu::layernorm_backward_add(dx.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), mean.data(), rstd.data(), N, C); }), 4 * NC * f4, false, false});
    rows.push_back({"residual_fwd", 2 * L, median_seconds(reps, [&] { weft::cpu::residual_forward(out.data(), x.data(), d.data(), NC); }), 3 * NC * f4, false, false});
    Buf g4(4 * NC), x4 = random_buf(4 * NC, 44), d4 = random_buf(4 * NC, 45);
    rows.push_back({"gelu_fwd", L, median_seconds(reps, [&] { weft::cpu::gelu_forward(g4.data(), x4.data(), 4 * NC); }), 2 * 4 * NC * f4, false, false});
    rows.push_back({"gelu_bwd", L, median_seconds(reps, [&] { weft::cpu::gelu_backward(g4.data(), d4.data(), x4.data(), 4 * NC); }), 3 * 4 * NC * f4, false, false});
  }
  {
    const Buf qkv = random_buf(3 * NC, 50, -2, 2), dout = random_buf(NC, 51);
    Buf out(NC), att(static_cast<std::size_t>(B) * NH * T * T), dqkv(3 * NC),
        scratch(weft::cpu::attention_backward_scratch_size(T));
    // Causal: QKᵀ and PV on the lower triangle, 2·2·B·NH·hs·T(T+1)/2 flops forward.
    const double fl = 2.0 * B * NH * (C / NH) * static_cast<double>(T) * (T + 1);
    rows.push_back({"attention_fwd", L, median_seconds(reps, [&] { weft::cpu::attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH); }), fl, true, false});
    rows.push_back({"attention_bwd", L, median_seconds(reps, [&] { weft::cpu::attention_backward(dqkv.data(), scratch.data(), scratch.size(), dout.data(), att.data(), qkv.data(), B, T, C, NH); }), 2 * fl, true, false});
  }
  {
    const Buf logits0 = random_buf(static_cast<std::size_t>(N) * Vp, 60, -8, 8);
    Buf logits(logits0.size()), losses(N);
    std::vector<int32_t> tg(N);
    for (int i = 0; i < N; ++i) tg[i] = i * 6007 % V;
    // Time includes re-copying the logits (the kernel overwrites them); bytes: read + write.
    rows.push_back({"classifier_fwd_bwd", 1, median_seconds(reps, [&] {
                      std::memcpy(logits.data(), logits0.data(), logits.bytes());
                      weft::cpu::classifier_forward_backward(logits.data(), losses.data(), tg.data(), nullptr, N, V, Vp, 1.0f);
                    }), 2 * logits.bytes() * 1.0, false, false});
  }
  {
    // AdamW + grad norm timed on a 16M-parameter slice and scaled to the model's count
    // (memory-bound and linear in the count), to keep the benchmark's RSS small.
    const double model_params = static_cast<double>(Vp) * C + 1024.0 * C + L * (12.0 * C * C + 13.0 * C) + 2.0 * C;
    const std::size_t n = 16u << 20;
    Buf p = random_buf(n, 70), m(n), v(n), g = random_buf(n, 71, -1e-3f, 1e-3f);
    const weft::cpu::AdamWRange ranges[] = {{0, n / 2, true}, {n / 2, n - n / 2, false}};
    int64_t t = 0;
    const double sa = median_seconds(reps, [&] { weft::cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, ranges, weft::cpu::AdamWConfig{}, ++t, 1.0f); });
    const double sn = median_seconds(reps, [&] { volatile double s = weft::cpu::grad_sum_squares(g.data(), n); (void)s; });
    const double scale = model_params / static_cast<double>(n);
    rows.push_back({"adamw (scaled)", 1, sa * scale, 7.0 * model_params * f4, false, false});
    rows.push_back({"grad_norm (scaled)", 1, sn * scale, model_params * f4, false, false});
  }

  double matmul_step = 0.0, other_step = 0.0;
  for (const Row& r : rows) (r.is_matmul ? matmul_step : other_step) += r.seconds * r.calls;
  std::printf("%-22s %6s %10s %11s %14s %8s\n", "kernel", "calls", "ms/call", "ms/step", "rate", "% step");
  for (const Row& r : rows) {
    const double rate = r.work / r.seconds / 1e9;
    std::printf("%-22s %6d %10.3f %11.2f %9.1f %-4s %7.1f%%\n", r.name.c_str(), r.calls,
                r.seconds * 1e3, r.seconds * r.calls * 1e3, rate, r.is_flops ? "GF/s" : "GB/s",
                100.0 * r.seconds * r.calls / (matmul_step + other_step));
  }
  std::printf("\nnote: AdamW and grad norm timed on 16M parameters, scaled linearly\n");
  std::printf("step total (sum of kernels): %.1f ms; matmul %.1f ms (%.1f%%), non-matmul %.1f ms (%.1f%%)\n",
              (matmul_step + other_step) * 1e3, matmul_step * 1e3,
              100 * matmul_step / (matmul_step + other_step), other_step * 1e3,
              100 * other_step / (matmul_step + other_step));
  return 0;
}
