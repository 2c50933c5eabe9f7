// Micro-benchmarks behind `weft plan --calibrate` (see calibrate.hpp).
#include "plan/calibrate.hpp"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/cpu_time.hpp"
#include "core/huge_pages.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "kernels/cpu/classifier.hpp"
#include "kernels/cpu/gelu.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "kernels/cpu/layernorm.hpp"
#include "kernels/cpu/residual.hpp"
#include "kernels/cpu/threads.hpp"
#include "parallel/page_release.hpp"

namespace weft::plan {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

struct Timing {
  double wall_s = 0;  // median seconds of one call (the slowest of the concurrent copies)
  double cpu_s = 0;   // median CPU-seconds of one call of one copy (all its threads)
};

using Work = std::function<void()>;

// Runs `concurrency` copies of a piece of work at once, each on its own thread with
// `threads` OpenMP/BLAS threads (copy 0 on the calling thread), in lockstep repeats.
// make(i) builds copy i's work (it owns its buffers) on the thread that will run it.
Timing time_concurrent(int concurrency, int threads, const CalibrateOptions& o,
                       const std::function<Work(int)>& make) {
  std::mutex mu;
  std::condition_variable cv;
  int generation = 0, done = 0, calls = 1;
  bool stop = false;
  std::vector<std::thread> crew;
  for (int i = 1; i < concurrency; ++i) {
    crew.emplace_back([&, i] {
      cpu::set_num_threads(threads);
      Work w = make(i);
      w();  // warm-up: pages, thread pool
      std::unique_lock<std::mutex> lk(mu);
      ++done;
      cv.notify_all();
      int seen = 0;
      for (;;) {
        cv.wait(lk, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
        const int k = calls;
        lk.unlock();
        for (int c = 0; c < k; ++c) w();
        lk.lock();
        ++done;
        cv.notify_all();
      }
    });
  }
  cpu::set_num_threads(threads);
  Work w = make(0);
  Stopwatch warm;
  w();
  const double t1 = std::max(warm.seconds(), 1e-7);
  {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return done == concurrency - 1; });
  }
  calls = std::max(1, static_cast<int>(std::ceil(o.repeat_seconds / t1)));
  const int repeats = t1 * calls > 0.05 ? std::min(o.repeats, 3) : o.repeats;
  std::vector<double> wall, cpu;
  for (int r = 0; r < repeats; ++r) {
    const double c0 = process_cpu_seconds();
    Stopwatch sw;
    {
      std::lock_guard<std::mutex> lk(mu);
      done = 0;
      ++generation;
    }
    cv.notify_all();
    for (int c = 0; c < calls; ++c) w();
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return done == concurrency - 1; });
    }
    wall.push_back(sw.seconds() / calls);
    cpu.push_back((process_cpu_seconds() - c0) / calls / concurrency);
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& t : crew) t.join();
  return {median(wall), median(cpu)};
}

void fill(float* p, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.uniform() - 0.5);
}

