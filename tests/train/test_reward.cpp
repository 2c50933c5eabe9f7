// Reward model: the pairwise loss and its gradient (closed form and finite differences
// of the formula); the whole model's gradient of the pairwise loss (transformer +
// head) against directional finite differences; reward_head.bin round trip and its
// errors; `weft reward` on a learnable synthetic preference (the chosen reply contains
// "yes", the rejected one not) lifts held-out accuracy far above chance; DP with two
// thread ranks equals one rank.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <random>
#include <fstream>

#include "core/error.hpp"
#include "kernels/cpu/matmul_bf16.hpp"
#include "data/chat_jsonl.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/param_layout.hpp"
#include "model/reward_model.hpp"
#include "stage_test_util.hpp"
#include "train/reward.hpp"
#include "train/reward_loss.hpp"

namespace weft {
namespace {

using namespace stage_test;

TEST(RewardLoss, ClosedFormAndFiniteDifferences) {
  for (double d : {-30.0, -2.0, -0.1, 0.0, 0.7, 5.0, 40.0}) {
    const train::PairLoss l = train::pair_loss(d, 0.0);
    EXPECT_NEAR(l.loss, std::log1p(std::exp(-d)), 1e-12 * (1 + l.loss)) << d;
    const double h = 1e-6;
    const double fd = (train::pair_loss(d + h, 0.0).loss - train::pair_loss(d - h, 0.0).loss) / (2 * h);
    EXPECT_NEAR(l.dchosen, fd, 1e-7) << d;
    // The rejected side gets the opposite gradient.
    const double fd_r = (train::pair_loss(d, h).loss - train::pair_loss(d, -h).loss) / (2 * h);
    EXPECT_NEAR(-l.dchosen, fd_r, 1e-7) << d;
  }
  EXPECT_DOUBLE_EQ(train::pair_loss(1, 1).credit, 0.5);
  EXPECT_DOUBLE_EQ(train::pair_loss(2, 1).credit, 1.0);
  EXPECT_DOUBLE_EQ(train::pair_loss(1, 2).credit, 0.0);
}

TEST(RewardModelGrad, PairwiseLossMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config(61, 16);
  const int B = 4, T = 7;  // 2 pairs: rows 0,1 chosen, rows 2,3 rejected
  model::RewardModel rm(c, B, T, /*training=*/true);
  rm.gpt().init_weights(5);
  std::mt19937_64 gen(9);
  std::normal_distribution<float> n(0.0f, 0.2f);
  float* p = rm.gpt().params();
  for (std::size_t i = 0; i < rm.gpt().num_params(); ++i) p[i] += n(gen);
  for (std::size_t i = 0; i < rm.head().size(); ++i) rm.head().params.data()[i] = n(gen) * 3;
  std::vector<std::int32_t> tok(B * T);
  for (auto& t : tok) t = static_cast<std::int32_t>(gen() % c.vocab);
  const std::vector<int> len = {7, 4, 5, 7};  // right-padded rows
  auto loss = [&](std::vector<float>* dvalues) {
    float s[B];
    rm.score_batch(tok.data(), len.data(), B, T, s);
    double L = 0;
    if (dvalues) dvalues->assign(B * T, 0.0f);
    for (int i = 0; i < 2; ++i) {
      const train::PairLoss l = train::pair_loss(s[i], s[i + 2]);
      L += l.loss / 2;
      if (dvalues) {
        (*dvalues)[i * T + len[i] - 1] = float(l.dchosen / 2);
        (*dvalues)[(i + 2) * T + len[i + 2] - 1] = float(-l.dchosen / 2);
      }
    }
    return L;
  };
  std::vector<float> dv;
  const double L0 = loss(&dv);
  EXPECT_GT(L0, 0.05);
  rm.zero_grad();
  rm.backward(dv.data());
  // Padding after a row's end changes nothing (causal): the score of row 1 is its own.
  {
    float s[B], s2[B];
    rm.score_batch(tok.data(), len.data(), B, T, s);
    std::vector<std::int32_t> t2 = tok;
    for (int t = len[1]; t < T; ++t) t2[T + t] = 0;
    rm.score_batch(t2.data(), len.data(), B, T, s2);
    EXPECT_EQ(s[1], s2[1]);
  }
  // Directional finite differences over transformer and head together.
  const std::size_t np = rm.gpt().num_params(), nh = rm.head().size();
  const std::vector<float> g(rm.gpt().grads(), rm.gpt().grads() + np);
  const std::vector<float> gh(rm.head_grads(), rm.head_grads() + nh);
  const std::vector<float> p0(p, p + np);
  const std::vector<float> h0(rm.head().params.data(), rm.head().params.data() + nh);
  const std::size_t pad0 = rm.gpt().layout()[model::ParamId::kWte].offset +
                           std::size_t(c.vocab) * c.n_embd,
                    pad1 = rm.gpt().layout()[model::ParamId::kWte].offset +
                           rm.gpt().layout()[model::ParamId::kWte].size;
  for (int dir = 0; dir < 3; ++dir) {
    std::mt19937_64 ug(100 + dir);
    std::normal_distribution<float> un(0.0f, 1.0f);
    std::vector<float> u(np), uh(nh);
    for (std::size_t i = 0; i < np; ++i) u[i] = (i >= pad0 && i < pad1) ? 0.0f : un(ug);
    for (auto& x : uh) x = un(ug);
    double gu = 0;
    for (std::size_t i = 0; i < np; ++i) gu += double(g[i]) * u[i];
    for (std::size_t i = 0; i < nh; ++i) gu += double(gh[i]) * uh[i];
    const double eps = 1e-3;
    auto set = [&](double s) {
      for (std::size_t i = 0; i < np; ++i) p[i] = p0[i] + float(s * u[i]);
      for (std::size_t i = 0; i < nh; ++i) rm.head().params.data()[i] = h0[i] + float(s * uh[i]);
    };
    set(eps);
    const double lp = loss(nullptr);
    set(-eps);
    const double lm = loss(nullptr);
    set(0);
    const double fd = (lp - lm) / (2 * eps);
    EXPECT_NEAR(fd, gu, 3e-3 * (std::fabs(gu) + 1e-2)) << "direction " << dir;
  }
}

TEST(RewardHeadFile, RoundTripAndErrors) {
  const fs::path d = fresh_dir("weft_reward_head");
  model::RewardHead h(5);
  for (int i = 0; i < 6; ++i) h.params.data()[i] = 0.5f * i - 1;
  model::reward_head_save((d / "h.bin").string(), h);
  const model::RewardHead r = model::reward_head_load((d / "h.bin").string(), 5);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.params.data()[i], h.params.data()[i]);
  auto expect_error = [&](int C, const std::string& needle) {
    try {
      model::reward_head_load((d / "h.bin").string(), C);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(6, "header[2] (C) = 5");
  fs::resize_file(d / "h.bin", 1024 + 12);
  expect_error(5, "truncated");
  std::ofstream(d / "h.bin") << "not a head";
  expect_error(5, "truncated while reading the header");
}

train::RewardOptions tiny_reward(const fs::path& dir, const std::string& out) {
  train::RewardOptions o;
  o.tokenizer = make_tokenizer(dir);
  o.init_from = make_base_model(dir, static_cast<int>(data::Tokenizer::load(o.tokenizer).vocab_size()));
  write_pairs(dir / "train.jsonl", 64, 1);
  write_pairs(dir / "test.jsonl", 40, 2);
  o.data = (dir / "train.jsonl").string();
  o.val_data = (dir / "test.jsonl").string();
  o.out = (dir / out).string();
  o.batch = 8;
  o.seq = 32;
  o.steps = 40;
  o.lr = 2e-3;
  o.threads = 1;
  o.quiet = true;
  o.overwrite = true;
  return o;
}

TEST(Reward, LearnsASyntheticPreferenceAndScoresThroughTheLibrary) {
  const fs::path dir = fresh_dir("weft_reward_a");
  const train::RewardOptions o = tiny_reward(dir, "run");
  const train::RewardResult r = train::reward_train(o);
  EXPECT_DOUBLE_EQ(r.val_accuracy_before, 0.5);  // zero head: every pair a tie
  EXPECT_GE(r.val_accuracy_after, 0.85);
  EXPECT_LT(r.val_loss_after, r.val_loss_before - 0.2);
  // The saved reward model scores through RewardModel::score as in training.
  auto rm = model::RewardModel::load(o.out, 1, 0);
  const data::Tokenizer tok = data::Tokenizer::load(o.tokenizer);
  const auto pairs = data::chat_read_pairs(o.val_data);
  int right = 0;
  for (const auto& p : pairs) {
    auto ids = [&](const std::string& reply) {
      const auto t = data::chat_render(tok, data::chat_pair_conversation(p.prompt, reply)).ids;
      return std::vector<std::int32_t>(t.begin(), t.end());
    };
    right += rm->score(ids(p.chosen)) > rm->score(ids(p.rejected)) ? 1 : 0;
  }
  EXPECT_NEAR(double(right) / pairs.size(), r.val_accuracy_after, 1e-9);
  // metrics.jsonl has the held-out accuracy at step 0 and at the end.
  std::ifstream in(fs::path(o.out) / "metrics.jsonl");
  std::string line, last;
  std::getline(in, line);
  EXPECT_TRUE(nlohmann::json::parse(line).contains("val_accuracy"));
  while (std::getline(in, line)) last = line;
  EXPECT_NEAR(nlohmann::json::parse(last)["val_accuracy"].get<double>(), r.val_accuracy_after, 1e-12);
}

TEST(Reward, DataParallelTwoThreadRanksEqualsOneRank) {
  const fs::path dir = fresh_dir("weft_reward_dp");
  // The reference scores the same 8 pairs as 2 micro-batches of 4, the sums DP forms.
  train::RewardOptions ref = tiny_reward(dir, "ref");
  ref.steps = 6;
  ref.batch = 4;
  ref.grad_accum = 2;
  train::RewardOptions dp = tiny_reward(dir, "dp");
  dp.steps = 6;
  dp.ranks = 2;
  dp.ranks_as = "threads";
  const train::RewardResult a = train::reward_train(ref), b = train::reward_train(dp);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (std::size_t i = 0; i < a.losses.size(); ++i)
    EXPECT_NEAR(b.losses[i], a.losses[i], 1e-5 * a.losses[i]) << "step " << i + 1;
  EXPECT_NEAR(b.val_loss_after, a.val_loss_after, 1e-4 * a.val_loss_after);
  // Parameters: all but lnfb, whose true gradient is exactly 0 (a shift of every score
  // leaves the pairwise loss unchanged), so AdamW turns its order-dependent rounding
  // noise into ±lr steps; that noise feeds back into the rest at ~1e-4 over 6 steps.
  const auto ma = model::llmc_load_model(ref.out + "/model.bin");
  const auto mb = model::llmc_load_model(dp.out + "/model.bin");
  const model::ParamLayout layout(ma.config);
  for (const auto& t : layout.tensors()) {
    if (t.name == "lnfb") continue;
    double err = 0, mag = 0;
    for (std::size_t i = t.offset; i < t.offset + t.size; ++i) {
      err = std::max(err, double(std::fabs(ma.params[i] - mb.params[i])));
      mag = std::max(mag, double(std::fabs(ma.params[i])));
    }
    EXPECT_LE(err, 1e-3 * mag) << t.name;
  }
  const auto ha = model::reward_head_load(ref.out + "/reward_head.bin", ma.config.n_embd);
  const auto hb = model::reward_head_load(dp.out + "/reward_head.bin", ma.config.n_embd);
  for (int k = 0; k < ma.config.n_embd; ++k) EXPECT_NEAR(ha.w()[k], hb.w()[k], 1e-4) << k;
}

// --precision bf16 on the reward model: held-out loss and accuracy after training
// track fp32 (loss within 5%: 2·B pairs of scores differ by rounding; accuracy within
// one pair in ten), and the run really used bf16 (its step-0 loss differs).
TEST(RewardBf16, TracksFp32) {
  if (!cpu::bf16_matmul_available()) GTEST_SKIP() << cpu::bf16_matmul_status();
  const fs::path dir = fresh_dir("weft_reward_bf16_" + std::to_string(::getpid()));
  train::RewardOptions o = tiny_reward(dir, "fp32");
  const train::RewardResult a = train::reward_train(o);
  o.out = (dir / "bf16").string();
  o.precision = "bf16";
  const train::RewardResult b = train::reward_train(o);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  EXPECT_NE(a.losses.back(), b.losses.back()) << "bf16 run is bitwise fp32: setting ignored?";
  EXPECT_NEAR(b.val_loss_after, a.val_loss_after, 0.05 * a.val_loss_after);
  EXPECT_NEAR(b.val_accuracy_after, a.val_accuracy_after, 0.1);
  EXPECT_GE(b.val_accuracy_after, 0.85);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace weft
