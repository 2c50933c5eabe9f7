// Micro-benchmarks behind `weft plan --calibrate` (see calibrate.hpp).
#include "plan/calibrate.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"

namespace weft::plan {

namespace {

template <typename F>
double median_seconds(int repeats, F&& run) {
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    Stopwatch sw;
    run();
    t.push_back(sw.seconds());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Checks cblas_sgemm on a small odd-sized product against a plain triple loop in double.
double gemm_check() {
  const int M = 37, N = 29, K = 53;
  std::vector<float> a(M * K), b(K * N), c(M * N, 0.f);
  Rng rng(7);
  for (auto& x : a) x = static_cast<float>(rng.uniform() - 0.5);
  for (auto& x : b) x = static_cast<float>(rng.uniform() - 0.5);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a.data(), K, b.data(), N,
              0.f, c.data(), N);
  double err = 0;
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      double ref = 0;
      for (int k = 0; k < K; ++k) ref += static_cast<double>(a[i * K + k]) * b[k * N + j];
      err = std::max(err, std::fabs(ref - c[i * N + j]));
    }
  }
  return err;
}

// One-way time of `bytes` handed from one thread to another: the sender copies into a
// shared buffer and raises a flag, the receiver copies out and answers; half the round trip.
double message_seconds(int64_t bytes, int repeats) {
  AlignedBuffer<char> src(static_cast<size_t>(bytes)), shared(static_cast<size_t>(bytes)),
      dst(static_cast<size_t>(bytes));
  std::memset(src.data(), 1, static_cast<size_t>(bytes));
  std::atomic<int> turn{0};  // 0: sender's turn, 1: receiver's, -1: stop
  auto wait_for = [&turn](int want) {
    int spins = 0;
    while (turn.load(std::memory_order_acquire) != want) {
      if (++spins > 1000) std::this_thread::yield();
    }
  };
  std::thread receiver([&] {
    for (;;) {
      int spins = 0;
      int v;
      while ((v = turn.load(std::memory_order_acquire)) == 0) {
        if (++spins > 1000) std::this_thread::yield();
      }
      if (v < 0) return;
      std::memcpy(dst.data(), shared.data(), static_cast<size_t>(bytes));
      turn.store(0, std::memory_order_release);
    }
  });
  const int rounds = bytes < 4096 ? 2000 : 4;
  const double t = median_seconds(repeats, [&] {
    for (int r = 0; r < rounds; ++r) {
      std::memcpy(shared.data(), src.data(), static_cast<size_t>(bytes));
      turn.store(1, std::memory_order_release);
      wait_for(0);
    }
  });
  turn.store(-1, std::memory_order_release);
  receiver.join();
  return t / rounds / 2.0;
}

}  // namespace

MeasuredRates calibrate_measure(const CalibrateOptions& o) {
  if (o.gemm_n < 64 || o.repeats < 1 || o.copy_bytes < (1 << 20) || o.message_bytes < (1 << 20)) {
    throw input_error("calibrate: gemm size must be >= 64, repeats >= 1, buffers >= 1 MiB");
  }
  MeasuredRates r;
  r.gemm_n = o.gemm_n;
  r.threads = omp_get_max_threads();
  r.gemm_max_error = gemm_check();
  if (!(r.gemm_max_error < 1e-4)) {
    throw Error(ErrorKind::kRuntime, str("calibrate: cblas_sgemm gave a wrong product (max error ",
                                         r.gemm_max_error, ")"),
                "check the OpenBLAS installation");
  }
  const int n = o.gemm_n;
  AlignedBuffer<float> a(static_cast<size_t>(n) * n), b(static_cast<size_t>(n) * n),
      c(static_cast<size_t>(n) * n);  // (n, n) each
  std::fill(a.data(), a.data() + a.size(), 0.5f);
  std::fill(b.data(), b.data() + b.size(), 0.25f);
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.f, a.data(), n, b.data(), n,
                0.f, c.data(), n);
  };
  gemm();  // warm-up: thread pool, page faults
  r.gemm_flops = 2.0 * n * static_cast<double>(n) * n / median_seconds(o.repeats, gemm);

  AlignedBuffer<char> from(static_cast<size_t>(o.copy_bytes)), to(static_cast<size_t>(o.copy_bytes));
  std::memset(from.data(), 3, from.size());
  std::memset(to.data(), 0, to.size());
  const double tc = median_seconds(o.repeats, [&] { std::memcpy(to.data(), from.data(), from.size()); });
  r.mem_bandwidth = 2.0 * static_cast<double>(o.copy_bytes) / tc;

  r.local_alpha = message_seconds(8, o.repeats);
  const double t_large = message_seconds(o.message_bytes, o.repeats);
  r.local_beta = static_cast<double>(o.message_bytes) / std::max(t_large - r.local_alpha, 1e-9);
  return r;
}

ClusterSpec calibrate_cluster(const MeasuredRates& r, int ranks, double memory_bytes) {
  WEFT_CHECK(ranks >= 1, "ranks ", ranks);
  // Local ranks split the machine's cores (and its memory bus) evenly between them.
  const double share = 1.0 / ranks;
  ClusterSpec c;
  c.gpu = {"this-machine", r.gemm_flops * share, r.gemm_flops * share, memory_bytes / ranks,
           r.mem_bandwidth * share, "weft plan --calibrate"};
  c.gpus = ranks;
  c.gpus_per_node = ranks;
  c.intra = {"shared-memory", r.local_beta, r.local_alpha};
  c.inter = c.intra;
  return c;
}

}  // namespace weft::plan