// Work: C(m,n) = A·B in weft's layouts (see rates.hpp), row-major, natural strides.
// Like a step, which meets each layer's weights and gradients once, the calls cycle
// through enough copies of the operands (>= 96 MiB, at most 16) that they come from
// memory rather than the cache of the previous call.
Work make_gemm(int64_t m, int64_t n, int64_t k, const std::string& op, int seed) {
  const std::size_t sa = static_cast<std::size_t>(m * k), sb = static_cast<std::size_t>(k * n),
                    sc = static_cast<std::size_t>(m * n);
  const double set_bytes = 4.0 * static_cast<double>(sa + sb + sc);
  const int copies = static_cast<int>(std::clamp(std::ceil(96.0 * (1 << 20) / set_bytes), 1.0, 16.0));
  struct Sets {
    std::vector<AlignedBuffer<float>> a, b, c;
    int next = 0;
  };
  auto s = std::make_shared<Sets>();
  for (int i = 0; i < copies; ++i) {
    s->a.emplace_back(sa);
    s->b.emplace_back(sb);
    s->c.emplace_back(sc);
    fill(s->a.back().data(), sa, 11 + seed + 100 * i);
    fill(s->b.back().data(), sb, 13 + seed + 100 * i);
    std::memset(s->c.back().data(), 0, s->c.back().bytes());
  }
  const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(k);
  const int mode = op == "nt" ? 0 : op == "nn" ? 1 : 2;
  return [s, M, N, K, mode, copies] {
    const int i = s->next;
    s->next = (i + 1) % copies;
    const float* a = s->a[static_cast<std::size_t>(i)].data();
    const float* b = s->b[static_cast<std::size_t>(i)].data();
    float* c = s->c[static_cast<std::size_t>(i)].data();
    if (mode == 0)  // out (m,n) = inp (m,k) · W (n,k)ᵀ
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.f, a, K, b, K, 0.f, c, N);
    else if (mode == 1)  // dinp (m,n) = dout (m,k) · W (k,n)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a, K, b, N, 0.f, c, N);
    else  // dW (m,n) += dout (k,m)ᵀ · inp (k,n)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.f, a, M, b, N, 1.f, c, N);
  };
}

// The "layer" mix on (n, C): 2 layernorms, 2 residual adds, GELU forward and backward on
// (n, 4C), 2 layernorm backward-adds: 152·C bytes per row (see kLayerMixBytesPerElem).
constexpr double kLayerMixBytesPerElem = 152.0;
Work make_layer_mix(int64_t elems, int seed) {
  const int C = 768;
  const int n = static_cast<int>(std::max<int64_t>(1, elems / C));
  const std::size_t nc = static_cast<std::size_t>(n) * C;
  struct Buffers {
    AlignedBuffer<float> x, y, ln, fch, fg, dfch, mean, rstd, w, b, dw, db;
  };
  auto s = std::make_shared<Buffers>();
  for (auto* p : {&s->x, &s->y, &s->ln}) p->allocate(nc);
  for (auto* p : {&s->fch, &s->fg, &s->dfch}) p->allocate(4 * nc);
  for (auto* p : {&s->mean, &s->rstd}) p->allocate(static_cast<std::size_t>(n));
  for (auto* p : {&s->w, &s->b, &s->dw, &s->db}) p->allocate(static_cast<std::size_t>(C));
  fill(s->x.data(), nc, 21 + seed);
  fill(s->y.data(), nc, 23 + seed);
  fill(s->fch.data(), 4 * nc, 25 + seed);
  fill(s->dfch.data(), 4 * nc, 27 + seed);
  std::fill(s->w.data(), s->w.data() + C, 1.f);
  std::memset(s->b.data(), 0, s->b.bytes());
  return [s, n, C, nc] {
    cpu::layernorm_forward(s->ln.data(), s->mean.data(), s->rstd.data(), s->x.data(), s->w.data(),
                           s->b.data(), n, C);
    cpu::add_inplace(s->y.data(), s->x.data(), nc);
    cpu::layernorm_forward(s->ln.data(), s->mean.data(), s->rstd.data(), s->y.data(), s->w.data(),
                           s->b.data(), n, C);
    cpu::add_inplace(s->y.data(), s->x.data(), nc);
    cpu::gelu_forward(s->fg.data(), s->fch.data(), 4 * nc);
    cpu::gelu_backward(s->dfch.data(), s->fg.data(), s->fch.data(), 4 * nc);
    cpu::layernorm_backward_add(s->x.data(), s->dw.data(), s->db.data(), s->ln.data(), s->y.data(),
                                s->w.data(), s->mean.data(), s->rstd.data(), n, C);
    cpu::layernorm_backward_add(s->x.data(), s->dw.data(), s->db.data(), s->ln.data(), s->y.data(),
                                s->w.data(), s->mean.data(), s->rstd.data(), n, C);
  };
}

