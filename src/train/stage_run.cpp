// Run directory, metrics file and tokenizer checks of the fine-tuning stages.
// See stage_run.hpp.
#include "train/stage_run.hpp"

#include <filesystem>
#include <numeric>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace weft::train {

namespace fs = std::filesystem;

void stage_check_out(const std::string& out, bool overwrite, bool writer) {
  if (out.empty()) throw config_error("--out RUN_DIR is required");
  const fs::path metrics = fs::path(out) / "metrics.jsonl";
  if (writer && fs::exists(metrics) && !overwrite)
    throw config_error(str(metrics.string(), " already exists: refusing to overwrite a run"),
                       "choose another --out or pass --overwrite");
}

std::ofstream stage_open_metrics(const std::string& out, bool writer) {
  std::ofstream metrics;
  if (!writer) return metrics;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw io_error(str("cannot create run directory '", out, "': ", ec.message()));
  const fs::path path = fs::path(out) / "metrics.jsonl";
  metrics.open(path, std::ios::trunc);
  if (!metrics) throw io_error_errno("cannot create", path.string());
  return metrics;
}

void stage_check_tokenizer(const data::Tokenizer& tok, const model::GptConfig& cfg,
                           const std::string& tokenizer_name, const std::string& model_name) {
  if (tok.vocab_size() > static_cast<std::uint32_t>(cfg.vocab))
    throw config_error(str("tokenizer ", tokenizer_name, " has ", tok.vocab_size(),
                           " ids but the model ", model_name, " only ", cfg.vocab),
                       "use the tokenizer the model was trained with (--tokenizer)");
}

std::size_t EpochOrder::at(std::size_t g) {
  WEFT_CHECK(n_ > 0);
  const std::size_t epoch = g / n_;
  if (epoch != epoch_) {
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    Rng rng = Rng::stream(seed_, epoch);
    for (std::size_t i = n_; i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
    epoch_ = epoch;
  }
  return order_[g % n_];
}

cpu::Precision stage_precision(const std::string& name, int zero) {
  const cpu::Precision p = cpu::parse_precision(name);
  if (p == cpu::Precision::kBf16 && zero == 3)
    throw config_error("--precision bf16 with --zero 3 is not supported yet (the bf16 copy is made "
                       "before the units are gathered)",
                       "use --zero 2 or --precision fp32");
  return p;
}

}  // namespace weft::train
