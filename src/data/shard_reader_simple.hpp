// A simple sequential batch reader over llm.c token shards (data/shard_file): each
// batch is B·T+1 consecutive tokens giving inputs x (B,T) and targets y (B,T) (the
// window shifted by one), as llm.c's DataLoader does; at the end of a shard it moves
// to the next, wrapping around. Single rank, no shuffling; the data issue's
// distributed loader replaces it. Owns its buffers; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::data {

// Shards named by `spec`: a directory (its *.bin files, sorted; with `split` =
// "train" or "val" only names containing it, if any do), a comma-separated list of
// files, or one file. Throws weft::Error (kInput) when nothing is found.
std::vector<std::string> shard_list(const std::string& spec, const std::string& split);

class ShardReaderSimple {
 public:
  // Validates every shard's header; each must hold at least B·T+1 tokens. Token ids
  // are checked against vocab (> 0) as they are read.
  ShardReaderSimple(std::vector<std::string> shards, int B, int T, std::int64_t vocab);

  // Fills x (B,T) and y (B,T) with the next batch.
  void next(std::int32_t* x, std::int32_t* y);
  // Data parallel: reads only rows [row0, row0 + rows) of the next batch into
  // x (rows,T) and y (rows,T), and advances past the whole batch exactly as next()
  // does, so N ranks with their row slices see the batch one rank would.
  void next_rows(std::int32_t* x, std::int32_t* y, int row0, int rows);
  // Back to the first batch of the first shard (validation passes).
  void reset();

  struct Position {
    std::size_t shard = 0;
    std::uint64_t offset = 0;  // first token of the next batch
  };
  Position position() const { return pos_; }
  void set_position(const Position& p);
  const std::vector<std::string>& shards() const { return shards_; }
  std::uint64_t total_tokens() const;

 private:
  std::vector<std::string> shards_;
  std::vector<std::uint64_t> sizes_;  // tokens per shard
  int B_, T_;
  std::int64_t vocab_;
  Position pos_;
  std::vector<std::uint16_t> window_;  // (B·T+1)
};

}  // namespace weft::data