// Cross-entropy forward + backward over (n, V) logits: 20 bytes per logit.
constexpr double kClassifierBytesPerElem = 20.0;
Work make_classifier(int64_t elems, int seed) {
  const int V = 50304;
  const int n = static_cast<int>(std::max<int64_t>(1, elems / V));
  struct Buffers {
    AlignedBuffer<float> logits, losses;
    AlignedBuffer<std::int32_t> targets;
  };
  auto s = std::make_shared<Buffers>();
  s->logits.allocate(static_cast<std::size_t>(n) * V);
  s->losses.allocate(static_cast<std::size_t>(n));
  s->targets.allocate(static_cast<std::size_t>(n));
  fill(s->logits.data(), s->logits.size(), 31 + seed);
  for (int i = 0; i < n; ++i) s->targets[static_cast<std::size_t>(i)] = (i * 7919) % V;
  return [s, n, V] {
    cpu::classifier_forward_backward(s->logits.data(), s->losses.data(), s->targets.data(), nullptr,
                                     n, V, V, 1.f);
  };
}

// The optimizer step of `elems` parameters: norm, AdamW, zeroing: 36 bytes per parameter.
constexpr double kAdamwBytesPerElem = 36.0;
Work make_adamw(int64_t elems, int seed) {
  const std::size_t n = static_cast<std::size_t>(elems);
  struct Buffers {
    AlignedBuffer<float> p, m, v, g;
    std::vector<cpu::AdamWRange> ranges;
  };
  auto s = std::make_shared<Buffers>();
  for (auto* b : {&s->p, &s->m, &s->v, &s->g}) b->allocate(n);
  fill(s->p.data(), n, 41 + seed);
  std::memset(s->m.data(), 0, s->m.bytes());
  std::memset(s->v.data(), 0, s->v.bytes());
  std::memset(s->g.data(), 0, s->g.bytes());
  s->ranges.push_back({0, n, true});
  return [s, n] {
    volatile double norm = cpu::grad_sum_squares(s->g.data(), n);
    (void)norm;
    cpu::adamw_update(s->p.data(), s->m.data(), s->v.data(), s->g.data(), n, s->ranges, {}, 1, 1.f);
    std::memset(s->g.data(), 0, n * sizeof(float));
  };
}

// ZeRO-2/3's released memory: `elems` floats on huge pages given back to the OS and then
// accumulated into (+=), as the next backward does. The release is train's own
// (parallel/page_release.hpp, PageGrain::kHuge, train's default): whole 2 MiB pages go
// back and fault in again one at a time, the partial edges are zeroed. 4 bytes per element.
constexpr double kFaultBytesPerElem = 4.0;
Work make_fault(int64_t elems, int seed) {
  const std::size_t n = static_cast<std::size_t>(elems);
  auto buf = std::make_shared<AlignedBuffer<float>>();
  buf->allocate(n, /*zero=*/false);
  advise_huge_pages(buf->data(), buf->bytes());  // before the first touch, as GptModel's
  fill(buf->data(), n, 51 + seed);
  return [buf, n] {
    float* p = buf->data();
    parallel::release_range(p, 0, n, parallel::PageGrain::kHuge);
    const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t i = 0; i < count; ++i) p[i] += 1.0f;
  };
}

struct Restore {  // puts the caller's thread count back
  int threads = cpu::num_threads();
  ~Restore() { cpu::set_num_threads(threads); }
};

}  // namespace

double calibrate_gemm_check() {
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
  if (!(err < 1e-4))
    throw Error(ErrorKind::kRuntime, str("calibrate: cblas_sgemm gave a wrong product (max error ", err, ")"),
                "check the OpenBLAS installation");
  return err;
}

