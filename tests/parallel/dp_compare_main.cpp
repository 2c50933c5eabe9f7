// Checker of the data-parallel equivalence tests: compares a run directory with the
// single-rank reference run of the same global batch, step by step (metrics.jsonl:
// step, lr, loss and grad_norm) and over the final parameters (model.bin, llm.c
// format). Prints the largest differences; exits 1 when any exceeds the tolerance.
// Usage: weft_dp_compare REF_DIR RUN_DIR [RTOL=1e-5 [PARAM_RTOL=RTOL]]
//        weft_dp_compare --make-shard FILE   (the tests' synthetic shard, vocab 512)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/shard_file.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/param_layout.hpp"

namespace {

std::vector<nlohmann::json> read_metrics(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  if (!in) throw weft::io_error_errno("cannot open", dir + "/metrics.jsonl");
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

double rel(double a, double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-30);
}

// metrics.jsonl writes a non-finite value (the norm of a step --on-nan skip left
// out) as null: two nulls agree, one null differs.
double rel(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null() ? 0.0 : INFINITY;
  return rel(a.get<double>(), b.get<double>());
}

}  // namespace

// 40k tokens over a 512-token vocabulary: a 97-token pattern with 30 % noise, so
// the loss falls but not to zero.
int make_shard(const std::string& path) {
  weft::Rng rng(11);
  std::vector<std::uint16_t> pattern(97), tokens(40000);
  for (auto& t : pattern) t = static_cast<std::uint16_t>(rng.below(512));
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = rng.uniform() < 0.7 ? pattern[i % 97] : static_cast<std::uint16_t>(rng.below(512));
  weft::data::shard_write(path, tokens);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--make-shard") return make_shard(argv[2]);
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s REF_DIR RUN_DIR [RTOL]\n", argv[0]);
    return 2;
  }
  const std::string ref_dir = argv[1], run_dir = argv[2];
  const double rtol = argc > 3 ? std::atof(argv[3]) : 1e-5;
  const double ptol = argc > 4 ? std::atof(argv[4]) : rtol;
  bool ok = true;
  try {
    const auto ref = read_metrics(ref_dir), run = read_metrics(run_dir);
    if (ref.size() != run.size() || ref.empty()) {
      std::printf("FAIL: %zu steps in the reference, %zu in the run\n", ref.size(), run.size());
      return 1;
    }
    double worst_loss = 0, worst_norm = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      if (ref[i]["step"] != run[i]["step"] || rel(run[i]["lr"], ref[i]["lr"]) > 1e-12) {
        std::printf("FAIL: row %zu: step/lr differ\n", i);
        ok = false;
      }
      const double dl = rel(run[i]["loss"], ref[i]["loss"]);
      const double dn = rel(run[i]["grad_norm"], ref[i]["grad_norm"]);
      worst_loss = std::max(worst_loss, dl);
      worst_norm = std::max(worst_norm, dn);
      if (dl > rtol) {
        std::printf("FAIL: step %zu loss %.9g vs reference %.9g (rel %.3g)\n", i + 1,
                    run[i]["loss"].get<double>(), ref[i]["loss"].get<double>(), dl);
        ok = false;
      }
      if (dn > rtol) {
        std::printf("FAIL: step %zu grad_norm rel %.3g\n", i + 1, dn);
        ok = false;
      }
    }
    std::printf("%zu steps: max rel loss diff %.3g, grad_norm %.3g\n", ref.size(), worst_loss,
                worst_norm);
    // Parameters: per tensor, max |a - b| / max |a| (robust to entries near zero).
    // The key part of qkvb is left out: its true gradient is exactly zero (softmax
    // ignores the constant q·b_k added to every score of a row), so its values are
    // rounding noise (~1e-5) that AdamW's normalisation turns into ±lr steps; two
    // single-rank runs that only sum the batch in another order differ there too.
    const auto a = weft::model::llmc_load_model(ref_dir + "/model.bin");
    const auto b = weft::model::llmc_load_model(run_dir + "/model.bin");
    if (a.params.size() != b.params.size()) {
      std::printf("FAIL: parameter counts differ\n");
      return 1;
    }
    const weft::model::ParamLayout layout(a.config);
    double worst = 0, key_bias = 0;
    const std::size_t C = static_cast<std::size_t>(a.config.n_embd);
    auto is_key_bias = [&](const weft::model::ParamTensor& t, std::size_t i) {
      if (t.name != "qkvb") return false;
      const std::size_t j = (i - t.offset) % (3 * C);
      return j >= C && j < 2 * C;
    };
    for (const auto& t : layout.tensors()) {
      double dmax = 0, bmax = 0;
      for (std::size_t i = t.offset; i < t.offset + t.size; ++i) {
        if (is_key_bias(t, i)) {
          key_bias = std::max(key_bias, std::abs(static_cast<double>(a.params[i]) - b.params[i]));
          continue;
        }
        const double d = std::abs(static_cast<double>(a.params[i]) - b.params[i]);
        dmax = std::isnan(d) ? INFINITY : std::max(dmax, d);
        bmax = std::max(bmax, std::abs(static_cast<double>(a.params[i])));
      }
      const double r = dmax / std::max(bmax, 1e-30);
      worst = std::max(worst, r);
      if (r > ptol) {
        std::printf("FAIL: tensor %s max rel diff %.3g\n", t.name.c_str(), r);
        ok = false;
      }
    }
    std::printf(
        "final parameters: max rel diff %.3g (per tensor, max|a-b|/max|a|); "
        "key bias (zero true gradient, not compared) max abs diff %.3g; tolerance %.3g\n",
        worst, key_bias, ptol);
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
  std::printf(ok ? "dp equivalence OK\n" : "dp equivalence FAILED\n");
  return ok ? 0 : 1;
}
