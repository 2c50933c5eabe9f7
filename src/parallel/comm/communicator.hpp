// Communicator: the one interface every parallel technique (DP buckets, ZeRO,
// tensor-parallel operators, pipeline send/recv) talks to. Backends: MPI processes
// (mpi_communicator.hpp), ranks as threads in one process (thread_communicator.hpp),
// later NCCL on GPUs. A Communicator is owned by one rank and used by one thread at
// a time; its Requests are owned by the caller. No backend type (MPI_Comm,
// ncclComm_t, cudaStream_t) appears here.
//
// Semantics shared by all backends:
//  - Collectives on one communicator must be started in the same order on every
//    member (as in MPI and NCCL); they complete in that order.
//  - Every operation is non-blocking at heart (i* form returning a Request); the
//    blocking form is start + wait. Buffers of a pending Request must stay alive and
//    untouched until it completes.
//  - Every wait has a deadline: Options::timeout (default 5 min), measured from the
//    moment wait() is entered. On expiry wait() throws a weft timeout error naming
//    the operation, the caller's context string (e.g. "step 12 bucket 3") and the
//    ranks that did not arrive; the communicator is then failed (every later call
//    on any member throws) and the job should end: there is no recovery.
//  - In-place forms follow NCCL's convention: all_reduce with send == recv;
//    reduce_scatter with recv == send + rank*count; all_gather with
//    send == recv + rank*count.
//
// How NCCL fits (issue 11): buffers are then device pointers; the backend enqueues
// each operation on its own communication stream after an event recorded on the
// caller's compute stream (set per communicator, so the interface stays free of
// cudaStream_t); Request::test() is cudaEventQuery on the op's completion event,
// wait() polls it against the deadline and checks ncclCommGetAsyncError, and a
// timeout calls ncclCommAbort before throwing. split() maps to ncclCommSplit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.hpp"
#include "parallel/comm/request.hpp"

namespace weft::comm {

// Element types the backends move and reduce. (bf16 joins with the GPU backend.)
enum class DType : std::uint8_t { kF32, kF64, kI64, kU8 };
std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);

template <typename T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::kF32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kF64;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return DType::kI64;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return DType::kU8;
  else
    static_assert(sizeof(T) == 0, "no communicator dtype for this type");
}

// kMax/kMin: for NaN checks reduce a 0/1 flag rather than the values themselves
// (MPI leaves max(NaN, x) to the implementation; the thread backend propagates NaN).
enum class ReduceOp : std::uint8_t { kSum, kMax, kMin };
std::string_view reduce_op_name(ReduceOp op);

struct Options {
  // Deadline of every wait. `--comm-timeout` sets it; tests use ~1 s.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank of member `r` of this communicator in the world (for error messages).
  virtual int world_rank_of(int r) const = 0;
  virtual std::string_view backend() const = 0;  // "mpi", "threads", later "nccl"

  const Options& options() const { return options_; }
  void set_timeout(std::chrono::milliseconds timeout) { options_.timeout = timeout; }

