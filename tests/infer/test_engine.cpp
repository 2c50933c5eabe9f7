// The engine end to end on a small random GPT: greedy with the cache equals greedy by
// full recomputation; N requests batched (continuous batching, more requests than
// slots, several submitting threads against run()) equal each request run alone;
// stop token sequences and stop strings (never streamed), max_tokens, a full context,
// cancellation, invalid requests, logprobs.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "infer/engine.hpp"
#include "infer_test_util.hpp"

namespace weft::infer {
namespace {

using test::greedy_full;
using test::make_model;
using test::random_tokens;
using test::small_config;

struct Fixture {
  model::GptConfig c = small_config();
  std::unique_ptr<model::GptModel> m = make_model(c, 3);
  std::unique_ptr<Engine> engine(int max_batch = 4, int max_seq = 0) {
    EngineOptions o;
    o.max_batch = max_batch;
    o.max_seq = max_seq;
    return std::make_unique<Engine>(c, m->params(), o);
  }
};

GenerationRequest greedy_request(std::vector<int32_t> prompt, int max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  return r;
}

TEST(InferEngine, GreedyWithCacheEqualsGreedyByFullRecompute) {
  Fixture f;
  auto e = f.engine();
  const std::vector<int32_t> prompt = random_tokens(7, f.c.vocab, 9);
  const GenerationResult r = e->generate(greedy_request(prompt, 30));
  EXPECT_EQ(r.finish, FinishReason::kLength);
  EXPECT_EQ(r.tokens, greedy_full(*f.m, prompt, 30));
  EXPECT_EQ(r.usage.prompt_tokens, 7);
  EXPECT_EQ(r.usage.completion_tokens, 30);
  EXPECT_EQ(r.usage.total_tokens, 37);
}

std::vector<GenerationRequest> mixed_requests(const model::GptConfig& c, int n) {
  std::vector<GenerationRequest> reqs;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r = greedy_request(random_tokens(1 + 3 * i, c.vocab, 50 + i), 5 + 4 * i);
    if (i % 2 == 1) {  // seeded sampling must be batch-independent too
      r.sampling.temperature = 0.9f;
      r.sampling.top_k = 20;
      r.sampling.top_p = 0.9f;
      r.sampling.repetition_penalty = 1.3f;
      r.sampling.seed = 1000 + i;
    }
    reqs.push_back(std::move(r));
  }
  return reqs;
}

TEST(InferEngine, ContinuousBatchingEqualsRequestsRunAlone) {
  Fixture f;
  const int n = 7;
  std::vector<GenerationResult> alone;
  {
    auto e = f.engine(1);
    for (GenerationRequest& r : mixed_requests(f.c, n)) alone.push_back(e->generate(std::move(r)));
  }
  auto e = f.engine(3);  // fewer slots than requests: later ones join as slots free up
  const std::vector<GenerationResult> batched = e->generate_batch(mixed_requests(f.c, n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(batched[i].tokens, alone[i].tokens) << "request " << i;
    EXPECT_EQ(batched[i].finish, alone[i].finish);
  }
  // Greedy ones also equal full recomputation.
  const auto reqs = mixed_requests(f.c, n);
  EXPECT_EQ(batched[2].tokens, greedy_full(*f.m, reqs[2].prompt, reqs[2].max_tokens));
}

TEST(InferEngine, ConcurrentSubmitsAgainstRunningEngine) {
  Fixture f;
  const int n = 8;
  std::vector<GenerationResult> alone;
  {
    auto e = f.engine(1);
    for (GenerationRequest& r : mixed_requests(f.c, n)) alone.push_back(e->generate(std::move(r)));
  }
  auto e = f.engine(4);
  std::thread owner([&] { e->run(); });
  std::vector<std::future<GenerationResult>> futs(n);
  std::vector<std::vector<int32_t>> streamed(n);
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&, i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(3 * i));  // join mid-way
      GenerationRequest r = std::move(mixed_requests(f.c, n)[i]);
      r.on_token = [&, i](int32_t t) { streamed[i].push_back(t); };
      futs[i] = e->submit(std::move(r));
    });
  for (auto& t : clients) t.join();
  std::vector<GenerationResult> got;
  for (auto& fu : futs) got.push_back(fu.get());
  e->stop();
  owner.join();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(got[i].tokens, alone[i].tokens) << "request " << i;
    EXPECT_EQ(streamed[i], got[i].tokens) << "request " << i;
  }
}

TEST(InferEngine, StopTokenSequenceEndsAndIsNeverStreamed) {
  Fixture f;
  auto e = f.engine();
  const std::vector<int32_t> prompt = random_tokens(4, f.c.vocab, 77);
  const std::vector<int32_t> full = e->generate(greedy_request(prompt, 20)).tokens;
  const std::vector<int32_t> stop = {full[6], full[7]};
  // Independent: the first position where `stop` ends in `full`.
  std::size_t end = 0;
  for (std::size_t i = 1; i < full.size(); ++i)
    if (full[i - 1] == stop[0] && full[i] == stop[1]) {
      end = i + 1;
      break;
    }
  GenerationRequest r = greedy_request(prompt, 20);
  r.stop_tokens = {{-5, -6, -7}, stop};  // an impossible one first
  std::vector<int32_t> streamed;
  r.on_token = [&](int32_t t) { streamed.push_back(t); };
  const GenerationResult g = e->generate(std::move(r));
  EXPECT_EQ(g.finish, FinishReason::kStop);
  EXPECT_EQ(g.tokens, std::vector<int32_t>(full.begin(), full.begin() + (end - 2)));
  EXPECT_EQ(streamed, g.tokens);
  EXPECT_EQ(g.usage.completion_tokens, static_cast<int>(end));
}

