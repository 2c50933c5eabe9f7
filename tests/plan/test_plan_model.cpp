// weft plan's building blocks against closed forms: ring collective costs, ZeRO shares,
// Korthikanti's activation terms, the bubble fraction, and layout validation messages.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "plan/comm_model.hpp"
#include "plan/memory_model.hpp"
#include "plan/search.hpp"
#include "plan/time_model.hpp"

namespace weft::plan {
namespace {

RunSpec small_run() {
  RunSpec run;
  run.model = model_preset("gpt2-124m");
  run.cluster.gpu = gpu_lookup("a100-80gb");
  run.cluster.gpus = 16;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = link_lookup("nvlink3");
  run.cluster.inter = link_lookup("ib-hdr");
  run.layout = {};
  run.layout.dp = 4;
  run.layout.tp = 2;
  run.layout.pp = 2;
  run.layout.global_batch = 64;
  run.tokens = 1e9;
  return run;
}

TEST(PlanComm, RingCostsMatchClosedForm) {
  const LinkSpec link{"x", 100e9, 5e-6};
  // n = 4, M = 1 GB: all-reduce moves 2·3/4 GB, 6 latency steps.
  EXPECT_DOUBLE_EQ(comm_allreduce_s(4, 1e9, link), 1.5e9 / 100e9 + 6 * 5e-6);
  EXPECT_DOUBLE_EQ(comm_allgather_s(4, 1e9, link), 0.75e9 / 100e9 + 3 * 5e-6);
  EXPECT_DOUBLE_EQ(comm_reduce_scatter_s(4, 1e9, link), comm_allgather_s(4, 1e9, link));
  // An all-reduce is a reduce-scatter followed by an all-gather.
  EXPECT_DOUBLE_EQ(comm_allreduce_s(8, 3e8, link),
                   comm_reduce_scatter_s(8, 3e8, link) + comm_allgather_s(8, 3e8, link));
  EXPECT_EQ(comm_allreduce_s(1, 1e9, link), 0.0);
  EXPECT_DOUBLE_EQ(comm_p2p_s(1e6, link), 5e-6 + 1e6 / 100e9);
}

TEST(PlanMemory, ZeroStagesShardTheRightStates) {
  const double psi = 1e9;
  const auto s0 = model_state_bytes(psi, 0, 8, true);
  EXPECT_DOUBLE_EQ(s0.total(), 16 * psi);  // 2Ψ + 2Ψ + 12Ψ
  const auto s1 = model_state_bytes(psi, 1, 8, true);
  EXPECT_DOUBLE_EQ(s1.optimizer, 12 * psi / 8);
  EXPECT_DOUBLE_EQ(s1.grads, 2 * psi);
  const auto s2 = model_state_bytes(psi, 2, 8, true);
  EXPECT_DOUBLE_EQ(s2.grads, 2 * psi / 8);
  EXPECT_DOUBLE_EQ(s2.params, 2 * psi);
  EXPECT_DOUBLE_EQ(model_state_bytes(psi, 3, 8, true).total(), 16 * psi / 8);
  // fp32: 4Ψ params, 4Ψ grads, 8Ψ Adam moments.
  const auto f = model_state_bytes(psi, 1, 4, false);
  EXPECT_DOUBLE_EQ(f.params + f.grads, 8 * psi);
  EXPECT_DOUBLE_EQ(f.optimizer, 2 * psi);
}

TEST(PlanMemory, ActivationTermsPerKorthikanti) {
  RunSpec run = small_run();
  const ModelSpec& m = run.model;  // s=1024, h=768, a=12
  const double sbh = 1024.0 * 1 * 768;
  Layout& l = run.layout;
  l.tp = 1;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), sbh * (34 + 5.0 * 12 * 1024 / 768));
  l.tp = 4;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), sbh * (34 + 5.0 * 12 * 1024 / 768) / 4);
  l.sequence_parallel = false;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), sbh * (10 + 24.0 / 4 + 5.0 * 12 * 1024 / (768 * 4)));
  l.sequence_parallel = true;
  l.recompute = Recompute::kSelective;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), sbh * 34 / 4);
  l.recompute = Recompute::kFull;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), 2 * sbh);
  l.micro_batch = 3;
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(m, l), 2 * sbh * 3);
}

TEST(PlanMemory, OneF1BHoldsPMicroBatchesGPipeHoldsM) {
  RunSpec run = small_run();  // dp 4, b 1, B 64 → m = 16, p = 2
  EXPECT_EQ(memory_estimate(run).in_flight, 2);
  run.layout.schedule = Schedule::kGPipe;
  EXPECT_EQ(memory_estimate(run).in_flight, 16);
}

TEST(PlanTime, BubbleAndFlopsClosedForm) {
  RunSpec run = small_run();
  const TimeReport t = time_estimate(run);
  EXPECT_EQ(t.micro_batches, 16);
  EXPECT_DOUBLE_EQ(t.bubble_fraction, 1.0 / 17.0);
  EXPECT_NEAR(t.bubble / t.pipeline, 1.0 / 17.0, 1e-12);
  // Full recomputation = one more forward: 96/72 of the matmul FLOPs.
  const ModelSpec& m = run.model;
  EXPECT_DOUBLE_EQ(flops_per_iteration(m, 8, Recompute::kFull) / flops_per_iteration(m, 8, Recompute::kNone),
                   96.0 / 72.0);
  // Selective adds exactly the attention-core forward 4·B·s²·h·l.
  EXPECT_DOUBLE_EQ(flops_per_iteration(m, 8, Recompute::kSelective) - flops_per_iteration(m, 8, Recompute::kNone),
                   4.0 * 8 * 1024.0 * 1024 * 768 * 12);
  // tp = 2 inside a node uses NVLink; dp ring (tp·dp = 8) stays inside; pp leaves the node.
  EXPECT_EQ(t.tp_link, "nvlink3");
  EXPECT_EQ(t.dp_link, "nvlink3");
  EXPECT_EQ(t.pp_link, "ib-hdr");
  EXPECT_NEAR(t.step, t.pipeline + t.dp_comm + t.embedding_comm + t.optimizer, 1e-15);
}

