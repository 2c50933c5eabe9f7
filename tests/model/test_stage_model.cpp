// Pipeline stages of the GPT model: the balanced split, stage <-> full parameter
// copies, and a chain of stage models (run by hand in one thread, no communication)
// equal to the whole model: loss, every gradient (the tied wte summed over the first
// and last stage), with micro-batches in separate activation slots run GPipe-style
// (F0 F1 B0 B1) against the whole model's F0 B0 F1 B1; with two stages bitwise,
// except the tied wte's grouping (what the pp equivalence tests' tolerance rests on).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "model/gpt_model.hpp"
#include "model/stage_params.hpp"

namespace weft {
namespace {

TEST(StageModel, SplitIsBalancedAndNamesTooManyStages) {
  const auto s = model::stage_split(5, 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].layer_begin, 0);
  EXPECT_EQ(s[0].layer_end, 3);
  EXPECT_EQ(s[1].layer_begin, 3);
  EXPECT_EQ(s[1].layer_end, 5);
  const auto f = model::stage_split(4, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(f[i].layer_end - f[i].layer_begin, 1);
  try {
    model::stage_split(4, 5);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--pp 5 exceeds the model's 4 layers"), std::string::npos)
        << e.what();
  }
}

TEST(StageModel, ParamsRoundTrip) {
  const model::GptConfig cfg = model::gpt_config_preset("d3", 64, 16);
  model::GptModel whole(cfg, 1, 1, false);
  whole.init_weights(3);
  std::vector<float> back(whole.num_params(), -7.0f);
  const auto split = model::stage_split(cfg.n_layer, 2);
  for (int s = 0; s < 2; ++s) {
    model::GptModel st(cfg, 1, 1, false, {}, split[s]);
    EXPECT_EQ(st.config().n_layer, split[s].layer_end - split[s].layer_begin);
    model::stage_params_from_full(whole.layout(), whole.params(), split[s], st.layout(),
                                  st.params());
    model::stage_params_to_full(st.layout(), st.params(), split[s], s == 1, whole.layout(),
                                back.data());
  }
  EXPECT_TRUE(std::equal(back.begin(), back.end(), whole.params()));
}

double max_rel(const float* a, const float* b, std::size_t n) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  for (std::size_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / std::max(scale, 1e-30));
  return worst;
}

TEST(StageModel, ThreeStageChainEqualsWholeModel) {
  const model::GptConfig cfg = model::gpt_config_preset("d3", 64, 16);
  const int B = 2, T = 8, M = 2;
  Rng rng(9);
  std::vector<std::int32_t> x(M * B * T), y(M * B * T);
  for (auto& t : x) t = static_cast<std::int32_t>(rng.below(64));
  for (auto& t : y) t = static_cast<std::int32_t>(rng.below(64));
  const float scale = 1.0f / M;

  model::GptModel whole(cfg, B, T);
  whole.init_weights(5);
  whole.zero_grad();
  std::vector<float> loss_whole;
  for (int i = 0; i < M; ++i) {
    loss_whole.push_back(
        whole.forward_train(x.data() + i * B * T, y.data() + i * B * T, nullptr, B, T, scale));
    whole.backward();
  }

  const auto split = model::stage_split(cfg.n_layer, 3);
  std::vector<std::unique_ptr<model::GptModel>> st;
  for (int s = 0; s < 3; ++s) {
    st.push_back(std::make_unique<model::GptModel>(cfg, B, T, true, model::TpShard{}, split[s]));
    model::stage_params_from_full(whole.layout(), whole.params(), split[s], st[s]->layout(),
                                  st[s]->params());
    st[s]->zero_grad();
    st[s]->set_activation_slots(M);
  }
  EXPECT_TRUE(st[0]->first_stage() && !st[0]->last_stage());
  EXPECT_TRUE(!st[2]->first_stage() && st[2]->last_stage());
  // GPipe order: every forward, then every backward; micro-batch i in slot i.
  std::vector<float> loss_pipe;
  for (int i = 0; i < M; ++i) {
    const float* h = nullptr;
    for (int s = 0; s < 3; ++s) {
      st[s]->use_slot(i);
      const float l = st[s]->forward_train_stage(x.data() + i * B * T, h, y.data() + i * B * T,
                                                 nullptr, B, T, scale);
      if (s < 2)
        h = st[s]->stage_output();
      else
        loss_pipe.push_back(l);
    }
  }
  std::vector<float> d(static_cast<std::size_t>(B) * T * cfg.n_embd);
  for (int i = 0; i < M; ++i) {
    const float* dout = nullptr;
    for (int s = 2; s >= 0; --s) {
      st[s]->use_slot(i);
      st[s]->backward_stage(dout);
      if (s > 0) {
        std::copy_n(st[s]->stage_input_grad(), d.size(), d.begin());
        dout = d.data();
      }
    }
  }
  for (int i = 0; i < M; ++i) EXPECT_EQ(loss_pipe[i], loss_whole[i]);
  // Gradients: the stages' owned parts, gathered like parameters; wte summed.
  const model::ParamTensor& wte = whole.layout()[model::ParamId::kWte];
  for (std::size_t k = 0; k < wte.size; ++k)
    st[0]->grads()[wte.offset + k] += st[2]->grads()[wte.offset + k];
  std::vector<float> g(whole.num_params(), 0.0f);
  for (int s = 0; s < 3; ++s)
    model::stage_params_to_full(st[s]->layout(), st[s]->grads(), split[s], s == 2, whole.layout(),
                                g.data());
  for (const model::ParamTensor& t : whole.layout().tensors())
    EXPECT_LE(max_rel(g.data() + t.offset, whole.grads() + t.offset, t.size), 1e-6) << t.name;
  // Memory: a middle stage holds activations for its own layer only (no logits).
  EXPECT_LT(st[1]->activation_floats(), whole.activation_floats());
}

// Where a pipeline's gradients depart from one rank's (tests/train/pp_tests.cmake):
// only in the tied wte, whose sum is grouped differently. One rank with m micro-
// batches adds head (h) and embedding (e) parts in turn, ((h1 + e1) + h2) + e2; the
// pipeline sums e1 + e2 on the first stage, h1 + h2 on the last, then adds the two
// (PipelineStep::sum_tied_embedding_grad). Every other gradient must be bitwise the
// same, and wte too when the first stage is fed each micro-batch's h_i in turn.
struct TwoStageGrads {
  std::vector<float> grouped;      // (num_params) full layout: the pipeline's grouping
  std::vector<float> interleaved;  // (num_params) h_i added before e_i: one rank's order
};

TwoStageGrads two_stage_grads(const model::GptModel& whole, const std::vector<std::int32_t>& x,
                              const std::vector<std::int32_t>& y, int B, int T, int M,
                              float scale) {
  const model::GptConfig& cfg = whole.config();
  const auto split = model::stage_split(cfg.n_layer, 2);
  const model::ParamTensor& wte = whole.layout()[model::ParamId::kWte];
  TwoStageGrads out;
  for (bool interleave : {false, true}) {
    std::vector<std::unique_ptr<model::GptModel>> st;
    for (int s = 0; s < 2; ++s) {
      st.push_back(std::make_unique<model::GptModel>(cfg, B, T, true, model::TpShard{}, split[s]));
      model::stage_params_from_full(whole.layout(), whole.params(), split[s], st[s]->layout(),
                                    st[s]->params());
      st[s]->zero_grad();
      st[s]->set_activation_slots(M);
    }
    for (int i = 0; i < M; ++i) {  // GPipe order: F0 F1 ... then B0 B1 ...
      st[0]->use_slot(i);
      st[0]->forward_train_stage(x.data() + i * B * T, nullptr, nullptr, nullptr, B, T, scale);
      st[1]->use_slot(i);
      st[1]->forward_train_stage(nullptr, st[0]->stage_output(), y.data() + i * B * T, nullptr,
                                 B, T, scale);
    }
    std::vector<float> d(static_cast<std::size_t>(B) * T * cfg.n_embd);
    float* g0 = st[0]->grads() + wte.offset;
    float* g1 = st[1]->grads() + wte.offset;
    for (int i = 0; i < M; ++i) {
      st[1]->use_slot(i);
      if (interleave) std::fill_n(g1, wte.size, 0.0f);  // g1 = h_i alone
      st[1]->backward_stage(nullptr);
      if (interleave)
        for (std::size_t k = 0; k < wte.size; ++k) g0[k] += g1[k];
      std::copy_n(st[1]->stage_input_grad(), d.size(), d.begin());
      st[0]->use_slot(i);
      st[0]->backward_stage(d.data());
    }
    if (!interleave)
      for (std::size_t k = 0; k < wte.size; ++k) g0[k] += g1[k];  // (e1 + e2) + (h1 + h2)
    std::vector<float>& g = interleave ? out.interleaved : out.grouped;
    g.assign(whole.num_params(), 0.0f);
    for (int s = 0; s < 2; ++s)
      model::stage_params_to_full(st[s]->layout(), st[s]->grads(), split[s], s == 1,
                                  whole.layout(), g.data());
  }
  return out;
}

// Elements of a and b whose bits differ.
std::size_t bits_differ(const float* a, const float* b, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += std::memcmp(a + i, b + i, sizeof(float)) != 0;
  return count;
}

TEST(StageModel, TwoStagesDepartOnlyInTheTiedWteSum) {
  const model::GptConfig cfg = model::gpt_config_preset("d2", 64, 16);
  const int B = 2, T = 8;
  for (int M : {2, 3}) {
    Rng rng(11);
    std::vector<std::int32_t> x(M * B * T), y(M * B * T);
    for (auto& t : x) t = static_cast<std::int32_t>(rng.below(64));
    for (auto& t : y) t = static_cast<std::int32_t>(rng.below(64));
    const float scale = 1.0f / static_cast<float>(M);
    model::GptModel whole(cfg, B, T);  // one rank, grad_accum = M
    whole.init_weights(5);
    whole.zero_grad();
    for (int i = 0; i < M; ++i) {
      whole.forward_train(x.data() + i * B * T, y.data() + i * B * T, nullptr, B, T, scale);
      whole.backward();
    }
    const TwoStageGrads g = two_stage_grads(whole, x, y, B, T, M, scale);
    for (const model::ParamTensor& t : whole.layout().tensors()) {
      const float* ref = whole.grads() + t.offset;
      EXPECT_EQ(bits_differ(g.interleaved.data() + t.offset, ref, t.size), 0u)
          << t.name << " M=" << M;
      const std::size_t n = bits_differ(g.grouped.data() + t.offset, ref, t.size);
      if (t.name == "wte") {
        // The regrouping is visible (so this test can tell) and at rounding level.
        EXPECT_GT(n, 0u) << "M=" << M;
        EXPECT_LE(max_rel(g.grouped.data() + t.offset, ref, t.size), 1e-6) << "M=" << M;
      } else {
        EXPECT_EQ(n, 0u) << t.name << " M=" << M;
      }
    }
  }
}

TEST(StageModel, StageRangeIsChecked) {
  const model::GptConfig cfg = model::gpt_config_preset("d2", 64, 16);
  EXPECT_THROW(model::GptModel(cfg, 1, 1, true, {}, model::StageSpec{1, 1}), Error);
  EXPECT_THROW(model::GptModel(cfg, 1, 1, true, {}, model::StageSpec{0, 3}), Error);
}

}  // namespace
}  // namespace weft
