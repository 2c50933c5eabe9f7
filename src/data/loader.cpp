// DataLoader: window arithmetic, seeded orders, prefetch. See loader.hpp.
#include "data/loader.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/http_fetch.hpp"
#include "data/manifest.hpp"
#include "data/shard_file.hpp"

namespace weft::data {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint64_t> permutation(std::uint64_t n, Rng rng) {
  std::vector<std::uint64_t> p(n);
  for (std::uint64_t i = 0; i < n; ++i) p[i] = i;
  for (std::uint64_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  return p;
}

std::string resolve(const std::string& base, const std::string& file) {
  if (is_url(file) || (!file.empty() && file[0] == '/')) return file;
  if (is_url(base)) return base.substr(0, base.rfind('/') + 1) + file;
  return (fs::path(base).parent_path() / file).string();
}

bool is_manifest(const std::string& source) {
  return source.size() >= 5 && source.substr(source.size() - 5) == ".json";
}

}  // namespace

std::string LoaderState::to_json() const {
  return nlohmann::json{{"format", "weft-loader-state"},
                        {"version", 1},
                        {"seed", seed},
                        {"epoch", epoch},
                        {"shard_pos", shard_pos},
                        {"batch_pos", batch_pos},
                        {"global_batch_tokens", global_batch_tokens},
                        {"steps", steps}}
      .dump();
}

LoaderState LoaderState::from_json(const std::string& text, const std::string& name) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.value("format", "") != "weft-loader-state" || j.value("version", 0) != 1) {
      throw input_error(str(name, ": not a weft loader state of version 1"));
    }
    LoaderState s;
    s.seed = j.at("seed").get<std::uint64_t>();
    s.epoch = j.at("epoch").get<std::uint64_t>();
    s.shard_pos = j.at("shard_pos").get<std::uint64_t>();
    s.batch_pos = j.at("batch_pos").get<std::uint64_t>();
    s.global_batch_tokens = j.at("global_batch_tokens").get<std::uint64_t>();
    s.steps = j.value("steps", std::uint64_t{0});
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw input_error(str(name, ": malformed loader state: ", e.what()));
  }
}

DataLoader::DataLoader(LoaderConfig config) : cfg_(std::move(config)) {
  if (cfg_.B < 1 || cfg_.T < 1 || cfg_.world < 1 || cfg_.rank < 0 || cfg_.rank >= cfg_.world) {
    throw config_error(str("data loader: B=", cfg_.B, " T=", cfg_.T, " rank=", cfg_.rank,
                           " world=", cfg_.world, ": need B, T, world >= 1 and 0 <= rank < world"));
  }
  G_ = static_cast<std::uint64_t>(cfg_.world) * static_cast<std::uint64_t>(cfg_.B) *
       static_cast<std::uint64_t>(cfg_.T);
  std::vector<Shard> all;
  if (is_manifest(cfg_.source)) {
    const Manifest m = is_url(cfg_.source) ? manifest_parse(http_get(cfg_.source), cfg_.source)
                                           : manifest_read(cfg_.source);
    if (!m.complete) {
      throw input_error(str("manifest '", cfg_.source,
                            "': the `weft data prepare` run that wrote it did not finish"),
                        "re-run the same prepare command to complete it");
    }
    if (cfg_.split != "train" && cfg_.split != "val") {
      throw config_error(str("data loader: split '", cfg_.split, "' (expected train or val)"));
    }
    vocab_size_ = m.vocab_size;
    for (const auto* s : m.split_shards(cfg_.split)) {
      const std::string path = resolve(cfg_.source, s->file);
      if (!is_url(path) && !fs::exists(path)) {
        throw input_error(
            str("manifest '", cfg_.source, "' lists shard '", path, "', which is missing"),
            "re-run `weft data prepare` to make it again");
      }
      all.push_back({path, s->tokens, s->sha256, 0, nullptr});
    }
  } else {
    glob_t g{};
    if (::glob(cfg_.source.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        const std::string p = g.gl_pathv[i];
        all.push_back({p, shard_read_header(p), "", 0, nullptr});
      }
    }
    ::globfree(&g);
    if (all.empty())
      throw input_error(str("data loader: no shard files match '", cfg_.source, "'"));
  }
  std::uint64_t total = 0;
  for (auto& s : all) {
    total += s.tokens;
    s.windows = s.tokens >= G_ + 1 ? (s.tokens - 1) / G_ : 0;
    batches_per_epoch_ += s.windows;
    if (s.windows > 0) shards_.push_back(std::move(s));
  }
  if (batches_per_epoch_ == 0) {
    throw config_error(
        str("data loader: split '", cfg_.split, "' of '", cfg_.source, "' has ", total,
            " tokens in ", all.size(), " shard(s), but one global batch needs ", G_ + 1,
            " tokens (ranks x B x T + 1) inside one shard"),
        "use a smaller batch or sequence length, or larger --shard-tokens");
  }
  pos_.seed = cfg_.seed;
  pos_.global_batch_tokens = G_;
  start_prefetch();
}

