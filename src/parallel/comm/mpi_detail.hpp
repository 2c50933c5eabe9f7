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
#include <mutex>
#include <string>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::comm::detail {

class MpiCommunicator;

struct MpiShared {
  int world_rank = 0;
  int world_size = 1;
  int thread_level = 0;
  std::atomic<bool> failed{false};
  std::mutex mu;                       // guards the fields below
  std::string failure;                 // first failure, for later calls
  std::vector<MpiCommunicator*> live;  // communicators answering status queries
  std::uint64_t next_nonce = 1;

  void fail(const std::string& reason);
  // Answers pending status queries on every live communicator. Any thread.
  void service_all();
};

// Throws a communication error for a failed MPI call (MPI_ERRORS_RETURN is set).
void mpi_check(int rc, const char* call, std::string_view what);
MPI_Datatype mpi_type(DType dtype);
MPI_Op mpi_op(ReduceOp op);
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

  std::shared_ptr<MpiShared> shared_;
  MPI_Comm comm_;
  MPI_Comm side_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::vector<int> world_ranks_;
  std::uint64_t entered_ = 0;  // collectives started here (read by status answers)
  std::string last_started_;   // description of the latest one
  std::deque<std::pair<MPI_Request, std::vector<char>>> replies_;  // answers in flight
};

}  // namespace weft::comm::detail