TEST(PlanTime, DoublingGpusAtFixedMfuHalvesComputeTime) {
  RunSpec run = small_run();
  run.layout = {};
  run.layout.global_batch = 64;
  run.cluster.gpus = 1;
  const double one = time_estimate(run).mb_compute * 64;
  run.cluster.gpus = 2;
  run.layout.dp = 2;
  const double two = time_estimate(run).mb_compute * 32;
  EXPECT_NEAR(one / two, 2.0, 1e-12);
}

// The last pipeline stage runs l/p layers and the whole logits matmul, so its compute per
// step is (F − F_logits)/p + F_logits, with F_logits = 72·B·s·h·V/16 (eq. 3's V/(16lh) term).
TEST(PlanTime, LastPipelineStageCarriesTheWholeLogitsMatmul) {
  RunSpec run = small_run();
  run.layout = {};
  run.layout.global_batch = 8;
  run.layout.micro_batch = 8;
  run.cluster.gpus = 2;
  run.layout.pp = 2;
  const ModelSpec& m = run.model;
  const double f = flops_per_iteration(m, 8, Recompute::kNone);
  const double fl = 72.0 * 8 * 1024 * 768 * 50257 / 16.0;
  EXPECT_DOUBLE_EQ(logits_flops(m, 8, Recompute::kNone), fl);
  const double peak = run.cluster.gpu.peak_tensor16 * run.mfu;
  EXPECT_NEAR(time_estimate(run).mb_compute * peak / ((f - fl) / 2 + fl), 1.0, 1e-12);
}

void expect_config_error(const RunSpec& run, const std::string& needle) {
  try {
    run_validate(run);
    FAIL() << "no error for " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(PlanValidate, NamesTheMismatch) {
  RunSpec run = small_run();
  run.layout.dp = 3;
  expect_config_error(run, "dp*tp*pp = 3*2*2 = 12 but the cluster has 16 GPUs");
  run = small_run();
  run.cluster.gpus = 40;
  run.layout.dp = 5;
  run.layout.tp = 8;
  run.layout.pp = 1;
  run.cluster.gpus_per_node = 8;
  expect_config_error(run, "heads 12 are not divisible by tp 8");
  run = small_run();
  run.cluster.gpus = 40;
  run.layout.dp = 8;
  run.layout.tp = 1;
  run.layout.pp = 5;
  expect_config_error(run, "layers 12 are not divisible by pp 5");
  run = small_run();
  run.layout.global_batch = 30;
  expect_config_error(run, "global batch 30 is not a positive multiple of dp*micro-batch = 4");
  run = small_run();
  run.layout.zero = 4;
  expect_config_error(run, "ZeRO stage must be 0..3");
  run = small_run();
  run.mfu = 1.5;
  expect_config_error(run, "MFU must be in (0, 1]");
  EXPECT_THROW(model_preset("gpt5"), Error);
  EXPECT_THROW(gpu_lookup("b200"), Error);
}

TEST(PlanModel, EveryPresetIsAValidModelAndGpt2SizesMatchTheirNames) {
  for (const auto& m : model_presets()) EXPECT_NO_THROW(model_validate(m)) << m.name;
  // GPT-2 with tied embeddings and 1024 learned positions: 124M, 355M, 774M, 1.558B.
  EXPECT_NEAR(model_params(model_preset("gpt2-124m")) / 1e6, 124.4, 0.5);
  EXPECT_NEAR(model_params(model_preset("gpt2-350m")) / 1e6, 354.8, 0.5);
  EXPECT_NEAR(model_params(model_preset("gpt2-774m")) / 1e6, 774.0, 0.5);
  EXPECT_NEAR(model_params(model_preset("gpt2-1.5b")) / 1e6, 1557.6, 0.5);
}

TEST(PlanSearch, EveryResultObeysTheRulesAndFits) {
  RunSpec run = small_run();
  run.model = model_preset("gpt3-13b");
  run.cluster.gpus = 64;
  run.layout.global_batch = 512;
  const SearchResult r = plan_search(run);
  ASSERT_FALSE(r.fitting.empty());
  EXPECT_GT(r.considered, static_cast<int64_t>(r.fitting.size()));  // some do not fit
  double prev = 0;
  for (const auto& c : r.fitting) {
    const Layout& l = c.layout;
    EXPECT_EQ(l.dp * l.tp * l.pp, 64);
    EXPECT_LE(l.tp, 8);
    EXPECT_EQ(run.model.heads % l.tp, 0);
    EXPECT_EQ(run.model.layers % l.pp, 0);
    EXPECT_EQ(l.global_batch % (l.dp * l.micro_batch), 0);
    EXPECT_TRUE(c.memory.fits);
    EXPECT_LE(c.memory.total, run.cluster.gpu.memory_bytes * run.mem_usable);
    EXPECT_GE(c.time.step, prev);
    prev = c.time.step;
    RunSpec check = run;
    check.layout = l;
    EXPECT_NO_THROW(run_validate(check));
    EXPECT_DOUBLE_EQ(time_estimate(check).step, c.time.step);  // search = single plan
  }
}

}  // namespace
}  // namespace weft::plan
