// --precision bf16 in inference (KvDecoder / Engine): logits of a prefill track the fp32
// oracle (GptModel's full forward) within a bf16 bound, and agree with GptModel's own
// bf16 forward far more closely (same bf16 maths, other code); greedy decoding agrees
// with fp32 for a stated number of tokens on a small fixture model; new weights through
// set_params / update_params are re-rounded (no stale bf16 copy).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "infer/engine.hpp"
#include "infer/kv_decoder.hpp"
#include "infer_test_util.hpp"
#include "kernels/cpu/matmul_bf16.hpp"

namespace weft::infer {
namespace {

using test::full_logits;
using test::make_model;
using test::random_tokens;
using test::small_config;

std::vector<float> prefill_logits(KvDecoder& dec, const std::vector<std::int32_t>& tokens) {
  const DecodeChunk ch{0, 0, tokens.data(), static_cast<int>(tokens.size())};
  const std::span<const float> z = dec.forward({&ch, 1}, /*all_logits=*/true);
  return {z.begin(), z.end()};
}

// max |a - b| over the first V columns of each (rows, Vp) row.
double max_diff(const std::vector<float>& a, const std::vector<float>& b, int V, int Vp) {
  double d = 0;
  for (std::size_t r = 0; r < a.size() / Vp; ++r)
    for (int v = 0; v < V; ++v) d = std::max(d, std::fabs(double(a[r * Vp + v]) - b[r * Vp + v]));
  return d;
}

TEST(EngineBf16, PrefillLogitsTrackFp32AndMatchTheModelsBf16Forward) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const model::GptConfig c = small_config();
  auto m = make_model(c, 3);
  const std::vector<std::int32_t> tokens = random_tokens(24, c.vocab, 5);
  const std::vector<float> z32 = full_logits(*m, tokens);
  double rms = 0;
  for (int r = 0; r < 24; ++r)
    for (int v = 0; v < c.vocab; ++v)
      rms += double(z32[r * c.padded_vocab + v]) * z32[r * c.padded_vocab + v];
  rms = std::sqrt(rms / (24.0 * c.vocab));

  KvDecoder dec(c, m->params(), 1, c.max_seq, 64);
  ASSERT_EQ(dec.set_precision(cpu::Precision::kBf16), cpu::Precision::kBf16);
  const std::vector<float> z16 = prefill_logits(dec, tokens);
  m->set_precision(cpu::Precision::kBf16);
  const std::vector<float> z16_model = full_logits(*m, tokens);

  const double vs_fp32 = max_diff(z16, z32, c.vocab, c.padded_vocab);
  const double vs_model = max_diff(z16, z16_model, c.vocab, c.padded_vocab);
  // bf16 keeps 8 significant bits (unit roundoff 2^-8 ≈ 0.4%); through 2 layers and the
  // head the logits move by a few percent of their rms at most (measured: ~1%).
  EXPECT_LT(vs_fp32, 0.08 * rms) << "rms " << rms;
  EXPECT_GT(vs_fp32, 1e-4 * rms) << "bf16 logits equal fp32's: setting ignored?";
  // The same bf16 computation in two codes: only summation order and the odd
  // activation rounded to the other bf16 neighbour differ.
  EXPECT_LT(vs_model, 0.25 * vs_fp32)
      << "decoder vs model bf16 " << vs_model << ", vs fp32 " << vs_fp32;
}

GenerationRequest greedy(std::vector<std::int32_t> prompt, int n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = n;
  return r;
}

// Greedy decoding in bf16 against fp32 on the fixture model (weights ×5, so the top
// logit usually leads by far more than bf16 noise): 4 prompts × 24 tokens. Greedy
// paths may part where two logits are within bf16 noise; we require the first 8
// tokens of every prompt to agree and 75% of all tokens before the first divergence.
TEST(EngineBf16, GreedyDecodeAgreesWithFp32) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const model::GptConfig c = small_config();
  auto m = make_model(c, 3);
  EngineOptions o32, o16;
  o32.max_batch = o16.max_batch = 4;
  o16.precision = cpu::Precision::kBf16;
  Engine e32(c, m->params(), o32), e16(c, m->params(), o16);
  int agreed = 0, total = 0;
  for (int p = 0; p < 4; ++p) {
    const std::vector<std::int32_t> prompt = random_tokens(5 + p, c.vocab, 40 + p);
    const GenerationResult a = e32.generate(greedy(prompt, 24)),
                           b = e16.generate(greedy(prompt, 24));
    ASSERT_EQ(a.tokens.size(), 24u);
    ASSERT_EQ(b.tokens.size(), 24u);
    int same = 0;
    while (same < 24 && a.tokens[same] == b.tokens[same]) ++same;
    EXPECT_GE(same, 8) << "prompt " << p;
    agreed += same;
    total += 24;
  }
  EXPECT_GE(agreed, total * 3 / 4) << agreed << " of " << total << " tokens before divergence";
}

// New weights reach the bf16 path: a decoder given other weights through set_params
// (and an engine through update_params) computes what a fresh one built on them does.
TEST(EngineBf16, NewWeightsAreRoundedAgain) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const model::GptConfig c = small_config();
  auto a = make_model(c, 3), b = make_model(c, 4);
  const std::vector<std::int32_t> tokens = random_tokens(10, c.vocab, 6);
  KvDecoder fresh(c, b->params(), 1, c.max_seq, 64), reused(c, a->params(), 1, c.max_seq, 64);
  fresh.set_precision(cpu::Precision::kBf16);
  reused.set_precision(cpu::Precision::kBf16);
  const std::vector<float> before = prefill_logits(reused, tokens);
  reused.set_params(b->params());
  const std::vector<float> want = prefill_logits(fresh, tokens),
                           got = prefill_logits(reused, tokens);
  EXPECT_EQ(got, want);
  EXPECT_NE(before, want);

  EngineOptions o;
  o.max_batch = 1;
  o.precision = cpu::Precision::kBf16;
  Engine e_fresh(c, b->params(), o), e_updated(c, a->params(), o);
  (void)e_updated.generate(greedy(tokens, 4));  // the bf16 copy of a's weights exists now
  e_updated.update_params(b->params());
  EXPECT_EQ(e_updated.generate(greedy(tokens, 16)).tokens,
            e_fresh.generate(greedy(tokens, 16)).tokens);
}

}  // namespace
}  // namespace weft::infer
