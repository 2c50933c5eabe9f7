// Tensor parallelism over thread ranks against the single-rank model: tp shards are
// slices of the tp = 1 weights (index maps written out here, independent of the
// slicing code), and tp = 2 and 4 reproduce the single rank's logits, loss, every
// gradient (gathered) and the grad norm; replicated gradients are bitwise equal on
// every tp rank. Also: the hooks chain calls every member.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "model/gpt_model.hpp"
#include "model/param_layout.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/hooks_chain.hpp"
#include "parallel/tensor_parallel.hpp"
#include "parallel/tp_shard.hpp"

namespace weft::parallel {
namespace {

constexpr int kB = 2, kT = 8;
constexpr std::uint64_t kSeed = 7;

model::GptConfig test_config() { return model::gpt_config_preset("d4", 200, 16); }  // C=256 NH=4 Vp=256

struct Batch {
  std::vector<std::int32_t> x, y;
};
Batch make_batch(int vocab) {
  Rng rng(5);
  Batch b;
  for (int i = 0; i < kB * kT; ++i) {
    b.x.push_back(static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(vocab))));
    b.y.push_back(static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(vocab))));
  }
  return b;
}

double max_rel(const float* a, const float* b, std::size_t n) {
  double dmax = 0, bmax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    dmax = std::max(dmax, std::abs(static_cast<double>(a[i]) - b[i]));
    bmax = std::max(bmax, std::abs(static_cast<double>(b[i])));
  }
  return dmax / std::max(bmax, 1e-30);
}

TEST(TensorParallelShard, ShardsAreSlicesOfTheFullWeights) {
  const model::GptConfig cfg = test_config();
  const model::ParamLayout full_layout(cfg);
  std::vector<float> full(full_layout.total());
  model::GptModel::init_weights_full(cfg, kSeed, full.data());
  const std::size_t L = cfg.n_layer, C = cfg.n_embd, Vp = cfg.padded_vocab;
  for (int tp : {2, 4}) {
    const model::ParamLayout local(cfg, tp);
    const std::size_t Cs = C / tp, Vs = Vp / tp;
    std::vector<float> back(full.size(), 0.0f);
    for (int r = 0; r < tp; ++r) {
      model::GptModel m(cfg, 1, 4, /*training=*/false, {r, tp});
      tp_init_weights(m, kSeed);
      const float* p = m.params();
      auto F = [&](model::ParamId id) { return full.data() + full_layout[id].offset; };
      auto P = [&](model::ParamId id) { return p + local[id].offset; };
      using model::ParamId;
      for (std::size_t v = 0; v < Vs; ++v)  // wte rows [r·Vs, (r+1)·Vs)
        for (std::size_t c = 0; c < C; ++c)
          ASSERT_EQ(P(ParamId::kWte)[v * C + c], F(ParamId::kWte)[(r * Vs + v) * C + c]);
      for (std::size_t l = 0; l < L; ++l) {
        for (std::size_t k = 0; k < 3; ++k)  // q, k, v blocks: heads [r·NH/tp, ...) of each
          for (std::size_t i = 0; i < Cs; ++i) {
            ASSERT_EQ(P(ParamId::kQkvb)[l * 3 * Cs + k * Cs + i], F(ParamId::kQkvb)[l * 3 * C + k * C + r * Cs + i]);
            for (std::size_t c = 0; c < C; ++c)
              ASSERT_EQ(P(ParamId::kQkvw)[((l * 3 * Cs) + k * Cs + i) * C + c],
                        F(ParamId::kQkvw)[((l * 3 * C) + k * C + r * Cs + i) * C + c]);
          }
        for (std::size_t o = 0; o < C; ++o)  // attproj: input columns [r·Cs, (r+1)·Cs)
          for (std::size_t i = 0; i < Cs; ++i)
            ASSERT_EQ(P(ParamId::kAttprojw)[(l * C + o) * Cs + i], F(ParamId::kAttprojw)[(l * C + o) * C + r * Cs + i]);
        for (std::size_t j = 0; j < 4 * Cs; ++j)  // fc: output rows [r·4Cs, (r+1)·4Cs)
          for (std::size_t c = 0; c < C; ++c)
            ASSERT_EQ(P(ParamId::kFcw)[(l * 4 * Cs + j) * C + c], F(ParamId::kFcw)[(l * 4 * C + r * 4 * Cs + j) * C + c]);
        for (std::size_t o = 0; o < C; ++o)  // fcproj: input columns [r·4Cs, (r+1)·4Cs)
          for (std::size_t i = 0; i < 4 * Cs; ++i)
            ASSERT_EQ(P(ParamId::kFcprojw)[(l * C + o) * 4 * Cs + i], F(ParamId::kFcprojw)[(l * C + o) * 4 * C + r * 4 * Cs + i]);
      }
      for (ParamId id : {ParamId::kWpe, ParamId::kLn1w, ParamId::kAttprojb, ParamId::kFcprojb, ParamId::kLnfb})
        for (std::size_t i = 0; i < full_layout[id].size; ++i) ASSERT_EQ(P(id)[i], F(id)[i]);
      tp_unshard_params(cfg, tp, r, p, back.data());
    }
    EXPECT_EQ(back, full) << "unsharding every rank rebuilds the full buffer (tp " << tp << ")";
  }
}

class TensorParallelModel : public ::testing::TestWithParam<int> {};

