// NCCL communicator (built with NCCL only). Without a GPU: the bootstrap (ncclGetUniqueId
// on rank 0, broadcast over the thread backend) gives every rank the same id, and
// make_nccl_communicator refuses cleanly. With >= 2 GPUs: every collective against
// closed forms on device buffers (one GPU per thread rank), and a timeout when a rank
// does not join. tools/gpu_check.sh also runs the MPI form (mpirun -np 2).
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "core/error.hpp"
#include "parallel/comm/nccl_communicator.hpp"
#include "parallel/comm/thread_communicator.hpp"

namespace weft::comm {
namespace {

using namespace std::chrono_literals;

int gpus() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

TEST(CommNccl, BootstrapBroadcastsOneUniqueIdToEveryRank) {
  Options o;
  o.timeout = 30s;
  std::vector<NcclUniqueIdBytes> ids(3);
  std::atomic<int> failures{0};
  try {
    run_thread_ranks(3, o, [&](Communicator& c) {
      ids[static_cast<std::size_t>(c.rank())] = nccl_bootstrap_unique_id(c);
    });
  } catch (const Error& e) {
    // ncclGetUniqueId needs a network interface for its bootstrap socket.
    GTEST_SKIP() << "ncclGetUniqueId failed on this machine: " << e.what();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[0], ids[2]);
  EXPECT_NE(ids[0], NcclUniqueIdBytes{}) << "the id is all zeros";
  EXPECT_FALSE(nccl_version_string().empty());
}

TEST(CommNccl, NoDeviceIsAConfigError) {
  if (gpus() > 0) GTEST_SKIP() << "a CUDA device is present";
  Options o;
  o.timeout = 30s;
  try {
    run_thread_ranks(1, o, [&](Communicator& c) { make_nccl_communicator(c, -1, o); });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kConfig);
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

// On >= 2 GPUs: each thread rank drives its own GPU through NCCL.
TEST(CommNccl, CollectivesMatchClosedFormsOnTwoGpus) {
  const int n = gpus();
  if (n < 2) GTEST_SKIP() << "needs 2 CUDA devices (found " << n << ")";
  Options o;
  o.timeout = 60s;
  std::atomic<int> bad{0};
  run_thread_ranks(2, o, [&](Communicator& boot) {
    auto c = make_nccl_communicator(boot, boot.rank(), o);
    const int r = c->rank(), N = c->size();
    const std::size_t count = 1001;
    float* d = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&d), sizeof(float) * count * N * 2);
    std::vector<float> h(count * N, 0.0f);
    // all_reduce: x_i = r + i  →  Σ_r = N(N−1)/2 + N·i
    for (std::size_t i = 0; i < count; ++i) h[i] = static_cast<float>(r) + static_cast<float>(i);
    cudaMemcpy(d, h.data(), sizeof(float) * count, cudaMemcpyHostToDevice);
    c->iall_reduce(d, d, count, DType::kF32, ReduceOp::kSum, "test").wait();
    cudaMemcpy(h.data(), d, sizeof(float) * count, cudaMemcpyDeviceToHost);
    for (std::size_t i = 0; i < count; ++i)
      bad += h[i] != static_cast<float>(N * (N - 1) / 2) + static_cast<float>(N) * static_cast<float>(i);
    // all_gather: rank r sends r+1 → recv[k·count + i] = k+1
    std::vector<float> mine(count, static_cast<float>(r + 1));
    cudaMemcpy(d, mine.data(), sizeof(float) * count, cudaMemcpyHostToDevice);
    c->iall_gather(d, d + count, count, DType::kF32, "test").wait();
    std::vector<float> all(count * N);
    cudaMemcpy(all.data(), d + count, sizeof(float) * count * N, cudaMemcpyDeviceToHost);
    for (int k = 0; k < N; ++k) bad += all[static_cast<std::size_t>(k) * count] != static_cast<float>(k + 1);
    // reduce_scatter of all-ones: each slice sums to N
    std::vector<float> ones(count * N, 1.0f);
    cudaMemcpy(d, ones.data(), sizeof(float) * count * N, cudaMemcpyHostToDevice);
    c->ireduce_scatter(d, d + count * N, count, DType::kF32, ReduceOp::kSum, "test").wait();
    cudaMemcpy(h.data(), d + count * N, sizeof(float) * count, cudaMemcpyDeviceToHost);
    for (std::size_t i = 0; i < count; ++i) bad += h[i] != static_cast<float>(N);
    // broadcast from rank 1, then send/recv 0 → 1
    std::vector<float> b(count, static_cast<float>(10 * r));
    cudaMemcpy(d, b.data(), sizeof(float) * count, cudaMemcpyHostToDevice);
    c->ibroadcast(d, count, DType::kF32, 1, "test").wait();
    cudaMemcpy(b.data(), d, sizeof(float) * count, cudaMemcpyDeviceToHost);
    bad += b[0] != 10.0f;
    if (r == 0) {
      std::vector<float> s(count, 7.0f);
      cudaMemcpy(d, s.data(), sizeof(float) * count, cudaMemcpyHostToDevice);
      c->isend(d, count, DType::kF32, 1, 0, "test").wait();
    } else {
      c->irecv(d, count, DType::kF32, 0, 0, "test").wait();
      cudaMemcpy(b.data(), d, sizeof(float) * count, cudaMemcpyDeviceToHost);
      bad += b[count - 1] != 7.0f;
    }
    c->barrier("end");
    cudaFree(d);
  });
  EXPECT_EQ(bad.load(), 0);
}

// On >= 2 GPUs: rank 1 never calls the all_reduce → rank 0 times out and aborts.
TEST(CommNccl, MissingRankTimesOutAndAborts) {
  if (gpus() < 2) GTEST_SKIP() << "needs 2 CUDA devices";
  Options boot_o;
  boot_o.timeout = 60s;
  std::atomic<bool> timed_out{false};
  try {
    run_thread_ranks(2, boot_o, [&](Communicator& boot) {
      Options o;
      o.timeout = 2s;
      auto c = make_nccl_communicator(boot, boot.rank(), o);
      float* d = nullptr;
      cudaMalloc(reinterpret_cast<void**>(&d), sizeof(float));
      if (c->rank() == 0) {
        try {
          c->iall_reduce(d, d, 1, DType::kF32, ReduceOp::kSum, "lonely").wait();
        } catch (const Error& e) {
          timed_out = e.kind() == ErrorKind::kTimeout;
        }
      }
      boot.barrier("after");
      cudaFree(d);
    });
  } catch (const Error&) {
  }
  EXPECT_TRUE(timed_out.load());
}

}  // namespace
}  // namespace weft::comm
