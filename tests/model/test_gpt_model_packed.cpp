// Packed rows (GptModel::set_doc_starts): one row holding two conversations and a
// padding tail gives the same logits, weighted loss and gradients as running each
// conversation alone (the unpacked model is the independent reference); bad
// doc_start arrays are rejected naming the position.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.hpp"
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

void randomize(model::GptModel& m, std::uint64_t seed) {
  m.init_weights(seed);
  std::mt19937_64 gen(seed + 1);
  std::normal_distribution<float> n(0.0f, 0.2f);
  for (const auto& t : m.layout().tensors()) {
    const std::size_t size =
        t.name == "wte" ? std::size_t(m.config().vocab) * m.config().n_embd : t.size;
    for (std::size_t i = 0; i < size; ++i) m.params()[t.offset + i] += n(gen);
  }
}

TEST(ModelPacked, PackedRowEqualsConversationsRunAlone) {
  const model::GptConfig c = tiny_config();
  const int T = 14, Vp = c.padded_vocab;
  const std::vector<int> lens = {5, 6, 3};  // two conversations + a padding tail (weight 0)
  std::mt19937_64 gen(7);
  std::vector<std::int32_t> x(T), y(T), ds(T);
  std::vector<float> w(T);
  int at = 0;
  for (std::size_t d = 0; d < lens.size(); ++d) {
    for (int i = 0; i < lens[d]; ++i) {
      x[at + i] = static_cast<std::int32_t>(gen() % c.vocab);
      y[at + i] = static_cast<std::int32_t>(gen() % c.vocab);
      w[at + i] = d == 2 ? 0.0f : static_cast<float>(gen() % 2);  // like an assistant mask
      ds[at + i] = at;
    }
    at += lens[d];
  }
  double wsum = 0;
  for (float v : w) wsum += v;

  model::GptModel packed(c, 1, T);
  randomize(packed, 3);
  packed.set_doc_starts(ds.data(), 1, T);
  packed.zero_grad();
  const float loss = packed.forward(x.data(), y.data(), w.data(), 1, T);
  const std::vector<float> logits(packed.logits(), packed.logits() + std::size_t(T) * Vp);
  EXPECT_FLOAT_EQ(packed.forward_train(x.data(), y.data(), w.data(), 1, T, 1.0f), loss);
  packed.backward();

  // Each conversation alone, unpacked; gradients summed with the packed run's weighting.
  model::GptModel alone(c, 1, T);
  std::copy(packed.params(), packed.params() + packed.num_params(), alone.params());
  alone.zero_grad();
  double loss_sum = 0;
  at = 0;
  for (std::size_t d = 0; d < 2; ++d) {
    const int n = lens[d];
    alone.forward(x.data() + at, nullptr, nullptr, 1, n);
    for (int i = 0; i < n; ++i)
      for (int v = 0; v < c.vocab; ++v)
        ASSERT_NEAR(alone.logits()[std::size_t(i) * Vp + v], logits[std::size_t(at + i) * Vp + v],
                    1e-5)
            << "conversation " << d << " token " << i;
    double ws = 0;
    for (int i = 0; i < n; ++i) ws += w[at + i];
    const float l = alone.forward_train(x.data() + at, y.data() + at, w.data() + at, 1, n,
                                        static_cast<float>(ws / wsum));
    loss_sum += l * ws;
    alone.backward();
    at += n;
  }
  EXPECT_NEAR(loss, loss_sum / wsum, 1e-5);
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < packed.num_params(); ++i) {
    err = std::max(err, double(std::fabs(packed.grads()[i] - alone.grads()[i])));
    mag = std::max(mag, double(std::fabs(alone.grads()[i])));
  }
  EXPECT_GT(mag, 1e-3);
  EXPECT_LE(err / mag, 1e-5);

  // Without the doc starts the second conversation sees the first: logits differ.
  packed.clear_doc_starts();
  packed.forward(x.data(), nullptr, nullptr, 1, T);
  EXPECT_GT(std::fabs(packed.logits()[std::size_t(6) * Vp] - logits[std::size_t(6) * Vp]), 1e-4);
}

TEST(ModelPacked, BadDocStartsNameThePosition) {
  const model::GptConfig c = tiny_config();
  model::GptModel m(c, 2, 4);
  const std::vector<std::int32_t> bad = {0, 0, 1, 1, 0, 0, 2, 2};  // row 0, t 2: 1 is neither 0 nor 2
  try {
    m.set_doc_starts(bad.data(), 2, 4);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("doc_start[0,2]"), std::string::npos) << e.what();
  }
  const std::vector<std::int32_t> ok = {0, 0, 2, 2, 0, 1, 1, 3};
  m.set_doc_starts(ok.data(), 2, 4);
  std::vector<std::int32_t> x(8, 1);
  EXPECT_THROW(m.forward(x.data(), nullptr, nullptr, 1, 4), Error);  // shape differs from the set one
}

}  // namespace
}  // namespace weft
