// weft eval: the metrics against hand-computed values, and an end-to-end check that a
// model trained (here, with a few hundred AdamW steps on the assistant tokens) to
// memorise a tiny set of answers scores far above the same model untrained.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/chat_template.hpp"
#include "data/tokenizer.hpp"
#include "infer/eval_metrics.hpp"
#include "infer/eval_run.hpp"
#include "model/gpt_model.hpp"
#include "train/adamw_optimizer.hpp"

namespace {

using namespace weft;

TEST(EvalMetrics, NormalisationAsDocumented) {
  EXPECT_EQ(infer::eval_normalize("  Genesis 1:3!  "), "genesis 1 3");
  EXPECT_EQ(infer::eval_normalize("And God said, Let there be light."),
            "and god said let there be light");
  EXPECT_EQ(infer::eval_normalize("a\t\n--b"), "a b");
  EXPECT_EQ(infer::eval_normalize("...?"), "");
  EXPECT_EQ(infer::eval_normalize("caf\xc3\xa9 X"), "caf\xc3\xa9 x");  // UTF-8 kept
}

TEST(EvalMetrics, ExactMatchHandCases) {
  EXPECT_EQ(infer::eval_exact_match("And God SAID.", "and god said"), 1.0);
  EXPECT_EQ(infer::eval_exact_match("Genesis 1:3", "Genesis 1:4"), 0.0);
  EXPECT_EQ(infer::eval_exact_match("Genesis 1:3", "genesis 13"), 0.0);  // ':' is a space
  EXPECT_EQ(infer::eval_exact_match("", "  "), 1.0);
}

TEST(EvalMetrics, TokenF1HandCases) {
  // pred {the, cat, sat}, ref {the, cat, the, dog}: common 2, P = 2/3, R = 1/2 → 4/7.
  EXPECT_NEAR(infer::eval_token_f1("the cat sat", "the cat the dog"), 4.0 / 7.0, 1e-12);
  // pred {a, a, a}, ref {a}: common 1 (counts clipped), P = 1/3, R = 1 → 1/2.
  EXPECT_NEAR(infer::eval_token_f1("a a a", "a"), 0.5, 1e-12);
  EXPECT_NEAR(infer::eval_token_f1("Light, light!", "light LIGHT"), 1.0, 1e-12);
  EXPECT_EQ(infer::eval_token_f1("x y", "z"), 0.0);
  EXPECT_EQ(infer::eval_token_f1("", ""), 1.0);
  EXPECT_EQ(infer::eval_token_f1("", "a"), 0.0);
  EXPECT_EQ(infer::eval_token_f1("a", "!"), 0.0);
}

// A byte-level tokenizer: the 256 bytes, no merges (+ the 5 specials).
data::Tokenizer byte_tokenizer() {
  std::vector<std::string> ranks;
  for (int b = 0; b < 256; ++b) ranks.emplace_back(1, static_cast<char>(b));
  return data::Tokenizer::from_ranks(std::move(ranks));
}

model::GptConfig tiny_config(int vocab) {
  model::GptConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 64;
  c.vocab = vocab;
  c.padded_vocab = model::pad_vocab(vocab);
  c.max_seq = 48;
  return c;
}

const std::vector<infer::EvalItem> kItems = {
    {"Say A.", "red fox", "x"}, {"Say B.", "blue owl", "x"}, {"Say C.", "green cat", "x"},
    {"Say D.", "old oak", "x"}};

// Trains every item's answer tokens (chat template, assistant mask) with AdamW.
void memorise(model::GptModel& m, const data::Tokenizer& tok, int steps) {
  const int B = static_cast<int>(kItems.size()), T = m.max_seq();
  std::vector<std::int32_t> inp(static_cast<std::size_t>(B) * T, 0), tgt(inp.size(), 0);
  std::vector<float> w(inp.size(), 0.0f);
  for (int b = 0; b < B; ++b) {
    const data::ChatTokens ct = data::chat_render(
        tok, {{data::ChatRole::kUser, kItems[b].prompt}, {data::ChatRole::kAssistant, kItems[b].answer}});
    ASSERT_LE(ct.ids.size(), static_cast<std::size_t>(T) + 1);
    for (std::size_t t = 0; t + 1 < ct.ids.size(); ++t) {
      inp[b * T + t] = static_cast<std::int32_t>(ct.ids[t]);
      tgt[b * T + t] = static_cast<std::int32_t>(ct.ids[t + 1]);
      w[b * T + t] = ct.assistant_mask[t + 1] ? 1.0f : 0.0f;
    }
  }
  train::AdamWOptimizer opt(m.layout());
  cpu::AdamWConfig ac;
  ac.lr = 3e-3;
  for (int s = 0; s < steps; ++s) {
    m.zero_grad();
    m.forward_train(inp.data(), tgt.data(), w.data(), B, T, 1.0f);
    m.backward();
    opt.step(m.params(), m.grads(), ac, 1.0f);
  }
}

TEST(EvalRun, MemorisedModelScoresAboveUntrained) {
  const data::Tokenizer tok = byte_tokenizer();
  const model::GptConfig c = tiny_config(static_cast<int>(tok.vocab_size()));
  model::GptModel untrained(c, 4, c.max_seq, /*training=*/false);
  untrained.init_weights(3);
  model::GptModel trained(c, 4, c.max_seq, /*training=*/true);
  trained.init_weights(3);
  memorise(trained, tok, 150);

  infer::EvalOptions o;
  o.progress = false;
  o.max_tokens = 16;
  o.batch = 3;  // fewer slots than items: some requests wait for a slot
  const infer::EvalResult base = infer::eval_run(c, untrained.params(), tok, kItems, o);
  const infer::EvalResult mem = infer::eval_run(c, trained.params(), tok, kItems, o);
  EXPECT_EQ(base.n, 4);
  EXPECT_EQ(base.exact_match, 0.0);
  EXPECT_EQ(mem.exact_match, 1.0) << mem.predictions[0].answer << " | " << mem.predictions[1].answer;
  EXPECT_GT(mem.token_f1, base.token_f1 + 0.9);
  EXPECT_LT(mem.val_loss, 0.1);
  EXPECT_GT(base.val_loss, 3.0);  // ~ln(261) = 5.6 for an untrained model
  // Answer tokens + <|end|> for each item (byte tokenizer: one token per byte).
  EXPECT_EQ(mem.val_tokens, 7 + 8 + 9 + 7 + 4);
  for (const infer::EvalPrediction& p : mem.predictions) EXPECT_EQ(p.answer, p.reference);
}

TEST(EvalRun, LoadRejectsBadLinesNamingFileAndLine) {
  const std::string path = testing::TempDir() + "/eval_bad.jsonl";
  {
    std::ofstream f(path);
    f << "{\"prompt\":\"a\",\"answer\":\"b\"}\n{\"prompt\":\"a\"}\n";
  }
  try {
    infer::eval_load(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

}  // namespace