DataLoader::~DataLoader() {
  if (pending_.valid()) pending_.wait();
}

std::vector<std::uint64_t> DataLoader::shard_order(std::uint64_t seed, std::uint64_t epoch) const {
  if (!cfg_.shuffle) {
    std::vector<std::uint64_t> p(shards_.size());
    for (std::uint64_t i = 0; i < p.size(); ++i) p[i] = i;
    return p;
  }
  return permutation(shards_.size(), Rng::stream(seed, 2 * epoch));
}

std::uint64_t DataLoader::window_index(const LoaderState& pos, std::uint64_t shard) const {
  if (!cfg_.shuffle) return pos.batch_pos;
  // One stream per (epoch, shard): odd stream ids, so they never meet the shard orders'.
  const auto perm = permutation(
      shards_[shard].windows, Rng::stream(pos.seed, 2 * (pos.epoch * shards_.size() + shard) + 1));
  return perm[pos.batch_pos];
}

LoaderState DataLoader::advance(LoaderState pos) const {
  const std::uint64_t shard = shard_order(pos.seed, pos.epoch)[pos.shard_pos];
  pos.steps += 1;
  if (++pos.batch_pos < shards_[shard].windows) return pos;
  pos.batch_pos = 0;
  if (++pos.shard_pos < shards_.size()) return pos;
  pos.shard_pos = 0;
  pos.epoch += 1;
  return pos;
}

DataLoader::Batch DataLoader::read_batch(LoaderState pos) {
  const std::uint64_t si = shard_order(pos.seed, pos.epoch)[pos.shard_pos];
  Shard& s = shards_[si];
  if (!s.reader) {
    ShardOpenOptions o;
    o.cache_dir = cfg_.cache_dir;
    o.expect_tokens = static_cast<std::int64_t>(s.tokens);
    if (cfg_.verify_checksums) o.expect_sha256 = s.sha256;
    s.reader = shard_open(s.path, o);
  }
  const std::uint64_t window = window_index(pos, si);
  const std::uint64_t local =
      static_cast<std::uint64_t>(cfg_.B) * static_cast<std::uint64_t>(cfg_.T);
  const std::uint64_t offset = window * G_ + static_cast<std::uint64_t>(cfg_.rank) * local;
  Batch b;
  b.tokens.resize(local + 1);
  s.reader->read(offset, local + 1, b.tokens.data());
  shard_check_ids(b.tokens, vocab_size_, s.path, offset);
  return b;
}

void DataLoader::start_prefetch() {
  if (!cfg_.prefetch) return;
  pending_ = std::async(std::launch::async, [this, pos = pos_] { return read_batch(pos); });
}

void DataLoader::next_batch(std::int32_t* inputs, std::int32_t* targets) {
  Batch b;
  if (cfg_.prefetch) {
    try {
      b = pending_.get();
    } catch (...) {
      start_prefetch();  // the next call tries again (a network hiccup may pass)
      throw;
    }
  } else {
    b = read_batch(pos_);
  }
  const std::size_t n = b.tokens.size() - 1;
  for (std::size_t i = 0; i < n; ++i) {
    inputs[i] = b.tokens[i];
    targets[i] = b.tokens[i + 1];
  }
  pos_ = advance(pos_);
  start_prefetch();
}

LoaderState DataLoader::state() const {
  return pos_;
}

void DataLoader::restore(const LoaderState& s) {
  if (s.global_batch_tokens != G_) {
    throw config_error(str("loader state is for a global batch of ", s.global_batch_tokens,
                           " tokens (ranks x B x T) but this run uses ", G_),
                       "resume with the same ranks x B x T");
  }
  if (pending_.valid()) {
    try {
      pending_.get();
    } catch (...) {  // the batch of the old position is not needed any more
    }
  }
  const auto order = shard_order(s.seed, s.epoch);
  if (s.shard_pos >= shards_.size() || s.batch_pos >= shards_[order[s.shard_pos]].windows) {
    throw input_error(str("loader state (shard ", s.shard_pos, ", batch ", s.batch_pos,
                          ") does not fit this data (", shards_.size(), " usable shards)"),
                      "resume with the same manifest and split");
  }
  pos_ = s;
  start_prefetch();
}

}  // namespace weft::data
