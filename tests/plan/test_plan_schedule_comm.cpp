// weft plan's pipeline schedules and per-axis communication against closed forms:
//  - interleaved 1F1B (Narayanan et al. 2021 §2.2.2): bubble (p−1)/v micro-batch times,
//    v× the pipeline sends, Megatron-LM's asserts and its first-stage warm-up count;
//  - tensor-parallel collectives per layer (Megatron-LM mpu/layers.py): 2 all-reduces of
//    s·b·h forward, 2 backward, 2 more with full recomputation, counted by hand here;
//  - the data-parallel all-reduce overlapped with the last backward (PyTorch DDP buckets).
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "plan/comm_model.hpp"
#include "plan/memory_model.hpp"
#include "plan/search.hpp"
#include "plan/time_model.hpp"

namespace weft::plan {
namespace {

// 48 layers, p = 4, t = 2, dp = 2 on 16 GPUs; B = 32, b = 1 → m = 16 (a multiple of p).
RunSpec pipeline_run() {
  RunSpec run;
  run.model = {"test", 48, 1024, 16, 51200, 2048};
  run.cluster.gpu = gpu_lookup("a100-80gb");
  run.cluster.gpus = 16;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = {"intra", 200e9, 2e-6};
  run.cluster.inter = {"inter", 20e9, 4e-6};
  run.layout.dp = 2;
  run.layout.tp = 2;
  run.layout.pp = 4;
  run.layout.global_batch = 32;
  run.layout.recompute = Recompute::kFull;
  run.tokens = 1e9;
  return run;
}

TEST(PlanInterleaved, BubbleShrinksByVAndSendsGrowByV) {
  RunSpec run = pipeline_run();
  run_validate(run);
  const TimeReport base = time_estimate(run);
  EXPECT_EQ(base.micro_batches, 16);
  EXPECT_DOUBLE_EQ(base.bubble_fraction, 3.0 / 19.0);
  for (int v : {2, 4}) {
    run.layout.schedule = Schedule::kInterleaved;
    run.layout.virtual_stages = v;
    run_validate(run);
    const TimeReport t = time_estimate(run);
    // Narayanan eq. for the interleaved schedule: bubble time (p−1)·(t_f + t_b)/v.
    const double fill = 3.0 / v;
    EXPECT_NEAR(t.bubble_fraction, fill / (16 + fill), 1e-15) << "v=" << v;
    const double per_mb = t.mb_compute + t.mb_tp_comm + t.mb_pp_comm;
    EXPECT_NEAR(t.pipeline, (16 + fill) * per_mb, 1e-12 * t.pipeline);
    EXPECT_NEAR(t.bubble, fill * per_mb, 1e-12 * t.pipeline);
    // Each device now has v chunk boundaries to send across.
    EXPECT_NEAR(t.mb_pp_comm, v * base.mb_pp_comm, 1e-15);
    EXPECT_DOUBLE_EQ(t.mb_compute, base.mb_compute);
    EXPECT_DOUBLE_EQ(t.mb_tp_comm, base.mb_tp_comm);
  }
}

TEST(PlanInterleaved, ValidationNamesMegatronsRule) {
  auto expect_error = [](RunSpec run, const std::string& needle) {
    try {
      run_validate(run);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  RunSpec run = pipeline_run();
  run.layout.schedule = Schedule::kInterleaved;
  run.layout.virtual_stages = 2;
  EXPECT_NO_THROW(run_validate(run));
  RunSpec r = run;
  r.layout.virtual_stages = 1;
  expect_error(r, "virtual stages >= 2");
  r = run;
  r.layout.virtual_stages = 5;  // 48 % (4·5) != 0
  expect_error(r, "not divisible by pp*virtual stages");
  r = run;
  r.layout.global_batch = 36;  // m = 18, not a multiple of p = 4
  expect_error(r, "multiple of pp");
  r = run;
  r.cluster.gpus = 8;
  r.layout.dp = 2;
  r.layout.pp = 2;
  expect_error(r, "pp > 2");
  r = pipeline_run();
  r.layout.virtual_stages = 2;  // without --schedule interleaved
  expect_error(r, "need --schedule interleaved");
  // The search skips layouts the interleaved schedule cannot run instead of pricing them.
  RunSpec s = run;
  s.cluster.gpus = 32;
  const SearchResult found = plan_search(s);
  EXPECT_GT(found.fitting.size(), 0u);
  for (const auto& c : found.fitting) {
    RunSpec check = s;
    check.layout = c.layout;
    EXPECT_NO_THROW(run_validate(check)) << "pp=" << c.layout.pp << " tp=" << c.layout.tp;
  }
}

TEST(PlanInterleaved, FirstStageHoldsMegatronsWarmupChunks) {
  RunSpec run = pipeline_run();
  const double per_layer = activation_bytes_per_layer(run.model, run.layout);
  EXPECT_EQ(memory_estimate(run).in_flight, 4);  // 1F1B: p micro-batches
  run.layout.schedule = Schedule::kInterleaved;
  run.layout.virtual_stages = 2;
  // Megatron-LM schedules.py, rank 0: (p−1)·2 + (v−1)·p = 6 + 4 = 10 warm-up chunks, one
  // more in the steady state; each chunk is 48/(4·2) = 6 layers.
  const MemoryReport mem = memory_estimate(run);
  EXPECT_DOUBLE_EQ(mem.activations, per_layer * 6 * 11);
  EXPECT_EQ(mem.in_flight, 6);  // 11 chunks = 5.5 stage loads, rounded up
}

// 18.4B of Narayanan Table 1 (h = 6144, 40 layers, t = 8, p = 1, b = 1): by hand, with the
// latency set to zero, each layer moves 6 all-reduces of s·b·h fp16 = 25.17 MB, each a ring
// of 2·(7/8)·25.17 MB at 300 GB/s; outside the layers the embedding's forward and the LM
// head's backward add one each, the cross entropy three of s·b fp32 values.
TEST(PlanTpComm, SixAllReducesPerLayerWithFullRecompute) {
  RunSpec run;
  run.model = {"18.4b", 40, 6144, 48, 51200, 2048};
  run.cluster.gpu = gpu_lookup("a100-80gb");
  run.cluster.gpus = 8;
  run.cluster.gpus_per_node = 8;
  run.cluster.intra = {"nvlink", 300e9, 0.0};
  run.cluster.inter = {"ib", 25e9, 0.0};
  run.layout.tp = 8;
  run.layout.global_batch = 8;
  run.layout.recompute = Recompute::kFull;
  run.layout.sequence_parallel = false;
  run.tokens = 1e9;
  run_validate(run);
  const double msg = 2.0 * 2048 * 6144;             // bytes of one s·b·h fp16 activation
  const double ar = 2.0 * 7.0 / 8.0 * msg / 300e9;  // 146.8 us
  const double ce = 2.0 * 7.0 / 8.0 * 4.0 * 2048 / 300e9;
  const double by_hand = (6 * 40 + 2) * ar + 3 * ce;
  EXPECT_NEAR(time_estimate(run).mb_tp_comm / by_hand, 1.0, 1e-12);
  EXPECT_NEAR(by_hand * 1e3, 35.5, 0.1);  // ms per micro-batch, bandwidth alone
  // Sequence parallelism turns each all-reduce into all-gather + reduce-scatter: same time.
  run.layout.sequence_parallel = true;
  EXPECT_NEAR(time_estimate(run).mb_tp_comm / by_hand, 1.0, 1e-12);
  // Without recomputation the repeated forward's 2 all-reduces per layer go away.
  run.layout.recompute = Recompute::kNone;
  EXPECT_NEAR(time_estimate(run).mb_tp_comm / ((4 * 40 + 2) * ar + 3 * ce), 1.0, 1e-12);
  // With the ring latency back (3 us per step): 2·7 steps per all-reduce, 245 all-reduces.
  run.layout.recompute = Recompute::kFull;
  run.cluster.intra.latency = 3e-6;
  EXPECT_NEAR(time_estimate(run).mb_tp_comm - by_hand, 245 * 14 * 3e-6, 1e-12);
}

TEST(PlanPpComm, ScatterGatherSendsOneTthOverTheNicThenGathersInTheNode) {
  RunSpec run = pipeline_run();  // tp·dp = 4 per stage: pipeline neighbours inside a node?
  run.cluster.gpus_per_node = 4;  // no: 4 GPUs per node, so each send crosses nodes
  const TimeReport t = time_estimate(run);
  EXPECT_EQ(t.pp_link, "inter");
  const double act = 2.0 * 2048 * 1024;  // s·b·h fp16
  const double send = 4e-6 + act / 2 / 20e9;
  const double gather = 0.5 * act / 200e9 + 1 * 2e-6;
  EXPECT_NEAR(t.mb_pp_comm, 2 * (send + gather), 1e-15);
  // Tied embeddings (V/t · h fp16) all-reduced between the first and the last stage.
  EXPECT_NEAR(t.embedding_comm, 51200.0 * 1024 / 2 * 2 / 20e9 + 2 * 4e-6, 1e-15);
  EXPECT_NEAR(t.step, t.pipeline + t.dp_comm + t.embedding_comm + t.optimizer, 1e-15);
}

TEST(PlanDpOverlap, AllReduceHidesBehindTheLastBackwardExceptTheLastBucket) {
  RunSpec run = pipeline_run();
  run.layout.pp = 1;
  run.layout.dp = 8;
  run.layout.global_batch = 64;  // m = 8; tp·dp = 16 spans two nodes: the ring uses "inter"
  run.mfu = 0.1;
  const TimeReport plain = time_estimate(run);
  run.layout.dp_overlap = true;
  const TimeReport t = time_estimate(run);
  const double backward = 0.75 * t.mb_compute;  // recompute + backward = 3 of 4 units
  ASSERT_GT(backward, plain.dp_comm);           // long enough to hide all but the tail
  EXPECT_EQ(t.dp_link, "inter");
  const double bucket = 2.0 * 7.0 / 8.0 * 25e6 / 20e9 + 14 * 4e-6;
  EXPECT_NEAR(t.dp_comm, bucket, 1e-15);
  EXPECT_NEAR(t.dp_comm + t.dp_comm_hidden, plain.dp_comm, 1e-15);
  // A backward shorter than the all-reduce leaves the difference exposed.
  run.mfu = 1.0;
  run.model.hidden = 256;
  run.model.heads = 4;
  const TimeReport fast = time_estimate(run);
  run.layout.dp_overlap = false;
  const TimeReport fast_plain = time_estimate(run);
  ASSERT_GT(fast_plain.dp_comm - 0.75 * fast.mb_compute, bucket);
  EXPECT_NEAR(fast.dp_comm, fast_plain.dp_comm - 0.75 * fast.mb_compute, 1e-15);
}

}  // namespace
}  // namespace weft::plan
