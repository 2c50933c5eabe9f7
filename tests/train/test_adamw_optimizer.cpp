// AdamWOptimizer::exclude (the pipeline's last stage leaves its copy of wte alone):
// the excluded range is neither read nor written, and every other element ends exactly
// where a step over the whole buffer puts it (the kernel is elementwise).
#include <gtest/gtest.h>

#include <vector>

#include "model/gpt_config.hpp"
#include "model/param_layout.hpp"
#include "train/adamw_optimizer.hpp"

namespace weft::train {
namespace {

model::GptConfig tiny() {
  model::GptConfig c;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 8;
  c.max_seq = 4;
  c.vocab = 16;
  c.padded_vocab = 16;
  return c;
}

TEST(TrainAdamWOptimizer, ExcludedRangeIsLeftAloneAndTheRestMatchesAFullStep) {
  const model::ParamLayout layout(tiny());
  const std::size_t n = layout.total();
  const model::ParamTensor& wte = layout[model::ParamId::kWte];
  std::vector<float> p0(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p0[i] = 0.01f * static_cast<float>(i % 17) - 0.05f;
    g[i] = 0.003f * static_cast<float>(i % 11) - 0.01f;
  }
  cpu::AdamWConfig c;
  c.lr = 1e-2;
  c.weight_decay = 0.1;
  AdamWOptimizer full(layout), part(layout);
  part.exclude(wte.offset, wte.size);
  EXPECT_EQ(part.updated_params(), n - wte.size);
  EXPECT_EQ(full.updated_params(), n);
  std::vector<float> pf = p0, pp = p0;
  for (int s = 0; s < 3; ++s) {
    full.step(pf.data(), g.data(), c, 1.0f);
    part.step(pp.data(), g.data(), c, 1.0f);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const bool in_wte = i >= wte.offset && i < wte.offset + wte.size;
    if (in_wte) {
      ASSERT_EQ(pp[i], p0[i]) << i;
      ASSERT_EQ(part.m()[i], 0.0f) << i;
      ASSERT_EQ(part.v()[i], 0.0f) << i;
    } else {
      ASSERT_EQ(pp[i], pf[i]) << i;
      ASSERT_EQ(part.m()[i], full.m()[i]) << i;
    }
  }
  // A range in the middle of a tensor splits it; one past the end is refused.
  AdamWOptimizer mid(layout);
  mid.exclude(wte.offset + 3, 5);
  EXPECT_EQ(mid.updated_params(), n - 5);
  EXPECT_DEATH(mid.exclude(n - 2, 5), "beyond");
}

}  // namespace
}  // namespace weft::train
