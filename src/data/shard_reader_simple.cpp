// Sequential llm.c-shard batch reader. See shard_reader_simple.hpp.
#include "data/shard_reader_simple.hpp"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "data/shard_file.hpp"

namespace weft::data {

std::vector<std::string> shard_list(const std::string& spec, const std::string& split) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  if (fs::is_directory(spec)) {
    std::vector<std::string> all;
    for (const auto& e : fs::directory_iterator(spec))
      if (e.is_regular_file() && e.path().extension() == ".bin") all.push_back(e.path().string());
    std::sort(all.begin(), all.end());
    for (const auto& p : all)
      if (fs::path(p).filename().string().find(split) != std::string::npos) out.push_back(p);
    if (out.empty() && split == "train") {
      // No split names: every shard except those marked "val" is training data.
      for (const auto& p : all)
        if (fs::path(p).filename().string().find("val") == std::string::npos) out.push_back(p);
    }
    if (out.empty() && split == "train")
      throw input_error(str(spec, ": no token shards (*.bin) found"),
                        "make shards with `weft tokenizer encode` or llm.c's data scripts");
    return out;
  }
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  if (out.empty()) throw input_error(str("--data '", spec, "': no shard files given"));
  for (const auto& p : out)
    if (!fs::exists(p)) throw input_error(str("shard '", p, "' does not exist"));
  return out;
}

ShardReaderSimple::ShardReaderSimple(std::vector<std::string> shards, int B, int T,
                                     std::int64_t vocab)
    : shards_(std::move(shards)), B_(B), T_(T), vocab_(vocab) {
  WEFT_CHECK(B > 0 && T > 0);
  if (shards_.empty()) throw input_error("no token shards to read");
  const std::uint64_t need = static_cast<std::uint64_t>(B) * T + 1;
  for (const auto& s : shards_) {
    sizes_.push_back(shard_read_header(s));
    if (sizes_.back() < need)
      throw input_error(str(s, ": holds ", sizes_.back(), " tokens, fewer than one batch (B·T+1 = ",
                            need, ")"),
                        "use a smaller --batch/--seq or more data");
  }
  window_.resize(need);
}

void ShardReaderSimple::next(std::int32_t* x, std::int32_t* y) { next_rows(x, y, 0, B_); }

void ShardReaderSimple::next_rows(std::int32_t* x, std::int32_t* y, int row0, int rows) {
  WEFT_CHECK(row0 >= 0 && rows >= 0 && row0 + rows <= B_, "next_rows: rows outside the batch");
  const std::uint64_t n = static_cast<std::uint64_t>(B_) * T_ + 1;  // the whole batch's window
  if (pos_.offset + n > sizes_[pos_.shard]) {
    pos_.shard = (pos_.shard + 1) % shards_.size();
    pos_.offset = 0;
  }
  // Rows [row0, row0 + rows) need tokens [row0·T, (row0 + rows)·T + 1) of the window.
  const std::uint64_t first = static_cast<std::uint64_t>(row0) * T_;
  const std::uint64_t m = static_cast<std::uint64_t>(rows) * T_ + 1;
  shard_read_range(shards_[pos_.shard], pos_.offset + first, m, window_.data(), vocab_);
  for (std::uint64_t i = 0; i + 1 < m; ++i) {
    x[i] = window_[i];
    y[i] = window_[i + 1];
  }
  pos_.offset += n - 1;
}

void ShardReaderSimple::reset() { pos_ = {}; }

void ShardReaderSimple::set_position(const Position& p) {
  if (p.shard >= shards_.size() || p.offset > sizes_[p.shard])
    throw input_error(str("data position (shard ", p.shard, ", offset ", p.offset,
                          ") is outside the shards"));
  pos_ = p;
}

std::uint64_t ShardReaderSimple::total_tokens() const {
  return std::accumulate(sizes_.begin(), sizes_.end(), std::uint64_t{0});
}

}  // namespace weft::data