  // ---- non-blocking core (each backend implements these) ----------------------
  // count = elements per rank's buffer (reduce_scatter: recv count, send holds
  // size()*count; all_gather: send count, recv holds size()*count).
  virtual Request iall_reduce(const void* send, void* recv, std::size_t count, DType dtype,
                              ReduceOp op, std::string_view context) = 0;
  virtual Request ireduce_scatter(const void* send, void* recv, std::size_t count, DType dtype,
                                  ReduceOp op, std::string_view context) = 0;
  virtual Request iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                              std::string_view context) = 0;
  virtual Request ibroadcast(void* data, std::size_t count, DType dtype, int root,
                             std::string_view context) = 0;
  // Point-to-point: messages between a pair with the same tag arrive in order; the
  // receive must name the same count and dtype as the send. tag >= 0.
  virtual Request isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                        std::string_view context) = 0;
  virtual Request irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                        std::string_view context) = 0;
  virtual Request ibarrier(std::string_view context) = 0;

  // Collective over this communicator: members with the same color form a new
  // communicator, ranked by (key, old rank). color < 0 → this rank joins none and
  // gets nullptr. The result inherits these options.
  virtual std::unique_ptr<Communicator> split(int color, int key,
                                              std::string_view context = {}) = 0;

  // ---- typed forms -------------------------------------------------------------
  // In place: data(n) on every rank → elementwise op over ranks.
  template <typename T>
  Request iall_reduce(std::span<T> data, ReduceOp op = ReduceOp::kSum,
                      std::string_view context = {}) {
    return iall_reduce(data.data(), data.data(), data.size(), dtype_of<T>(), op, context);
  }
  template <typename T>
  void all_reduce(std::span<T> data, ReduceOp op = ReduceOp::kSum, std::string_view context = {}) {
    iall_reduce(data, op, context).wait();
  }
  // send(size()*n) → recv(n) = slice `rank()` of the reduction.
  template <typename T>
  Request ireduce_scatter(std::span<const T> send, std::span<T> recv, ReduceOp op = ReduceOp::kSum,
                          std::string_view context = {}) {
    check_scatter_sizes(send.size(), recv.size(), "reduce_scatter");
    return ireduce_scatter(send.data(), recv.data(), recv.size(), dtype_of<T>(), op, context);
  }
  template <typename T>
  void reduce_scatter(std::span<const T> send, std::span<T> recv, ReduceOp op = ReduceOp::kSum,
                      std::string_view context = {}) {
    ireduce_scatter(send, recv, op, context).wait();
  }
  // send(n) → recv(size()*n), rank r's send at [r*n, (r+1)*n).
  template <typename T>
  Request iall_gather(std::span<const T> send, std::span<T> recv, std::string_view context = {}) {
    check_scatter_sizes(recv.size(), send.size(), "all_gather");
    return iall_gather(send.data(), recv.data(), send.size(), dtype_of<T>(), context);
  }
  template <typename T>
  void all_gather(std::span<const T> send, std::span<T> recv, std::string_view context = {}) {
    iall_gather(send, recv, context).wait();
  }
  template <typename T>
  Request ibroadcast(std::span<T> data, int root, std::string_view context = {}) {
    return ibroadcast(data.data(), data.size(), dtype_of<T>(), root, context);
  }
  template <typename T>
  void broadcast(std::span<T> data, int root, std::string_view context = {}) {
    ibroadcast(data, root, context).wait();
  }
  template <typename T>
  Request isend(std::span<const T> data, int dest, int tag, std::string_view context = {}) {
    return isend(data.data(), data.size(), dtype_of<T>(), dest, tag, context);
  }
  template <typename T>
  void send(std::span<const T> data, int dest, int tag, std::string_view context = {}) {
    isend(data, dest, tag, context).wait();
  }
  template <typename T>
  Request irecv(std::span<T> data, int source, int tag, std::string_view context = {}) {
    return irecv(data.data(), data.size(), dtype_of<T>(), source, tag, context);
  }
  template <typename T>
  void recv(std::span<T> data, int source, int tag, std::string_view context = {}) {
    irecv(data, source, tag, context).wait();
  }
  void barrier(std::string_view context = {}) { ibarrier(context).wait(); }

 protected:
  explicit Communicator(Options options) : options_(options) {}
  void check_scatter_sizes(std::size_t whole, std::size_t part, std::string_view what) const;
  // Argument checks shared by backends (a wrong root/peer/tag is a caller bug).
  void check_peer(int peer, std::string_view what) const;

 private:
  Options options_;
};

// "rank 2", "ranks 1, 3" with world ranks when they differ: "rank 1 (world rank 5)".
std::string format_ranks(const Communicator& comm, std::span<const int> ranks);

}  // namespace weft::comm
