// Internal to the MPI backend (included only by *_mpi.cpp files, since it pulls in
// <mpi.h>): the state shared by a process's MPI communicators and the communicator
// class itself. MpiShared is owned jointly by the runtime and its communicators.
#pragma once

// weft uses MPI's C API only; skip the deprecated C++ bindings (they need libmpi_cxx).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "parallel/comm/communicator.hpp"

namespace weft::comm::detail {

class MpiCommunicator;

// A collective built from point-to-point messages in phases (mpi_ordered_mpi.cpp).
// next() is called at start and each time every request it posted completed: it
// does the local work of the finished phase, posts the next phase's requests into
// `reqs` and returns true, or returns false when the operation is complete.
class MpiPhases {
 public:
  virtual ~MpiPhases() = default;
  virtual bool next(std::vector<MPI_Request>& reqs) = 0;
  // The operation is abandoned with requests in flight: keep buffers MPI may
  // still write alive (leaked; the process is about to MPI_Abort).
  virtual void leak_buffers() = 0;
};

// Reusable scratch buffers (64-byte aligned), so per-collective scratch does not
// page-fault fresh memory every step. Used by the communicator's thread only.
class ScratchPool {
 public:
  std::unique_ptr<AlignedBuffer<std::byte>> acquire(std::size_t bytes);
  void release(std::unique_ptr<AlignedBuffer<std::byte>> buf);

 private:
  std::vector<std::unique_ptr<AlignedBuffer<std::byte>>> free_;
};

struct MpiShared {
  int world_rank = 0;
  int world_size = 1;
  int thread_level = 0;
  std::atomic<bool> failed{false};
  std::mutex mu;                       // guards the fields below
  std::string failure;                 // first failure, for later calls
  std::vector<MpiCommunicator*> live;  // communicators answering status queries
  std::uint64_t next_nonce = 1;
  std::vector<std::string> hosts;  // host of each world rank (set once, before any comm use)

  void fail(const std::string& reason);
  // "; rank 1 runs on host node1" for the given ranks of `comm`, or "" when every
  // world rank shares one host (mpi_hosts_mpi.cpp).
  std::string hosts_of(const Communicator& comm, std::span<const int> ranks) const;
  // Answers pending status queries on every live communicator. Any thread.
  void service_all();
};

// Throws a communication error for a failed MPI call (MPI_ERRORS_RETURN is set).
void mpi_check(int rc, const char* call, std::string_view what);
MPI_Datatype mpi_type(DType dtype);
MPI_Op mpi_op(ReduceOp op);
// Starts a rank-ordered all-reduce (reduce_scatter = false: `count` elements) or
// reduce-scatter (true: `count` elements per rank) on c.reduce_comm(); see
// mpi_ordered_mpi.cpp. `tag` must differ between operations in flight.
std::unique_ptr<MpiPhases> ordered_reduce(MpiCommunicator& c, const void* send, void* recv,
                                          std::size_t count, DType dtype, ReduceOp op,
                                          bool reduce_scatter, int tag);
// Every rank's MPI_Get_processor_name, gathered with a deadline (mpi_hosts_mpi.cpp).
std::vector<std::string> gather_hosts(MPI_Comm comm, std::chrono::milliseconds timeout);
// Duplicates `comm` without blocking past the timeout (MPI_Comm_idup + polling).
MPI_Comm dup_with_deadline(MPI_Comm comm, std::chrono::milliseconds timeout, std::string_view what);

// One MPI communicator plus a duplicate "side" communicator on which ranks ask
// each other, after a timeout, how far they got (see mpi_status_mpi.cpp).
class MpiCommunicator final : public Communicator {
 public:
  // Takes ownership of `comm` (freed in the destructor unless it is MPI_COMM_WORLD).
  MpiCommunicator(std::shared_ptr<MpiShared> shared, MPI_Comm comm, Options options);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int world_rank_of(int r) const override { return world_ranks_[r]; }
  std::string_view backend() const override { return "mpi"; }

  Request iall_reduce(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                      std::string_view context) override;
  Request ireduce_scatter(const void* send, void* recv, std::size_t count, DType dtype, ReduceOp op,
                          std::string_view context) override;
  Request iall_gather(const void* send, void* recv, std::size_t count, DType dtype,
                      std::string_view context) override;
  Request ibroadcast(void* data, std::size_t count, DType dtype, int root,
                     std::string_view context) override;
  Request isend(const void* data, std::size_t count, DType dtype, int dest, int tag,
                std::string_view context) override;
  Request irecv(void* data, std::size_t count, DType dtype, int source, int tag,
                std::string_view context) override;
  Request ibarrier(std::string_view context) override;
  std::unique_ptr<Communicator> split(int color, int key, std::string_view context) override;

  MpiShared& shared() { return *shared_; }
  ScratchPool& scratch() { return scratch_; }
  // The duplicate communicator carrying the point-to-point messages of the
  // rank-ordered reductions (apart from user send/recv tags).
  MPI_Comm reduce_comm() const { return reduce_; }
  // The communicator itself (topology discovery splits it by shared memory).
  MPI_Comm mpi_comm() const { return comm_; }

  // Polls `test` (which returns true when done) until the deadline, answering
  // status queries meanwhile; false on timeout.
  bool poll_until(const std::function<bool()>& test,
                  std::chrono::steady_clock::time_point deadline);
  // After a timeout in collective #seq: asks every peer how far it got; returns
  // the text "rank 2 has not arrived (...)" naming the missing ranks.
  std::string diagnose_collective(std::uint64_t seq);
  // Answers status queries on this communicator's side channel (under shared mu).
  void service_locked();

 private:
  // Registers a started collective (sequence number, description) and returns it.
  std::uint64_t enter(std::string_view name, std::string_view context, std::string* what);
  Request make_request(MPI_Request req, std::string what, std::int64_t seq, int peer,
                       std::function<void()> on_complete = {});
  static int reduce_tag(std::uint64_t seq);
  Request make_phased_request(std::unique_ptr<MpiPhases> phases, std::string what,
                              std::int64_t seq);

  std::shared_ptr<MpiShared> shared_;
  MPI_Comm comm_;
  MPI_Comm side_ = MPI_COMM_NULL;
  MPI_Comm reduce_ = MPI_COMM_NULL;
  ScratchPool scratch_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<int> world_ranks_;
  std::uint64_t entered_ = 0;  // collectives started here (read by status answers)
  std::string last_started_;   // description of the latest one
  std::deque<std::pair<MPI_Request, std::vector<char>>> replies_;  // answers in flight
};

}  // namespace weft::comm::detail
