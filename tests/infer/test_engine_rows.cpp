// Regression (found by weft eval): a step whose new prefills fit the decoder's row
// budget when they were packed, but not together with the decode rows of slots after
// them, hit "rows 37 > 36" in KvDecoder::forward. Each request's greedy tokens must
// equal the same request generated alone.
#include <gtest/gtest.h>

#include <vector>

#include "infer/engine.hpp"
#include "infer_test_util.hpp"

namespace {

using namespace weft::infer;

GenerationRequest greedy(std::vector<std::int32_t> prompt, int max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0.0f;
  return r;
}

TEST(EngineRows, PrefillsPlusLaterDecodesStayWithinTheRowBudget) {
  const weft::model::GptConfig c = test::small_config(200, 32);
  auto m = test::make_model(c);
  EngineOptions eo;
  eo.max_batch = 4;  // decoder rows: max_seq + max_batch = 36
  Engine engine(c, m->params(), eo);
  // Step 1 admits r0..r3 (1-token prompts); r1 and r2 finish after one token. Step 2
  // admits r4 (30-token prompt) and r5 (5) into slots 1 and 2, between the decodes of
  // slots 0 and 3: 1 + 30 + 5 + 1 = 37 rows.
  std::vector<GenerationRequest> reqs = {
      greedy({5}, 20), greedy({6}, 1), greedy({7}, 1), greedy({8}, 20),
      greedy(test::random_tokens(30, 200, 1), 1), greedy(test::random_tokens(5, 200, 2), 1)};
  std::vector<GenerationRequest> copies = reqs;
  const std::vector<GenerationResult> out = engine.generate_batch(std::move(reqs));
  ASSERT_EQ(out.size(), copies.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_NE(out[i].finish, FinishReason::kError) << i << ": " << out[i].error;
    Engine alone(c, m->params(), eo);
    const GenerationResult one = alone.generate(copies[i]);
    EXPECT_EQ(out[i].tokens, one.tokens) << "request " << i;
  }
}

}  // namespace
