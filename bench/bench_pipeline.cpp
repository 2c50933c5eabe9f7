// bench_pipeline: pipeline-parallel training speed on this CPU. For d6 (vocab 4096,
// B=4, T=64) it runs `weft train` in-process: one rank with --threads 2 and
// --grad-accum m (the baseline), then pp2 as 2 thread ranks × 1 OpenMP thread
// with GPipe and 1F1B; per layout the median step ms and tokens/s over the steps
// after the first, and the measured pipeline bubble (median over steps, mean over
// ranks) next to the theory (pp-1)/(m+pp-1); then dp2·pp2 with ZeRO-1 (4 ranks), and
// every rank's bytes per step on the dp and pp axes, counted vs the formula. Checks first: every layout's losses
// equal the baseline's within 1e-3 (thread counts differ, so not bit-for-bit).
// Usage: bench_pipeline [steps=6] [m=4]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "parallel/pipeline_schedule.hpp"
#include "train/pretrain.hpp"

namespace {

namespace fs = std::filesystem;
using namespace weft;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

struct Row {
  std::string name;
  std::vector<double> losses, ms, bubble;
  std::vector<train::CommCheck> comm;  // per rank: bytes per axis, measured and formula
};

Row run(const std::string& name, train::PretrainOptions o) {
  o.out = (fs::temp_directory_path() / ("weft_bench_pp_" + name)).string();
  train::PretrainResult res = train::pretrain(o);
  Row r{name, res.losses, {}, {}, res.comm};
  std::ifstream in(fs::path(o.out) / "metrics.jsonl");
  std::string line;
  for (int i = 0; std::getline(in, line); ++i) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (i == 0) continue;  // warm-up step
    r.ms.push_back(j["ms"].get<double>());
    if (j.contains("bubble")) r.bubble.push_back(j["bubble"].get<double>());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 6;
  const int m = argc > 2 ? std::atoi(argv[2]) : 4;
  const fs::path dir = fs::temp_directory_path() / "weft_bench_pp_data";
  fs::create_directories(dir);
  Rng rng(3);
  std::vector<std::uint16_t> tokens(200000);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<std::uint16_t>(rng.uniform() < 0.7 ? (i * 31) % 4096 : rng.below(4096));
  data::shard_write((dir / "syn_train_000.bin").string(), tokens);

  train::PretrainOptions base;
  base.model = "d6";
  base.vocab = 4096;
  base.max_seq = 64;
  base.data = dir.string();
  base.batch = 4;
  base.seq = 64;
  base.steps = steps;
  base.lr = 1e-3;
  base.peak_gflops = 1.0;
  base.quiet = true;
  base.overwrite = true;

  std::vector<Row> rows;
  train::PretrainOptions o = base;
  o.threads = 2;
  o.grad_accum = m;
  rows.push_back(run("pp1 (1 rank x 2 threads)", o));
  for (const char* s : {"gpipe", "1f1b"}) {
    o = base;
    o.threads = 1;
    o.pp = 2;
    o.ranks_as = "threads";
    o.schedule = s;
    o.micro_batches = m;
    rows.push_back(run(std::string("pp2 ") + s + " (2 ranks x 1 thread)", o));
  }
  o.dp = 2;  // and ZeRO-1 on a dp axis of 2 (4 ranks: the dp axis's bytes)
  o.zero = 1;
  o.schedule = "1f1b";
  rows.push_back(run("dp2 pp2 1f1b ZeRO-1 (4 ranks x 1)", o));
  // Check: the same training in every layout.
  bool ok = true;
  for (const Row& r : rows)
    for (std::size_t i = 0; i < r.losses.size(); ++i)
      if (std::abs(r.losses[i] - rows[0].losses[i]) > 1e-3 * std::abs(rows[0].losses[i]))
        ok = false;
  std::printf("check: losses of every layout equal the single-rank run (rel 1e-3): %s\n",
              ok ? "OK" : "FAILED");
  if (!ok) return 1;
  const double step_tokens = static_cast<double>(base.batch) * base.seq * m;
  std::printf("d6 V=4096 B=%d T=%d m=%d, %d steps (median over steps 2..%d); machine shared\n",
              base.batch, base.seq, m, steps, steps);
  std::printf("%-34s %10s %10s %16s %8s\n", "layout", "ms/step", "tok/s", "bubble measured",
              "theory");
  for (const Row& r : rows) {
    const double ms = median(r.ms);
    if (r.bubble.empty())
      std::printf("%-34s %10.1f %10.0f %16s %8s\n", r.name.c_str(), ms, step_tokens / (ms / 1e3),
                  "-", "-");
    else
      std::printf("%-34s %10.1f %10.0f %16.3f %8.3f\n", r.name.c_str(), ms,
                  step_tokens / (ms / 1e3), median(r.bubble), parallel::pipe_bubble_theory(2, m));
  }
  // Bytes per step per rank and axis: counted by the axis communicators vs the formula
  // (parallel/comm_volume.hpp; payload as passed to the collective, p2p sent + received).
  std::printf("\n%-34s %5s %14s %14s %14s %14s %s\n", "layout", "rank", "dp measured", "dp formula",
              "pp measured", "pp formula", "");
  for (const Row& r : rows)
    for (const train::CommCheck& c : r.comm)
      std::printf("%-34s %5d %14.0f %14.0f %14.0f %14.0f %s\n", r.name.c_str(), c.rank,
                  c.measured[0], c.formula[0], c.measured[2], c.formula[2],
                  c.matches() ? "matches" : "DIFFERS");
  return 0;
}
