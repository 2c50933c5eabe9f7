// Generation speed of the KV-cache engine on d12 (GPT-2 124M shape, random weights):
// decode tokens/s at batch 1 and batch 8, time to first token for a 256-token prompt,
// against the memory-bandwidth limit (STREAM triad bandwidth / weight bytes per
// token) and against the no-cache baseline (full recomputation per token).
// First checks that cached logits equal full recomputation. Run with
// OMP_WAIT_POLICY=PASSIVE; `bench_infer [--threads N] [--model d12] [--tokens N]`.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "infer/engine.hpp"
#include "infer/kv_decoder.hpp"
#include "kernels/cpu/threads.hpp"
#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"

using namespace weft;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// STREAM triad a = b + s·c over arrays far larger than the caches; bytes counted as
// STREAM does (3 arrays × 4 bytes per element). Best of `reps` (GB/s).
double triad_gbs(std::size_t n, int reps) {
  AlignedBuffer<float> a(n, false), b(n, false), c(n, false);
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    float* pa = a.data();
    const float* pb = b.data();
    const float* pc = c.data();
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) pa[i] = pb[i] + 3.0f * pc[i];
    const double t = now_s() - t0;
    best = std::max(best, 3.0 * 4.0 * n / t / 1e9);
  }
  if (a[n / 2] != 7.0f) {
    std::fprintf(stderr, "triad check failed\n");
    std::exit(1);
  }
  return best;
}

std::vector<std::int32_t> tokens(int n, int vocab, unsigned seed) {
  std::vector<std::int32_t> t(n);
  for (int i = 0; i < n; ++i)
    t[i] = static_cast<std::int32_t>((seed * 2654435761u + i * 40503u) % vocab);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, gen = 64;
  std::string preset = "d12";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--model"))
      preset = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tokens"))
      gen = std::atoi(argv[i + 1]);
  }
  cpu::set_num_threads(threads);
  const model::GptConfig cfg = model::gpt_config_preset(preset);
  std::printf("bench_infer: %s (%s), %d threads, random weights\n", preset.c_str(),
              cfg.describe().c_str(), threads);

  // 1. Check: cached logits equal full recomputation (16 tokens, last position).
  model::GptModel full(cfg, 1, 16, /*training=*/false);
  full.init_weights(1);
  const std::vector<std::int32_t> seq = tokens(16, cfg.vocab, 3);
  full.forward(seq.data(), nullptr, nullptr, 1, 16);
  {
    infer::KvDecoder dec(cfg, full.params(), 1, 64, 64);
    infer::DecodeChunk pre{0, 0, seq.data(), 15};
    dec.forward({&pre, 1});
    infer::DecodeChunk one{0, 15, seq.data() + 15, 1};
    std::span<const float> z = dec.forward({&one, 1});
    double worst = 0;
    const float* want = full.logits() + 15 * static_cast<std::size_t>(cfg.padded_vocab);
    for (int v = 0; v < cfg.vocab; ++v) worst = std::max(worst, std::fabs(double(z[v]) - want[v]));
    std::printf("check: KV-cache logits vs full recompute, max |diff| = %.2e %s\n", worst,
                worst < 1e-4 ? "OK" : "FAILED");
    if (!(worst < 1e-4)) return 1;
  }

  // 2. Bandwidth limit.
  const double bw = triad_gbs(std::size_t(64) << 20, 5);
  const double weight_bytes =
      4.0 * (static_cast<double>(cfg.num_params()) - static_cast<double>(cfg.max_seq) * cfg.n_embd);
  const double limit = bw * 1e9 / weight_bytes;
  std::printf(
      "memory bandwidth (STREAM triad, %d threads): %.1f GB/s; weight bytes/token %.1f MB"
      " -> batch-1 limit %.1f tok/s\n",
      threads, bw, weight_bytes / 1e6, limit);

  infer::EngineOptions eo;
  eo.max_batch = 8;
  eo.max_seq = 512;
  infer::Engine engine(cfg, full.params(), eo);
  auto req = [&](int prompt_len, int max_tokens, unsigned seed) {
    infer::GenerationRequest r;
    r.prompt = tokens(prompt_len, cfg.vocab, seed);
    r.sampling.temperature = 0.0f;
    r.max_tokens = max_tokens;
    return r;
  };
  // 3. Decode at batch 1 and 8: tokens after the first over the time after the first.
  auto decode_rate = [&](int batch) {
    std::vector<double> rates;
    for (int rep = 0; rep < 3; ++rep) {
      std::vector<infer::GenerationRequest> rs;
      for (int b = 0; b < batch; ++b) rs.push_back(req(16, gen, 10 + b + rep));
      const std::vector<infer::GenerationResult> out = engine.generate_batch(std::move(rs));
      double t_first = 0, t_end = 0;
      long n = 0;
      for (const auto& g : out) {
        t_first = std::max(t_first, g.time_to_first_token_s);
        t_end = std::max(t_end, g.total_time_s);
        n += static_cast<long>(g.tokens.size()) - 1;
      }
      rates.push_back(n / (t_end - t_first));
    }
    return median(rates);
  };
  const double r1 = decode_rate(1);
  const double r8 = decode_rate(8);
  // 4. Time to first token, 256-token prompt.
  std::vector<double> ttft;
  for (int rep = 0; rep < 3; ++rep)
    ttft.push_back(engine.generate(req(256, 1, 99 + rep)).time_to_first_token_s);
  // 5. Baseline: no cache, full recomputation of the prefix for each new token.
  double base_rate = 0;
  {
    model::GptModel m(cfg, 1, 64, false);
    std::memcpy(m.params(), full.params(), cfg.num_params() * sizeof(float));
    std::vector<std::int32_t> s = tokens(16, cfg.vocab, 5);
    const int n = 8;
    const double t0 = now_s();
    for (int i = 0; i < n; ++i) {
      m.forward(s.data(), nullptr, nullptr, 1, static_cast<int>(s.size()));
      const float* z = m.logits() + (s.size() - 1) * static_cast<std::size_t>(cfg.padded_vocab);
      s.push_back(static_cast<std::int32_t>(std::max_element(z, z + cfg.vocab) - z));
    }
    base_rate = n / (now_s() - t0);
  }
  std::printf("\n%-34s %12s\n", "measure", "value");
  std::printf("%-34s %12.1f\n", "decode tok/s, batch 1", r1);
  std::printf("%-34s %12.1f\n", "decode tok/s, batch 8 (total)", r8);
  std::printf("%-34s %12.2f\n", "batch 8 / batch 1", r8 / r1);
  std::printf("%-34s %12.1f\n", "bandwidth limit tok/s, batch 1", limit);
  std::printf("%-34s %11.0f%%\n", "batch 1 as % of the limit", 100.0 * r1 / limit);
  std::printf("%-34s %12.3f\n", "time to first token, 256 prompt s", median(ttft));
  std::printf("%-34s %12.2f\n", "baseline: no-cache tok/s (16-24)", base_rate);
  std::printf("targets: batch 1 >= 60%% of the limit: %s; batch 8 >= 4x batch 1: %s\n",
              r1 >= 0.6 * limit ? "met" : "NOT met", r8 >= 4 * r1 ? "met" : "NOT met");
  return 0;
}