Rates calibrate_measure(const std::vector<LocalRun>& runs, const Rates& have,
                        const CalibrateOptions& o) {
  if (o.repeats < 1 || o.repeat_seconds < 0 || o.message_bytes < (1 << 20))
    throw input_error("calibrate: repeats >= 1, repeat seconds >= 0, message >= 1 MiB");
  Restore restore;
  calibrate_gemm_check();
  Rates out;
  out.has_compute = true;
  for (const LocalRun& r : runs) {
    local_validate(r);
    const int ranks = local_ranks(r), th = r.threads_per_rank;
    for (int st = 0; st < r.pp; ++st) {
      for (const GemmCall& g : local_stage_gemms(r, st)) {
        const int t = g.attention ? 1 : th, q = g.attention ? ranks * th : ranks;
        if (rates_has_gemm(have.compute, g.m, g.n, g.k, g.op, t, q) ||
            rates_has_gemm(out.compute, g.m, g.n, g.k, g.op, t, q))
          continue;
        const Timing tm = time_concurrent(q, t, o, [&](int i) { return make_gemm(g.m, g.n, g.k, g.op, i); });
        const double flops = 2.0 * static_cast<double>(g.m * g.n * g.k);
        out.compute.gemm.push_back({g.m, g.n, g.k, g.op, t, q, flops / tm.wall_s / 1e9,
                                    flops / std::max(tm.cpu_s, 1e-9) / 1e9});
      }
      const int64_t n = r.micro_batch * r.model.seq;
      const double params = local_stage_params(r, st) / (r.zero >= 1 ? r.dp : 1);
      const FaultBytes fb = local_fault_bytes(r, st);
      const int64_t release_elems = static_cast<int64_t>(std::min(fb.step / 4.0, 16.0 * (1 << 20)));
      const struct {
        const char* kind;
        int64_t elems;
        double bytes_per_elem;
        Work (*make)(int64_t, int);
      } kernels[] = {
          {"layer", n * r.model.hidden, kLayerMixBytesPerElem, make_layer_mix},
          {"classifier", n * (r.model.vocab / r.tp), kClassifierBytesPerElem, make_classifier},
          {"adamw", static_cast<int64_t>(std::min(params, 16.0 * (1 << 20))), kAdamwBytesPerElem,
           make_adamw},
          {"fault", std::max<int64_t>(release_elems, 1), kFaultBytesPerElem, make_fault},
      };
      for (const auto& k : kernels) {
        if (std::string(k.kind) == "classifier" && st != r.pp - 1) continue;
        if (std::string(k.kind) == "fault" && fb.step <= 0) continue;
        if (rates_has_kernel(have.compute, k.kind, k.elems, th, ranks) ||
            rates_has_kernel(out.compute, k.kind, k.elems, th, ranks))
          continue;
        const Timing tm = time_concurrent(ranks, th, o, [&](int i) { return k.make(k.elems, i); });
        // The mixes run whole rows: count the bytes of what actually ran.
        const int64_t row = std::string(k.kind) == "layer" ? 768 : std::string(k.kind) == "classifier" ? 50304 : 1;
        const double bytes = k.bytes_per_elem * static_cast<double>(std::max<int64_t>(1, k.elems / row) * row);
        out.compute.kernels.push_back({k.kind, k.elems, th, ranks, bytes / tm.wall_s / 1e9,
                                       bytes / std::max(tm.cpu_s, 1e-9) / 1e9});
      }
    }
  }
  if (o.measure_link) {
    out.intra_host = calibrate_link(o);
    out.has_intra = true;
  }
  return out;
}

namespace {

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
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    Stopwatch sw;
    for (int r = 0; r < rounds; ++r) {
      std::memcpy(shared.data(), src.data(), static_cast<size_t>(bytes));
      turn.store(1, std::memory_order_release);
      wait_for(0);
    }
    t.push_back(sw.seconds());
  }
  turn.store(-1, std::memory_order_release);
  receiver.join();
  return median(t) / rounds / 2.0;
}

}  // namespace

LinkRate calibrate_link(const CalibrateOptions& o) {
  LinkRate l;
  l.alpha_s = message_seconds(8, o.repeats);
  const double t_large = message_seconds(o.message_bytes, o.repeats);
  l.beta_s_per_byte = std::max(t_large - l.alpha_s, 1e-9) / static_cast<double>(o.message_bytes);
  return l;
}

}  // namespace weft::plan
