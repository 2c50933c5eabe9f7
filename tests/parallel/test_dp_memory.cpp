// ZeRO memory is real: after a training step the flat parameter and gradient
// buffers of each of 4 thread ranks hold (measured with mincore) what the ZeRO
// formula says — ZeRO-3 about Ψ/4 parameters plus the gather buffers, ZeRO-2/3
// Ψ/4 gradients — while ZeRO-0 holds everything (the control).
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "model/gpt_config.hpp"
#include "model/gpt_model.hpp"
#include "parallel/comm/thread_communicator.hpp"
#include "parallel/data_parallel.hpp"

namespace weft::parallel {
namespace {

struct Measured {
  double params = 0, grads = 0, psi_bytes = 0, shard_bytes = 0, gather = 0, slack = 0;
};

// One step of d4 (vocab 4096: large enough that every range spans many pages) on
// 4 thread ranks at the given ZeRO stage; returns rank 1's measurements.
Measured one_step(int zero) {
  Measured out;
  std::mutex mu;
  comm::run_thread_ranks(4, comm::Options{}, [&](comm::Communicator& c) {
    const model::GptConfig cfg = model::gpt_config_preset("d4", 4096, 32);
    model::GptModel m(cfg, 1, 16, true);
    m.init_weights(7);
    DataParallelOptions o;
    o.zero = zero;
    o.bucket_bytes = 1 << 20;
    o.release_params = true;
    o.release_grain = PageGrain::kSmall;  // exact to 4 KiB (test_dp_release.cpp: 2 MiB)
    DataParallel dp(c, m, o);
    std::vector<std::int32_t> x(16), y(16);
    for (int i = 0; i < 16; ++i) {
      x[static_cast<std::size_t>(i)] = (i * 37 + c.rank() * 11) % 4096;
      y[static_cast<std::size_t>(i)] = (i * 53 + 5) % 4096;
    }
    dp.set_step(0);
    dp.zero_grads();
    dp.begin_micro(true);
    m.forward_train(x.data(), y.data(), nullptr, 1, 16, 0.25f);
    m.backward();
    dp.finish_grads();
    (void)dp.grad_sum_squares();
    if (zero >= 1) {
      cpu::AdamWConfig adam;
      dp.optimizer_step(adam, 1.0f);
    }
    const DpMemory mem = dp.memory();
    if (c.rank() != 1) return;
    std::lock_guard lock(mu);
    out.params = mem.params_resident;
    out.grads = mem.grads_resident;
    out.psi_bytes = 4.0 * static_cast<double>(m.num_params());
    out.shard_bytes = 4.0 * static_cast<double>(dp.plan().shard_floats());
    out.gather = mem.gather_buffers;
    std::size_t ranges = 0;
    for (const DpBucket& b : dp.plan().buckets()) ranges += b.ranges.size();
    out.slack = 4.0 * 4096.0 * static_cast<double>(ranges);  // partial pages at piece edges
  });
  return out;
}

TEST(DpMemory, Zero0HoldsEverything) {
  const Measured m = one_step(0);
  EXPECT_GT(m.params, 0.99 * m.psi_bytes);
  EXPECT_GT(m.grads, 0.99 * m.psi_bytes);
}

TEST(DpMemory, Zero2KeepsOnlyItsGradientShard) {
  const Measured m = one_step(2);
  EXPECT_GT(m.params, 0.99 * m.psi_bytes);
  EXPECT_LE(m.grads, m.shard_bytes + m.slack) << "Ψ bytes " << m.psi_bytes;
  EXPECT_GE(m.grads, 0.9 * m.shard_bytes);
  EXPECT_LT(m.shard_bytes, 0.26 * m.psi_bytes);
}

TEST(DpMemory, Zero3KeepsItsParameterShardPlusGatherBuffers) {
  const Measured m = one_step(3);
  EXPECT_LE(m.params, m.shard_bytes + m.gather + m.slack) << "Ψ bytes " << m.psi_bytes;
  EXPECT_GE(m.params, 0.9 * m.shard_bytes);
  EXPECT_LE(m.grads, m.shard_bytes + m.slack);
  // Between steps no unit stays gathered: about Ψ/4 is resident (ZeRO-0: Ψ).
  EXPECT_LT(m.params, 0.3 * m.psi_bytes)
      << "shard " << m.shard_bytes << " gather " << m.gather << " slack " << m.slack;
}

}  // namespace
}  // namespace weft::parallel
