// NCCL communicator. See nccl_communicator.hpp.
#include "parallel/comm/nccl_communicator.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"

namespace weft::comm {
namespace {

static_assert(sizeof(ncclUniqueId) == kNcclUniqueIdBytes);

void nccl_check(ncclResult_t r, const char* call, std::string_view what) {
  if (r == ncclSuccess) return;
  throw comm_error(str("NCCL error in ", call, " (", what, "): ", ncclGetErrorString(r),
                       r == ncclSystemError || r == ncclRemoteError
                           ? str(" — ", ncclGetLastError(nullptr))
                           : std::string()),
                   "NCCL_DEBUG=INFO shows what NCCL tried; check that every rank sees its GPU");
}

void cuda_check(cudaError_t e, const char* call, std::string_view what) {
  if (e == cudaSuccess) return;
  throw comm_error(str("CUDA error in ", call, " (", what, "): ", cudaGetErrorString(e)));
}

ncclDataType_t nccl_type(DType d) {
  switch (d) {
    case DType::kF32: return ncclFloat32;
    case DType::kF64: return ncclFloat64;
    case DType::kI64: return ncclInt64;
    case DType::kU8: return ncclUint8;
  }
  WEFT_CHECK(false, "unknown dtype");
  return ncclFloat32;
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
  }
  WEFT_CHECK(false, "unknown reduce op");
  return ncclSum;
}

// What the communicator and its pending requests share: the NCCL comm and the failure.
struct NcclState {
  ncclComm_t comm = nullptr;
  int device = 0;
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string failure;  // first failure, repeated by later calls

  // Aborts the NCCL communicator once (unblocks kernels stuck waiting for peers).
  void fail(const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu);
    if (failed.exchange(true)) return;
    failure = reason;
    if (comm != nullptr) ncclCommAbort(comm);
    comm = nullptr;
  }
  void throw_if_failed(std::string_view what) {
    if (!failed.load()) return;
    std::lock_guard<std::mutex> lock(mu);
    throw comm_error(str(what, ": the NCCL communicator has failed earlier: ", failure));
  }
};

class NcclRequest final : public RequestImpl {
 public:
  NcclRequest(std::shared_ptr<NcclState> state, cudaEvent_t done, std::string what,
              std::chrono::milliseconds timeout)
      : state_(std::move(state)), done_(done), what_(std::move(what)), timeout_(timeout) {}
  ~NcclRequest() override { cudaEventDestroy(done_); }

  bool test() override {
    state_->throw_if_failed(what_);
    const cudaError_t e = cudaEventQuery(done_);
    if (e == cudaSuccess) return true;
    if (e != cudaErrorNotReady) {
      state_->fail(str(what_, ": ", cudaGetErrorString(e)));
      cuda_check(e, "cudaEventQuery", what_);
    }
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(state_->comm, &async);
    if (async != ncclSuccess && async != ncclInProgress) {
      const std::string reason = str(what_, ": ", ncclGetErrorString(async));
      state_->fail(reason);
      throw comm_error(reason);
    }
    return false;
  }

