// GPT model vs the PyTorch fixture (tests/fixtures/gpt2, made by tools/make_reference.py):
// logits, loss, every gradient (rel ≤ 1e-4), the 10 AdamW losses (≤ 1e-5), the
// weighted (masked) loss; config presets and validation; parameter layout.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "model/param_layout.hpp"
#include "train/check_state.hpp"

namespace weft {
namespace {

const std::string kFixture = std::string(WEFT_FIXTURES_DIR) + "/gpt2/";

TEST(ModelConfig, PresetsMatchGpt2AndNanochatWidths) {
  const model::GptConfig d12 = model::gpt_config_preset("d12");
  EXPECT_EQ(d12.n_embd, 768);
  EXPECT_EQ(d12.n_head, 12);
  EXPECT_EQ(d12.padded_vocab, 50304);
  // GPT-2 124M has 124,439,808 parameters with V=50257; padding adds 47 rows of 768.
  EXPECT_EQ(d12.num_params(), 124439808u + 47u * 768u);
  EXPECT_EQ(model::gpt_config_preset("d24").n_embd, 1024);
  EXPECT_EQ(model::gpt_config_preset("d36").n_head, 20);
  const model::GptConfig d48 = model::gpt_config_preset("d48");
  EXPECT_EQ(d48.n_embd, 1600);
  EXPECT_EQ(d48.n_head, 25);
  const model::GptConfig d4 = model::gpt_config_preset("d4", 101);
  EXPECT_EQ(d4.n_embd, 256);
  EXPECT_EQ(d4.n_head, 4);
  EXPECT_EQ(d4.padded_vocab, 128);
  EXPECT_THROW(model::gpt_config_preset("x12"), Error);
  EXPECT_THROW(model::gpt_config_preset("d"), Error);
}

TEST(ModelConfig, ValidationNamesTheField) {
  model::GptConfig c;
  c.n_head = 5;  // 768 % 5 != 0
  try {
    c.validate("test");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_embd"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_head"), std::string::npos) << e.what();
  }
  c = model::GptConfig{};
  c.padded_vocab = 100;
  EXPECT_THROW(c.validate(), Error);
}

TEST(ModelLayout, LlmcOrderContiguousAndComplete) {
  const model::GptConfig c = model::gpt_config_preset("d2", 101, 32);
  const model::ParamLayout layout(c);
  std::size_t at = 0;
  const char* names[] = {"wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
                         "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"};
  int i = 0;
  for (const auto& t : layout.tensors()) {
    EXPECT_EQ(t.name, names[i++]);
    EXPECT_EQ(t.offset, at);
    at += t.size;
  }
  EXPECT_EQ(layout.total(), at);
  EXPECT_EQ(layout[model::ParamId::kQkvw].size, 2u * 3 * 128 * 128);
  EXPECT_EQ(model::ParamLayout::shape_string(layout[model::ParamId::kFcprojw]), "(2, 128, 512)");
}

TEST(ModelInit, Gpt2StatisticsAndSeeded) {
  const model::GptConfig c = model::gpt_config_preset("d2", 101, 64);
  model::GptModel a(c, 1, 8, false), b(c, 1, 8, false);
  a.init_weights(7);
  b.init_weights(7);
  ASSERT_TRUE(std::equal(a.params(), a.params() + a.num_params(), b.params()));
  const auto& L = a.layout();
  auto stddev = [&](model::ParamId id, std::size_t n) {
    const float* p = a.params() + L[id].offset;
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += double(p[i]) * p[i];
    return std::sqrt(s / n);
  };
  EXPECT_NEAR(stddev(model::ParamId::kFcw, L[model::ParamId::kFcw].size), 0.02, 0.001);
  EXPECT_NEAR(stddev(model::ParamId::kFcprojw, L[model::ParamId::kFcprojw].size), 0.01, 0.0005);
  EXPECT_EQ(a.params()[L[model::ParamId::kLn1w].offset], 1.0f);
  EXPECT_EQ(a.params()[L[model::ParamId::kQkvb].offset], 0.0f);
  // Padded vocabulary rows are zero.
  EXPECT_EQ(a.params()[L[model::ParamId::kWte].offset + 101 * 128], 0.0f);
}

