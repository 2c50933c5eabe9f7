// KV-cache decoding against full recomputation (GptModel::forward over the whole
// prefix, which uses the training attention kernel and no cache): every logit at every
// position within 1e-5, for one sequence and for a packed batch of sequences with
// different prompt lengths, one of which joins mid-way. Also the decode-attention
// kernel alone against the training attention kernel.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "infer/kv_decoder.hpp"
#include "infer_test_util.hpp"
#include "kernels/cpu/attention.hpp"
#include "kernels/cpu/attention_decode.hpp"

namespace weft::infer {
namespace {

using test::full_logits;
using test::make_model;
using test::random_tokens;
using test::small_config;

constexpr float kTol = 1e-5f;

// Keeps the model alive for the test's duration.
model::GptModel* make_model_keep(const model::GptConfig& c, std::uint64_t seed = 7) {
  static std::vector<std::unique_ptr<model::GptModel>> keep;
  keep.push_back(make_model(c, seed));
  return keep.back().get();
}

void expect_row_near(const float* got, const float* want, int V, const char* what, int pos) {
  float worst = 0.0f;
  for (int v = 0; v < V; ++v) worst = std::max(worst, std::fabs(got[v] - want[v]));
  EXPECT_LE(worst, kTol) << what << " position " << pos;
}

TEST(InferAttentionDecode, MatchesCausalAttentionKernel) {
  const int T = 37, C = 64, NH = 4, S = 3, maxT = 48, slot = 2;
  std::vector<float> qkv(static_cast<std::size_t>(T) * 3 * C);
  for (std::size_t i = 0; i < qkv.size(); ++i) qkv[i] = std::sin(0.37f * i) * 2.0f;
  std::vector<float> want(static_cast<std::size_t>(T) * C),
      att(static_cast<std::size_t>(NH) * T * T);
  cpu::attention_forward(want.data(), att.data(), qkv.data(), 1, T, C, NH);
  std::vector<float> kc(static_cast<std::size_t>(S) * maxT * C, NAN), vc(kc.size(), NAN);
  std::vector<float> got(want.size());
  std::vector<int32_t> slots(T, slot), pos(T);
  for (int t = 0; t < T; ++t) pos[t] = t;
  // Prefill the first 20 rows in one call, then one row per call.
  cpu::kv_cache_write(kc.data(), vc.data(), qkv.data(), slots.data(), pos.data(), 20, C, NH, maxT);
  cpu::attention_decode_forward(got.data(), qkv.data(), kc.data(), vc.data(), slots.data(),
                                pos.data(), 20, C, NH, maxT);
  for (int t = 20; t < T; ++t) {
    const float* row = qkv.data() + static_cast<std::size_t>(t) * 3 * C;
    cpu::kv_cache_write(kc.data(), vc.data(), row, &slots[t], &pos[t], 1, C, NH, maxT);
    cpu::attention_decode_forward(got.data() + static_cast<std::size_t>(t) * C, row, kc.data(),
                                  vc.data(), &slots[t], &pos[t], 1, C, NH, maxT);
  }
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;
}

TEST(InferKvCache, Batch1EveryPositionEqualsFullRecompute) {
  const model::GptConfig c = small_config();
  model::GptModel& m = *make_model_keep(c);
  const int P = 20, total = 40, Vp = c.padded_vocab;  // P > 16: the sgemm path
  const std::vector<int32_t> seq = random_tokens(total, c.vocab, 1);
  const std::vector<float> want = full_logits(m, seq);
  KvDecoder dec(c, m.params(), 1, c.max_seq, 64);
  DecodeChunk pre{0, 0, seq.data(), P};
  std::span<const float> z = dec.forward({&pre, 1}, /*all_logits=*/true);
  ASSERT_EQ(z.size(), static_cast<std::size_t>(P) * Vp);
  for (int t = 0; t < P; ++t)
    expect_row_near(z.data() + t * Vp, want.data() + t * Vp, c.vocab, "prefill", t);
  for (int t = P; t < total; ++t) {
    DecodeChunk one{0, t, seq.data() + t, 1};
    z = dec.forward({&one, 1});
    expect_row_near(z.data(), want.data() + static_cast<std::size_t>(t) * Vp, c.vocab, "decode", t);
  }
}

TEST(InferKvCache, MixedBatchWithJoinsEqualsFullRecompute) {
  const model::GptConfig c = small_config();
  model::GptModel& m = *make_model_keep(c, 11);
  const int Vp = c.padded_vocab;
  // Sequence s: prompt length P[s], joins at step J[s], total length N[s] tokens fed.
  const int P[3] = {5, 12, 1}, J[3] = {0, 0, 4}, N[3] = {30, 25, 20};
  const int slot_of[3] = {3, 0, 2};  // slots need not be in order
  std::vector<std::vector<int32_t>> seq;
  std::vector<std::vector<float>> want;
  for (int s = 0; s < 3; ++s) {
    seq.push_back(random_tokens(N[s], c.vocab, 100 + s));
    want.push_back(full_logits(m, seq[s]));
  }
  KvDecoder dec(c, m.params(), 4, c.max_seq, 64);
  int fed[3] = {0, 0, 0};
  for (int step = 0;; ++step) {
    std::vector<DecodeChunk> chunks;
    std::vector<int> who;
    for (int s = 0; s < 3; ++s) {
      if (step < J[s] || fed[s] >= N[s]) continue;
      const int n = fed[s] == 0 ? P[s] : 1;
      chunks.push_back({slot_of[s], fed[s], seq[s].data() + fed[s], n});
      who.push_back(s);
    }
    if (chunks.empty()) break;
    std::span<const float> z = dec.forward(chunks, /*all_logits=*/true);
    std::size_t row = 0;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const int s = who[i];
      for (int k = 0; k < chunks[i].count; ++k, ++row) {
        const int t = fed[s] + k;
        expect_row_near(z.data() + row * Vp, want[s].data() + static_cast<std::size_t>(t) * Vp,
                        c.vocab,
                        s == 0   ? "seq0"
                        : s == 1 ? "seq1"
                                 : "seq2",
                        t);
      }
      fed[s] += chunks[i].count;
    }
    ASSERT_EQ(row * Vp, z.size());
  }
  for (int s = 0; s < 3; ++s) EXPECT_EQ(fed[s], N[s]);
}

}  // namespace
}  // namespace weft::infer