TEST_P(TensorParallelModel, MatchesSingleRank) {
  const int tp = GetParam();
  const model::GptConfig cfg = test_config();
  const Batch batch = make_batch(cfg.vocab);
  const int N = kB * kT, Vp = cfg.padded_vocab, Vs = Vp / tp;

  model::GptModel ref(cfg, kB, kT);
  ref.init_weights(kSeed);
  const float eval_ref = ref.forward(batch.x.data(), batch.y.data(), nullptr, kB, kT);
  const std::vector<float> logits_ref(ref.logits(), ref.logits() + static_cast<std::size_t>(N) * Vp);
  ref.zero_grad();
  const float loss_ref = ref.forward_train(batch.x.data(), batch.y.data(), nullptr, kB, kT, 1.0f);
  ref.backward();
  const double norm2_ref = cpu::grad_sum_squares(ref.grads(), ref.num_params());

  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(what);
  };
  comm::run_ranks(comm::RanksAs::kThreads, tp, {}, [&](comm::Communicator& c) {
    const int r = c.rank();
    model::GptModel m(cfg, kB, kT, true, {r, tp});
    tp_init_weights(m, kSeed);
    TensorParallel tpar(c, m);
    HooksChain chain{&tpar};
    m.set_hooks(&chain);
    const float eval = m.forward(batch.x.data(), batch.y.data(), nullptr, kB, kT);
    if (std::abs(eval - eval_ref) > 1e-5 * std::abs(eval_ref)) fail(str("rank ", r, " eval loss ", eval, " vs ", eval_ref));
    double dmax = 0;
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < Vs; ++j)
        dmax = std::max(dmax, std::abs(static_cast<double>(m.logits()[i * Vs + j]) - logits_ref[i * Vp + r * Vs + j]));
    if (dmax > 1e-5) fail(str("rank ", r, " logits max abs diff ", dmax));

    // Communication volume (docs/parallel.md): forward all-reduces the embedding and
    // each block's two row-parallel outputs (B·T·C floats each) plus 3 doubles per row
    // for the cross-entropy; backward the head's and each block's two column-parallel
    // input gradients.
    const std::uint64_t NC = static_cast<std::uint64_t>(N) * cfg.n_embd, L = cfg.n_layer;
    const std::uint64_t fwd_bytes = 4 * NC * (2 * L + 1) + 8 * 3 * static_cast<std::uint64_t>(N);
    if (tpar.take_bytes() != fwd_bytes) fail(str("rank ", r, " forward bytes differ from 4·N·C·(2L+1) + 24·N"));
    m.zero_grad();
    const float loss = m.forward_train(batch.x.data(), batch.y.data(), nullptr, kB, kT, 1.0f);
    m.backward();
    if (std::abs(loss - loss_ref) > 1e-5 * std::abs(loss_ref)) fail(str("rank ", r, " loss ", loss, " vs ", loss_ref));
    if (tpar.take_bytes() != fwd_bytes + 4 * NC * (2 * L + 1)) fail(str("rank ", r, " step bytes differ from 4·N·C·(4L+2) + 24·N"));
    const double norm2 = tpar.grad_sum_squares();
    if (std::abs(norm2 - norm2_ref) > 1e-5 * norm2_ref) fail(str("rank ", r, " grad Σg² ", norm2, " vs ", norm2_ref));

    // Every gradient, gathered to the full layout, against the single rank's.
    const model::ParamLayout full_layout(cfg);
    std::vector<float> g(full_layout.total());
    tp_gather_params(c, cfg, m.grads(), g.data());
    for (const model::ParamTensor& t : full_layout.tensors()) {
      const double rel = max_rel(g.data() + t.offset, ref.grads() + t.offset, t.size);
      if (rel > 1e-4) fail(str("rank ", r, " gradient of ", t.name, " max rel diff ", rel));
    }
    // Replicated gradients: bitwise equal on every tp rank (same inputs, same dresidual).
    const std::size_t n = m.num_params();
    std::vector<float> all(n * static_cast<std::size_t>(tp));
    c.all_gather(std::span<const float>(m.grads(), n), std::span<float>(all), "grads");
    for (const model::ParamTensor& t : m.layout().tensors()) {
      if (t.tp_split != model::TpSplit::kReplicated) continue;
      for (int q = 1; q < tp; ++q)
        for (std::size_t i = 0; i < t.size; ++i)
          if (all[q * n + t.offset + i] != all[t.offset + i]) {
            fail(str("replicated gradient ", t.name, " differs between tp ranks 0 and ", q));
            break;
          }
    }
    m.set_hooks(nullptr);
  });
  for (const std::string& f : failures) ADD_FAILURE() << f;
}

INSTANTIATE_TEST_SUITE_P(Sizes, TensorParallelModel, ::testing::Values(1, 2, 4));

TEST(TensorParallelHooks, ChainCallsEveryMemberInOrder) {
  struct Count final : model::ModelHooks {
    std::vector<int>* log;
    int id;
    Count(std::vector<int>* l, int i) : log(l), id(i) {}
    void grads_ready(int) override { log->push_back(id); }
    void sum_row_parallel_output(float* out, std::size_t) override { out[0] = out[0] * 10 + id; }
  };
  std::vector<int> log;
  Count a(&log, 1), b(&log, 2);
  HooksChain chain{&a, nullptr, &b};
  EXPECT_EQ(chain.size(), 2u);
  chain.grads_ready(0);
  float x = 0;
  chain.sum_row_parallel_output(&x, 1);
  EXPECT_EQ(log, (std::vector<int>{1, 2}));
  EXPECT_EQ(x, 12.0f);
}

}  // namespace
}  // namespace weft::parallel