  void wait() override {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!test()) {
      if (std::chrono::steady_clock::now() > deadline) {
        const std::string reason =
            str(what_, " did not complete within ", timeout_.count(),
                " ms (a peer did not arrive, or a GPU hangs); the NCCL communicator was aborted");
        state_->fail(reason);
        throw timeout_error(reason, "raise --comm-timeout, or look for the rank that stopped");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  void abandon() override { state_->fail(str(what_, " abandoned by its owner")); }

 private:
  std::shared_ptr<NcclState> state_;
  cudaEvent_t done_;
  std::string what_;
  std::chrono::milliseconds timeout_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::shared_ptr<NcclState> state, int rank, int size,
                   std::vector<int> world_ranks, Options options)
      : Communicator(options), state_(std::move(state)), rank_(rank), size_(size),
        world_ranks_(std::move(world_ranks)) {
    cuda_check(cudaSetDevice(state_->device), "cudaSetDevice", "NCCL communicator");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate",
               "NCCL communicator");
    cuda_check(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreate",
               "NCCL communicator");
    cuda_check(cudaMalloc(&barrier_buf_, sizeof(float)), "cudaMalloc", "NCCL barrier");
    cuda_check(cudaMemset(barrier_buf_, 0, sizeof(float)), "cudaMemset", "NCCL barrier");
  }
  ~NcclCommunicator() override {
    cudaStreamSynchronize(stream_);
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->comm != nullptr) ncclCommDestroy(state_->comm);
      state_->comm = nullptr;
    }
    cudaFree(barrier_buf_);
    cudaEventDestroy(ready_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int world_rank_of(int r) const override { return world_ranks_[static_cast<std::size_t>(r)]; }
  std::string_view backend() const override { return "nccl"; }
  void set_compute_stream(cudaStream_t s) { compute_ = s; }

  Request iall_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                      std::string_view context) override {
    return launch("all_reduce", context, [&] {
      return ncclAllReduce(send, recv, count, nccl_type(dtype), nccl_op(op), state_->comm, stream_);
    });
  }
  Request ireduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                          std::string_view context) override {
    return launch("reduce_scatter", context, [&] {
      return ncclReduceScatter(send, recv, count, nccl_type(dtype), nccl_op(op), state_->comm, stream_);
    });
  }
  Request iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                      std::string_view context) override {
    return launch("all_gather", context, [&] {
      return ncclAllGather(send, recv, count, nccl_type(dtype), state_->comm, stream_);
    });
  }
  Request ibroadcast(void* data, std::size_t count, DType dtype, int root,
                     std::string_view context) override {
    check_peer(root, "broadcast root");
    return launch("broadcast", context, [&] {
      return ncclBroadcast(data, data, count, nccl_type(dtype), root, state_->comm, stream_);
    });
  }
  Request isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                std::string_view context) override {
    check_peer(dest, "send");
    WEFT_CHECK(tag >= 0, "send tag ", tag, " must be >= 0");
    return launch("send", context, [&] {
      return ncclSend(data, count, nccl_type(dtype), dest, state_->comm, stream_);
    });
  }
  Request irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                std::string_view context) override {
    check_peer(source, "recv");
    WEFT_CHECK(tag >= 0, "recv tag ", tag, " must be >= 0");
    return launch("recv", context, [&] {
      return ncclRecv(data, count, nccl_type(dtype), source, state_->comm, stream_);
    });
  }
  Request ibarrier(std::string_view context) override {
    return launch("barrier", context, [&] {
      return ncclAllReduce(barrier_buf_, barrier_buf_, 1, ncclFloat32, ncclSum, state_->comm, stream_);
    });
  }

  std::unique_ptr<Communicator> split(int color, int key, std::string_view context) override {
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 18, 0)
    state_->throw_if_failed("split");
    ncclComm_t sub = nullptr;
    nccl_check(ncclCommSplit(state_->comm, color < 0 ? NCCL_SPLIT_NOCOLOR : color, key, &sub,
                             nullptr),
               "ncclCommSplit", context);
    if (color < 0) return nullptr;
    int r = 0, n = 0;
    nccl_check(ncclCommUserRank(sub, &r), "ncclCommUserRank", context);
    nccl_check(ncclCommCount(sub, &n), "ncclCommCount", context);
    // World ranks of the new members: gathered over the new communicator itself.
    auto st = std::make_shared<NcclState>();
    st->comm = sub;
    st->device = state_->device;
    auto child = std::make_unique<NcclCommunicator>(st, r, n, std::vector<int>(static_cast<std::size_t>(n), -1), options());
    std::vector<std::int64_t> mine{world_rank_of(rank_)};
    std::int64_t* d = nullptr;
    cuda_check(cudaMalloc(reinterpret_cast<void**>(&d), sizeof(std::int64_t) * (n + 1)), "cudaMalloc", context);
    cuda_check(cudaMemcpy(d, mine.data(), sizeof(std::int64_t), cudaMemcpyHostToDevice), "cudaMemcpy", context);
    child->iall_gather(d, d + 1, 1, DType::kI64, context).wait();
    std::vector<std::int64_t> all(static_cast<std::size_t>(n));
    cuda_check(cudaMemcpy(all.data(), d + 1, sizeof(std::int64_t) * n, cudaMemcpyDeviceToHost), "cudaMemcpy", context);
    cudaFree(d);
    for (int i = 0; i < n; ++i) child->world_ranks_[static_cast<std::size_t>(i)] = static_cast<int>(all[static_cast<std::size_t>(i)]);
    return child;
