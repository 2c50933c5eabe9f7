// The dp × tp × pp grid: coordinates against an independent enumeration, the axis
// communicators' members over thread ranks, and the layout errors at start.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "model/gpt_config.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/grid.hpp"

namespace weft::parallel {
namespace {

// Enumerates ranks as nested loops pp { dp { tp } } (tp innermost = fastest) and
// returns, for every rank, its (dp, tp, pp) — independent of grid_coord_of's maths.
std::vector<GridCoord> enumerate(const GridShape& s) {
  std::vector<GridCoord> out;
  for (int p = 0; p < s.pp; ++p)
    for (int d = 0; d < s.dp; ++d)
      for (int t = 0; t < s.tp; ++t) out.push_back({d, t, p});
  return out;
}

// World ranks that share every coordinate except `axis` with `me`, in axis order.
std::vector<int> expected_group(const std::vector<GridCoord>& all, const GridCoord& me, char axis) {
  std::vector<std::pair<int, int>> members;  // (coordinate on axis, world rank)
  for (int r = 0; r < static_cast<int>(all.size()); ++r) {
    const GridCoord& c = all[static_cast<std::size_t>(r)];
    const bool same = (axis == 't' || c.tp == me.tp) && (axis == 'd' || c.dp == me.dp) &&
                      (axis == 'p' || c.pp == me.pp);
    if (same) members.push_back({axis == 't' ? c.tp : axis == 'd' ? c.dp : c.pp, r});
  }
  std::sort(members.begin(), members.end());
  std::vector<int> ranks;
  for (auto& m : members) ranks.push_back(m.second);
  return ranks;
}

std::vector<int> members_of(comm::Communicator& c, int world_rank) {
  std::vector<std::int64_t> mine{world_rank}, all(static_cast<std::size_t>(c.size()));
  c.all_gather(std::span<const std::int64_t>(mine), std::span<std::int64_t>(all), "members");
  return {all.begin(), all.end()};
}

class GridShapes : public ::testing::TestWithParam<GridShape> {};

TEST_P(GridShapes, CoordinatesMatchEnumerationAndRoundTrip) {
  const GridShape s = GetParam();
  const std::vector<GridCoord> all = enumerate(s);
  for (int r = 0; r < s.world(); ++r) {
    EXPECT_EQ(grid_coord_of(s, r), all[static_cast<std::size_t>(r)]) << "rank " << r;
    EXPECT_EQ(grid_rank_of(s, all[static_cast<std::size_t>(r)]), r);
  }
}

TEST_P(GridShapes, AxisGroupsHoldTheRightMembers) {
  const GridShape s = GetParam();
  const std::vector<GridCoord> all = enumerate(s);
  std::mutex mu;
  std::map<int, std::vector<std::vector<int>>> got;  // world rank → tp, dp, pp members
  comm::run_ranks(comm::RanksAs::kThreads, s.world(), {}, [&](comm::Communicator& world) {
    Grid g(world, s);
    const int r = world.rank();
    std::vector<std::vector<int>> m{members_of(g.tp(), r), members_of(g.dp(), r),
                                    members_of(g.pp(), r)};
    std::lock_guard<std::mutex> lock(mu);
    got[r] = m;
  });
  ASSERT_EQ(static_cast<int>(got.size()), s.world());
  for (int r = 0; r < s.world(); ++r) {
    const GridCoord& me = all[static_cast<std::size_t>(r)];
    EXPECT_EQ(got[r][0], expected_group(all, me, 't')) << "tp group of rank " << r;
    EXPECT_EQ(got[r][1], expected_group(all, me, 'd')) << "dp group of rank " << r;
    EXPECT_EQ(got[r][2], expected_group(all, me, 'p')) << "pp group of rank " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, GridShapes,
                         ::testing::Values(GridShape{1, 1, 1}, GridShape{1, 2, 1}, GridShape{2, 1, 1},
                                           GridShape{1, 1, 2}, GridShape{2, 2, 1}, GridShape{2, 1, 2},
                                           GridShape{1, 2, 2}, GridShape{2, 2, 2}, GridShape{3, 2, 1},
                                           GridShape{1, 4, 2}));

TEST(GridShapes, ExampleRanksFromTheHeaderFormula) {
  // dp=2 tp=2 pp=2: rank 5 = tp 1 + 2·(dp 0 + 2·pp 1).
  const GridShape s{2, 2, 2};
  EXPECT_EQ(grid_coord_of(s, 5), (GridCoord{0, 1, 1}));
  EXPECT_EQ(grid_rank_of(s, GridCoord{1, 0, 1}), 6);
}

std::string validate_message(const GridShape& s, int world, const model::GptConfig& cfg, int batch) {
  try {
    grid_validate(s, world, cfg, batch);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    return e.what();
  }
  return "";
}

TEST(GridValidate, NamesTheExactMismatch) {
  const model::GptConfig d4 = model::gpt_config_preset("d4", 512, 32);  // L=4 NH=4 Vp=512
  EXPECT_EQ(validate_message({2, 2, 1}, 4, d4, 4), "");
  EXPECT_EQ(validate_message({1, 4, 1}, 4, d4, 1), "");
  EXPECT_NE(validate_message({2, 2, 1}, 3, d4, 4).find("dp·tp·pp = 2·2·1 = 4 does not match the 3 ranks"),
            std::string::npos);
  EXPECT_NE(validate_message({1, 3, 1}, 3, d4, 4).find("--tp 3 does not divide the model's 4 attention heads"),
            std::string::npos);
  model::GptConfig odd = d4;
  odd.n_head = 8;
  odd.padded_vocab = 500;
  EXPECT_NE(validate_message({1, 8, 1}, 8, odd, 4).find("--tp 8 does not divide the padded vocabulary 500"),
            std::string::npos);
  EXPECT_NE(validate_message({1, 1, 5}, 5, d4, 4).find("--pp 5 exceeds the model's 4 layers"),
            std::string::npos);
  EXPECT_NE(validate_message({3, 1, 1}, 3, d4, 4).find("--batch 4 (the global batch) is not divisible by --dp 3"),
            std::string::npos);
  EXPECT_NE(validate_message({0, 1, 1}, 0, d4, 4).find("every axis must be at least 1"), std::string::npos);
}

TEST(GridValidate, GridOnWrongWorldSizeThrows) {
  EXPECT_THROW(comm::run_ranks(comm::RanksAs::kThreads, 3, {},
                               [&](comm::Communicator& world) { Grid g(world, GridShape{1, 2, 1}); }),
               Error);
}

}  // namespace
}  // namespace weft::parallel
