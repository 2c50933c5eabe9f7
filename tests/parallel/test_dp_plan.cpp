// DpPlan: the buckets cover every parameter exactly once, each bucket's ranges lie
// in one tensor, every unit sits in one bucket and buckets follow backward order;
// the ZeRO pieces of all ranks plus the tails partition every range; bucket size
// and ZeRO-3's one-unit buckets behave as documented. Checked against the
// ParamLayout's own table (independent of the plan's construction).
#include <gtest/gtest.h>

#include <vector>

#include "model/gpt_config.hpp"
#include "model/model_hooks.hpp"
#include "model/param_layout.hpp"
#include "parallel/dp_plan.hpp"

namespace weft {
namespace {

void check_plan(const model::GptConfig& cfg, int n, std::size_t bucket, bool per_unit) {
  const model::ParamLayout layout(cfg);
  const parallel::DpPlan plan(layout, cfg.n_layer, n, bucket, per_unit);
  std::vector<int> covered(layout.total(), 0);
  std::vector<int> owner_count(layout.total(), 0);
  std::size_t shard_sum = 0;
  int last_unit = cfg.n_layer + 1;
  for (std::size_t b = 0; b < plan.buckets().size(); ++b) {
    const parallel::DpBucket& bk = plan.buckets()[b];
    std::size_t floats = 0;
    for (int u : bk.units) {
      EXPECT_LT(u, last_unit) << "units must follow backward order";
      last_unit = u;
      EXPECT_EQ(plan.bucket_of_unit(u), static_cast<int>(b));
    }
    if (per_unit) {
      EXPECT_EQ(bk.units.size(), 1u);
    }
    for (const parallel::DpRange& r : bk.ranges) {
      floats += r.size();
      // One tensor per range, with that tensor's decay flag.
      const model::ParamTensor* in = nullptr;
      for (const auto& t : layout.tensors())
        if (r.begin >= t.offset && r.end <= t.offset + t.size) in = &t;
      ASSERT_NE(in, nullptr) << "range crosses a tensor boundary";
      EXPECT_EQ(r.decay, in->is_matrix);
      for (std::size_t i = r.begin; i < r.end; ++i) ++covered[i];
      for (int rank = 0; rank < n; ++rank) {
        const std::size_t a = plan.piece_begin(r, rank);
        for (std::size_t i = a; i < a + plan.piece(r); ++i) ++owner_count[i];
        shard_sum += plan.piece(r) + (r.end - plan.tail_begin(r));
      }
      for (std::size_t i = plan.tail_begin(r); i < r.end; ++i) owner_count[i] += n;  // replicated
      EXPECT_LT(r.end - plan.tail_begin(r), static_cast<std::size_t>(n));
    }
    EXPECT_EQ(floats, bk.floats);
    if (!per_unit && b + 1 < plan.buckets().size()) {
      EXPECT_GE(bk.floats, bucket);
    }
  }
  EXPECT_EQ(last_unit, model::kUnitEmbedding);
  for (std::size_t i = 0; i < covered.size(); ++i) {
    ASSERT_EQ(covered[i], 1) << "float " << i;
    ASSERT_TRUE(owner_count[i] == 1 || owner_count[i] == n) << "float " << i;
  }
  EXPECT_EQ(shard_sum, static_cast<std::size_t>(n) * plan.shard_floats());
}

TEST(DpPlan, CoversEveryParameterOnce) {
  const model::GptConfig cfg = model::gpt_config_preset("d2", 61, 17);  // odd sizes: tails
  for (int n : {1, 2, 3, 4})
    for (std::size_t bucket : {std::size_t{1}, std::size_t{5000}, std::size_t{1} << 30}) {
      check_plan(cfg, n, bucket, false);
      check_plan(cfg, n, bucket, true);
    }
}

TEST(DpPlan, BucketSizeGroupsUnits) {
  const model::GptConfig cfg = model::gpt_config_preset("d4", 512, 32);
  const model::ParamLayout layout(cfg);
  // One huge bucket holds every unit; a 1-float bucket gives one bucket per unit.
  EXPECT_EQ(parallel::DpPlan(layout, 4, 2, std::size_t{1} << 40, false).buckets().size(), 1u);
  EXPECT_EQ(parallel::DpPlan(layout, 4, 2, 1, false).buckets().size(), 6u);  // head, 4 layers, emb
  EXPECT_EQ(parallel::DpPlan(layout, 4, 2, std::size_t{1} << 40, true).buckets().size(), 6u);
}

}  // namespace
}  // namespace weft