TEST(InferEngine, StopStringThroughTokenText) {
  Fixture f;
  auto e = f.engine();
  const std::vector<int32_t> prompt = random_tokens(4, f.c.vocab, 78);
  const std::vector<int32_t> full = e->generate(greedy_request(prompt, 20)).tokens;
  auto text_of = [](int32_t t) { return "<" + std::to_string(t) + ">"; };
  // Stop string: the end of token 5's text and the start of token 6's.
  const std::string t5 = text_of(full[5]), t6 = text_of(full[6]);
  const std::string stop = t5.substr(1) + t6.substr(0, 2);
  std::string all;
  std::vector<std::size_t> ends;
  for (int32_t t : full) {
    all += text_of(t);
    ends.push_back(all.size());
  }
  const std::size_t at = all.find(stop);
  ASSERT_NE(at, std::string::npos);
  std::size_t keep = 0;
  while (keep < ends.size() && ends[keep] <= at) ++keep;
  GenerationRequest r = greedy_request(prompt, 20);
  r.stop_strings = {stop};
  r.token_text = text_of;
  std::vector<int32_t> streamed;
  r.on_token = [&](int32_t t) { streamed.push_back(t); };
  const GenerationResult g = e->generate(std::move(r));
  EXPECT_EQ(g.finish, FinishReason::kStop);
  EXPECT_EQ(g.tokens, std::vector<int32_t>(full.begin(), full.begin() + keep));
  EXPECT_EQ(streamed, g.tokens);
}

TEST(InferEngine, MaxTokensAndFullContextEndWithLength) {
  Fixture f;
  auto e = f.engine(2, 16);
  GenerationResult g = e->generate(greedy_request(random_tokens(3, f.c.vocab, 1), 5));
  EXPECT_EQ(g.finish, FinishReason::kLength);
  EXPECT_EQ(g.tokens.size(), 5u);
  g = e->generate(greedy_request(random_tokens(10, f.c.vocab, 2), 100));
  EXPECT_EQ(g.finish, FinishReason::kLength);
  EXPECT_EQ(g.tokens.size(), 6u);  // 10 + 6 = the 16-token context
}

TEST(InferEngine, CancellationStopsARequestAndKeepsItsTokens) {
  Fixture f;
  auto e = f.engine();
  GenerationRequest r = greedy_request(random_tokens(3, f.c.vocab, 4), 50);
  r.cancel = std::make_shared<std::atomic<bool>>(false);
  auto flag = r.cancel;
  int seen = 0;
  r.on_token = [&](int32_t) {
    if (++seen == 3) flag->store(true);
  };
  GenerationResult g = e->generate(std::move(r));
  EXPECT_EQ(g.finish, FinishReason::kCancelled);
  EXPECT_EQ(g.tokens.size(), 3u);
  GenerationRequest r2 = greedy_request(random_tokens(3, f.c.vocab, 4), 50);
  r2.cancel = std::make_shared<std::atomic<bool>>(true);  // cancelled before it starts
  g = e->generate(std::move(r2));
  EXPECT_EQ(g.finish, FinishReason::kCancelled);
  EXPECT_TRUE(g.tokens.empty());
  EXPECT_EQ(e->stats().running, 0);
}

TEST(InferEngine, InvalidRequestsFinishWithAnError) {
  Fixture f;
  auto e = f.engine(2, 16);
  auto expect_error = [&](GenerationRequest r, const char* word) {
    const GenerationResult g = e->generate(std::move(r));
    EXPECT_EQ(g.finish, FinishReason::kError);
    EXPECT_NE(g.error.find(word), std::string::npos) << g.error;
  };
  expect_error(greedy_request({}, 5), "empty");
  expect_error(greedy_request({1, f.c.vocab}, 5), "vocabulary");
  expect_error(greedy_request(random_tokens(16, f.c.vocab, 1), 5), "context");
  expect_error(greedy_request({1}, 0), "max_tokens");
  GenerationRequest r = greedy_request({1}, 3);
  r.stop_strings = {"x"};
  expect_error(std::move(r), "token_text");
  r = greedy_request({1}, 3);
  r.sampling.top_p = 0.0f;
  expect_error(std::move(r), "top_p");
  // The engine still works afterwards.
  EXPECT_EQ(e->generate(greedy_request({1, 2}, 3)).tokens.size(), 3u);
}

TEST(InferEngine, LogprobsAreTheModelsLogSoftmax) {
  Fixture f;
  auto e = f.engine();
  const std::vector<int32_t> prompt = random_tokens(5, f.c.vocab, 8);
  GenerationRequest r = greedy_request(prompt, 4);
  r.logprobs = true;
  const GenerationResult g = e->generate(std::move(r));
  ASSERT_EQ(g.logprobs.size(), 4u);
  std::vector<int32_t> seq = prompt;
  for (int i = 0; i < 4; ++i) {
    const std::vector<float> z = test::full_logits(*f.m, seq);
    const float* last = z.data() + (seq.size() - 1) * static_cast<std::size_t>(f.c.padded_vocab);
    double mx = -1e30, sum = 0;
    for (int v = 0; v < f.c.vocab; ++v) mx = std::max(mx, static_cast<double>(last[v]));
    for (int v = 0; v < f.c.vocab; ++v) sum += std::exp(last[v] - mx);
    EXPECT_NEAR(g.logprobs[i], last[g.tokens[i]] - mx - std::log(sum), 1e-4);
    seq.push_back(g.tokens[i]);
  }
}

}  // namespace
}  // namespace weft::infer