void expect_report_ok(const train::CheckStateReport& r) {
  for (const auto& t : r.tensors) {
    EXPECT_TRUE(t.ok) << t.name << " max_abs " << t.max_abs << " max_rel " << t.max_rel;
    EXPECT_LE(t.max_rel, 1e-4) << t.name;
  }
  EXPECT_TRUE(r.ok);
}

TEST(ModelVsPytorch, LogitsLossGradsAndTenAdamWSteps) {
  train::CheckStateOptions o;
  o.model_path = kFixture + "model.bin";
  o.state_path = kFixture + "state.bin";
  const train::CheckStateReport r = train::check_state(o);
  expect_report_ok(r);
  ASSERT_EQ(r.ref_losses.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(r.losses[i], r.ref_losses[i], 1e-5) << "step " << i;
  // The losses fall (the reference does too): a sign that the update is applied.
  EXPECT_LT(r.losses[9], r.losses[0] - 0.1);
}

TEST(ModelVsPytorch, WeightedLossAndGrads) {
  train::CheckStateOptions o;
  o.model_path = kFixture + "model.bin";
  o.state_path = kFixture + "state_masked.bin";
  o.use_mask = true;
  o.steps = 1;
  const train::CheckStateReport r = train::check_state(o);
  expect_report_ok(r);
  std::ifstream in(kFixture + "reference.json");
  const nlohmann::json ref = nlohmann::json::parse(in);
  EXPECT_NEAR(r.losses[0], ref["masked_loss"].get<double>(), 1e-5);
}

TEST(ModelVsPytorch, PerturbedParametersAreDetected) {
  // The comparison itself can fail: one changed weight breaks logits and grads.
  const std::string tmp = ::testing::TempDir() + "weft_perturbed_model.bin";
  model::LlmcModel m = model::llmc_load_model(kFixture + "model.bin");
  m.params[model::ParamLayout(m.config)[model::ParamId::kFcw].offset + 5] += 0.05f;
  model::llmc_save_model(tmp, m.config, m.params.data());
  train::CheckStateOptions o;
  o.model_path = tmp;
  o.state_path = kFixture + "state.bin";
  o.steps = 1;
  EXPECT_FALSE(train::check_state(o).ok);
  std::remove(tmp.c_str());
}

TEST(ModelForward, TrainAndEvalAgreeAndAccumulationScales) {
  model::LlmcModel f = model::llmc_load_model(kFixture + "model.bin");
  const model::LlmcDebugState s = model::llmc_load_debug_state(kFixture + "state.bin", f.config);
  model::GptModel m(f.config, s.B, s.T);
  std::copy(f.params.begin(), f.params.end(), m.params());
  const float eval = m.forward(s.x.data(), s.y.data(), nullptr, s.B, s.T);
  m.zero_grad();
  const float train = m.forward_train(s.x.data(), s.y.data(), nullptr, s.B, s.T, 0.5f);
  EXPECT_EQ(eval, train);
  m.backward();
  m.forward_train(s.x.data(), s.y.data(), nullptr, s.B, s.T, 0.5f);
  m.backward();  // two halves accumulate to the full gradient
  double max_err = 0, max_ref = 0;
  for (std::size_t i = 0; i < m.num_params(); ++i) {
    max_err = std::max(max_err, double(std::fabs(m.grads()[i] - s.grads[i])));
    max_ref = std::max(max_ref, double(std::fabs(s.grads[i])));
  }
  EXPECT_LE(max_err / max_ref, 1e-4);
}

}  // namespace
}  // namespace weft