#else
    (void)color;
    (void)key;
    throw config_error(str("split (", context, "): this NCCL (", NCCL_MAJOR, ".", NCCL_MINOR,
                           ") has no ncclCommSplit"),
                       "NCCL 2.18 or newer is needed for sub-communicators");
#endif
  }

 private:
  template <typename F>
  Request launch(std::string_view name, std::string_view context, F&& call) {
    const std::string what = context.empty() ? std::string(name) : str(name, " (", context, ")");
    state_->throw_if_failed(what);
    // Order after the compute stream's work so far, without blocking the host.
    cuda_check(cudaEventRecord(ready_, compute_), "cudaEventRecord", what);
    cuda_check(cudaStreamWaitEvent(stream_, ready_, 0), "cudaStreamWaitEvent", what);
    nccl_check(call(), name.data(), what);
    cudaEvent_t done = nullptr;
    cuda_check(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate", what);
    cuda_check(cudaEventRecord(done, stream_), "cudaEventRecord", what);
    return Request(std::make_unique<NcclRequest>(state_, done, what, options().timeout));
  }

  std::shared_ptr<NcclState> state_;
  int rank_, size_;
  std::vector<int> world_ranks_;
  cudaStream_t stream_ = nullptr;   // this communicator's stream (owned)
  cudaStream_t compute_ = nullptr;  // caller's compute stream (not owned)
  cudaEvent_t ready_ = nullptr;
  float* barrier_buf_ = nullptr;    // (1) device scratch of ibarrier
};

}  // namespace

NcclUniqueIdBytes nccl_bootstrap_unique_id(Communicator& bootstrap) {
  NcclUniqueIdBytes bytes{};
  if (bootstrap.rank() == 0) {
    ncclUniqueId id;
    nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId", "bootstrap");
    std::memcpy(bytes.data(), &id, sizeof id);
  }
  bootstrap.broadcast(std::span<std::uint8_t>(bytes.data(), bytes.size()), 0, "NCCL unique id");
  return bytes;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device,
                                                     Options options) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    throw config_error("NCCL communicator: no CUDA device",
                       "NCCL needs one GPU per rank; use the MPI or threads backend on CPUs");
  }
  if (device < 0) device = bootstrap.rank() % devices;
  if (device >= devices)
    throw config_error(str("NCCL communicator: device ", device, " does not exist (", devices, " found)"));
  const NcclUniqueIdBytes bytes = nccl_bootstrap_unique_id(bootstrap);
  ncclUniqueId id;
  std::memcpy(&id, bytes.data(), sizeof id);
  cuda_check(cudaSetDevice(device), "cudaSetDevice", "NCCL init");
  auto state = std::make_shared<NcclState>();
  state->device = device;
  nccl_check(ncclCommInitRank(&state->comm, bootstrap.size(), id, bootstrap.rank()),
             "ncclCommInitRank", str("rank ", bootstrap.rank(), " of ", bootstrap.size()));
  std::vector<int> world(static_cast<std::size_t>(bootstrap.size()));
  for (int r = 0; r < bootstrap.size(); ++r) world[static_cast<std::size_t>(r)] = bootstrap.world_rank_of(r);
  return std::make_unique<NcclCommunicator>(state, bootstrap.rank(), bootstrap.size(),
                                            std::move(world), options);
}

void nccl_set_compute_stream(Communicator& nccl, void* stream) {
  auto* c = dynamic_cast<NcclCommunicator*>(&nccl);
  WEFT_CHECK(c != nullptr, "nccl_set_compute_stream on a ", nccl.backend(), " communicator");
  c->set_compute_stream(static_cast<cudaStream_t>(stream));
}

std::string nccl_version_string() {
  int v = 0;
  ncclGetVersion(&v);
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return str(v / 10000, ".", (v / 100) % 100, ".", v % 100);
}

}  // namespace weft::comm
