// ShardReaderSimple::next_rows (each data-parallel rank reads only its rows):
// the slices of N readers, put side by side, equal the whole batch of next(),
// batch after batch and across the move to the next shard and the wrap-around.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/error.hpp"
#include "data/shard_file.hpp"
#include "data/shard_reader_simple.hpp"

namespace weft {
namespace {

namespace fs = std::filesystem;

TEST(ShardReaderRows, SlicesOfRanksEqualTheWholeBatch) {
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("weft_reader_rows_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Two shards of different lengths (tokens = their position + 1000·shard).
  for (int s = 0; s < 2; ++s) {
    std::vector<std::uint16_t> t(s == 0 ? 61 : 40);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint16_t>(1000 * s + i);
    data::shard_write((dir / (s == 0 ? "a_train.bin" : "b_train.bin")).string(), t);
  }
  const auto shards = data::shard_list(dir.string(), "train");
  const int B = 4, T = 3, steps = 9;  // 9 batches pass both shard ends and wrap
  for (int ranks : {1, 2, 4}) {
    data::ShardReaderSimple whole(shards, B, T, 2000);
    std::vector<data::ShardReaderSimple> rank_readers;
    for (int r = 0; r < ranks; ++r) rank_readers.emplace_back(shards, B, T, 2000);
    const int rows = B / ranks;
    for (int step = 0; step < steps; ++step) {
      std::vector<std::int32_t> x(B * T), y(B * T), xs(B * T), ys(B * T);
      whole.next(x.data(), y.data());
      for (int r = 0; r < ranks; ++r)
        rank_readers[r].next_rows(xs.data() + r * rows * T, ys.data() + r * rows * T, r * rows,
                                  rows);
      EXPECT_EQ(xs, x) << "ranks " << ranks << " step " << step;
      EXPECT_EQ(ys, y) << "ranks " << ranks << " step " << step;
      if (step == 0) {  // closed form: the first window is tokens 0..B·T of shard a
        for (int i = 0; i < B * T; ++i) {
          EXPECT_EQ(xs[i], i);
          EXPECT_EQ(ys[i], i + 1);
        }
      }
      for (int r = 0; r < ranks; ++r)
        EXPECT_EQ(rank_readers[r].position().offset, whole.position().offset);
    }
  }
  data::ShardReaderSimple r(shards, B, T, 2000);
  std::int32_t x[12], y[12];
  EXPECT_DEATH_IF_SUPPORTED(r.next_rows(x, y, 3, 2), "rows outside the batch");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace weft
