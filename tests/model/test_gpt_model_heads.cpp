// GptModel's extension points (gpt_model_heads.cpp): backward from a caller's
// d(logits) against the fused classifier's gradient and against finite differences;
// forward_hidden + backward from a caller's d(final hidden) against finite
// differences; the two gradients add when given together.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/gpt_model.hpp"

namespace weft {
namespace {

model::GptConfig tiny_config() {
  model::GptConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.vocab = 37;
  c.padded_vocab = model::pad_vocab(37);
  c.max_seq = 16;
  return c;
}

// Weights larger than GPT-2's init, so every path carries a visible signal.
void init_tiny(model::GptModel& m, std::uint64_t seed) {
  m.init_weights(seed);
  std::mt19937_64 gen(seed + 1);
  std::normal_distribution<float> n(0.0f, 0.2f);
  const auto& L = m.layout();
  for (const auto& t : L.tensors()) {
    if (t.name == "wte") continue;  // keep the padded rows 0
    for (std::size_t i = 0; i < t.size; ++i) m.params()[t.offset + i] += n(gen);
  }
  for (std::size_t i = 0; i < std::size_t(m.config().vocab) * m.config().n_embd; ++i)
    m.params()[L[model::ParamId::kWte].offset + i] += n(gen);
}

std::vector<std::int32_t> random_tokens(int n, int V, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<std::int32_t> t(static_cast<std::size_t>(n));
  for (auto& x : t) x = static_cast<std::int32_t>(gen() % V);
  return t;
}

std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// Directional finite differences: for random directions u, (f(p+εu) − f(p−εu)) / 2ε
// must equal g·u. f is evaluated in float by the model, accumulated in double.
void expect_directional_fd(model::GptModel& m, const std::vector<float>& grad,
                           const std::function<double()>& f, const char* what) {
  const std::size_t n = m.num_params();
  const int V = m.config().vocab, C = m.config().n_embd;
  const std::size_t wte0 = m.layout()[model::ParamId::kWte].offset;
  std::vector<float> saved(m.params(), m.params() + n);
  for (int dir = 0; dir < 3; ++dir) {
    std::vector<float> u = random_floats(n, 100 + dir);
    // Padded wte rows are not parameters anyone trains: leave them out.
    for (std::size_t i = wte0 + std::size_t(V) * C; i < m.layout()[model::ParamId::kWte].offset +
                                                          m.layout()[model::ParamId::kWte].size;
         ++i)
      u[i] = 0.0f;
    double gu = 0.0, unorm = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      gu += double(grad[i]) * u[i];
      unorm += double(u[i]) * u[i];
    }
    const double eps = 1e-3 / std::sqrt(unorm / n);
    for (std::size_t i = 0; i < n; ++i) m.params()[i] = saved[i] + float(eps) * u[i];
    const double fp = f();
    for (std::size_t i = 0; i < n; ++i) m.params()[i] = saved[i] - float(eps) * u[i];
    const double fm = f();
    std::copy(saved.begin(), saved.end(), m.params());
    const double fd = (fp - fm) / (2 * eps);
    EXPECT_NEAR(fd, gu, 2e-3 * (std::fabs(gu) + 1e-3)) << what << " direction " << dir;
  }
}

TEST(ModelHeads, BackwardFromLogitsEqualsFusedClassifier) {
  const model::GptConfig c = tiny_config();
  const int B = 2, T = 8, V = c.vocab, Vp = c.padded_vocab;
  model::GptModel m(c, B, T);
  init_tiny(m, 3);
  const auto x = random_tokens(B * T, V, 5), y = random_tokens(B * T, V, 6);
  m.zero_grad();
  m.forward_train(x.data(), y.data(), nullptr, B, T, 1.0f);
  m.backward();
  const std::vector<float> ref(m.grads(), m.grads() + m.num_params());

  // The caller's own cross-entropy gradient, in double, from forward()'s logits.
  m.forward(x.data(), nullptr, nullptr, B, T);
  std::vector<float> d(static_cast<std::size_t>(B) * T * Vp, 123.0f);  // padded columns: junk
  for (int i = 0; i < B * T; ++i) {
    const float* row = m.logits() + std::size_t(i) * Vp;
    double mx = row[0], sum = 0.0;
    for (int v = 1; v < V; ++v) mx = std::max(mx, double(row[v]));
    for (int v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
    for (int v = 0; v < V; ++v)
      d[std::size_t(i) * Vp + v] =
          float((std::exp(row[v] - mx) / sum - (v == y[i] ? 1.0 : 0.0)) / (B * T));
  }
  m.zero_grad();
  m.backward_from_logits(d.data());
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < m.num_params(); ++i) {
    err = std::max(err, double(std::fabs(m.grads()[i] - ref[i])));
    mag = std::max(mag, double(std::fabs(ref[i])));
  }
  EXPECT_LE(err / mag, 1e-5);
  EXPECT_GT(mag, 1e-3);
}

TEST(ModelHeads, BackwardFromLogitsMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config();
  const int B = 2, T = 6, V = c.vocab, Vp = c.padded_vocab;
  model::GptModel m(c, B, T);
  init_tiny(m, 7);
  const auto x = random_tokens(B * T, V, 8);
  // f = Σ R·logits over the real vocabulary (R fixed): df/dlogits = R.
  const auto R = random_floats(static_cast<std::size_t>(B) * T * Vp, 9);
  auto f = [&] {
    m.forward(x.data(), nullptr, nullptr, B, T);
    double s = 0;
    for (int i = 0; i < B * T; ++i)
      for (int v = 0; v < V; ++v) s += double(R[std::size_t(i) * Vp + v]) * m.logits()[std::size_t(i) * Vp + v];
    return s;
  };
  f();
  m.zero_grad();
  m.backward_from_logits(R.data());  // columns >= V are ignored by contract
  const std::vector<float> g(m.grads(), m.grads() + m.num_params());
  expect_directional_fd(m, g, f, "logits");
}

TEST(ModelHeads, BackwardFromHiddenMatchesFiniteDifferences) {
  const model::GptConfig c = tiny_config();
  const int B = 3, T = 5, C = c.n_embd;
  model::GptModel m(c, B, T);
  init_tiny(m, 11);
  const auto x = random_tokens(B * T, c.vocab, 12);
  // A scalar head on each row's last token: f = Σ_b w·h[b, T-1].
  const auto w = random_floats(static_cast<std::size_t>(C), 13);
  auto f = [&] {
    m.forward_hidden(x.data(), B, T);
    double s = 0;
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < C; ++k)
        s += double(w[k]) * m.final_hidden()[(std::size_t(b) * T + T - 1) * C + k];
    return s;
  };
  // forward_hidden's hidden state is forward()'s.
  m.forward(x.data(), nullptr, nullptr, B, T);
  const std::vector<float> h_full(m.final_hidden(), m.final_hidden() + std::size_t(B) * T * C);
  f();
  for (std::size_t i = 0; i < h_full.size(); ++i) ASSERT_EQ(h_full[i], m.final_hidden()[i]);
  std::vector<float> dh(static_cast<std::size_t>(B) * T * C, 0.0f);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < C; ++k) dh[(std::size_t(b) * T + T - 1) * C + k] = w[k];
  m.zero_grad();
  m.backward_from_hidden(dh.data());
  const std::vector<float> g(m.grads(), m.grads() + m.num_params());
  // The head's gradient never reaches wte through the LM head: only the embedding rows used.
  expect_directional_fd(m, g, f, "hidden");
}

TEST(ModelHeads, LogitsAndHiddenGradientsAdd) {
  const model::GptConfig c = tiny_config();
  const int B = 1, T = 7, C = c.n_embd, Vp = c.padded_vocab;
  model::GptModel m(c, B, T);
  init_tiny(m, 17);
  const auto x = random_tokens(B * T, c.vocab, 18);
  const auto dl = random_floats(std::size_t(T) * Vp, 19);
  const auto dh = random_floats(std::size_t(T) * C, 20);
  auto grads_of = [&](const float* a, const float* b) {
    m.forward(x.data(), nullptr, nullptr, B, T);
    m.zero_grad();
    m.backward_from(a, b);
    return std::vector<float>(m.grads(), m.grads() + m.num_params());
  };
  const auto g1 = grads_of(dl.data(), nullptr), g2 = grads_of(nullptr, dh.data());
  const auto g12 = grads_of(dl.data(), dh.data());
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < g12.size(); ++i) {
    err = std::max(err, double(std::fabs(g12[i] - (g1[i] + g2[i]))));
    mag = std::max(mag, double(std::fabs(g12[i])));
  }
  EXPECT_LE(err / mag, 1e-5);
}

}  // namespace
}  // namespace weft
