// MPI backend: process-wide initialisation and shutdown, the shared failure state,
// and MPI type/op/error helpers. See mpi_runtime.hpp.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/log.hpp"
#include "parallel/comm/mpi_detail.hpp"
#include "parallel/comm/mpi_runtime.hpp"

namespace weft::comm {
namespace detail {

void MpiShared::fail(const std::string& reason) {
  std::lock_guard lock(mu);
  if (failed.load()) return;
  failure = reason;
  failed.store(true);
}

void MpiShared::service_all() {
  std::lock_guard lock(mu);
  for (MpiCommunicator* comm : live) comm->service_locked();
}

void mpi_check(int rc, const char* call, std::string_view what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw comm_error(str(what, ": ", call, " failed: ", std::string(text, len)),
                   "a peer process may have died; see the other ranks' messages");
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return MPI_FLOAT;
    case DType::kF64:
      return MPI_DOUBLE;
    case DType::kI64:
      return MPI_INT64_T;
    case DType::kU8:
      return MPI_UINT8_T;
  }
  return MPI_BYTE;
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
  }
  return MPI_SUM;
}

}  // namespace detail

MpiRuntime::MpiRuntime(int* argc, char*** argv) : shared_(std::make_shared<detail::MpiShared>()) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    throw config_error("MPI is already initialised: create one MpiRuntime per process");
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
    throw comm_error("MPI_Init_thread failed", "start weft with mpirun -np N (or srun)");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &shared_->world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &shared_->world_size);
  shared_->thread_level = provided;
  log_set_rank(shared_->world_rank, shared_->world_size);
  if (provided < MPI_THREAD_MULTIPLE)
    log_warn("MPI gave thread level ", provided,
             " (not MPI_THREAD_MULTIPLE): only one thread may communicate");
}

MpiRuntime::~MpiRuntime() {
  if (shared_->failed.load() || std::uncaught_exceptions() > 0) {
    // Peers may be stuck in a collective that this rank will never join.
    MPI_Abort(MPI_COMM_WORLD, error_exit_code(ErrorKind::kComm));
  }
  MPI_Finalize();
}

int MpiRuntime::world_rank() const {
  return shared_->world_rank;
}
int MpiRuntime::world_size() const {
  return shared_->world_size;
}
bool MpiRuntime::thread_multiple() const {
  return shared_->thread_level >= MPI_THREAD_MULTIPLE;
}

std::unique_ptr<Communicator> MpiRuntime::world(Options options) {
  MPI_Comm dup = detail::dup_with_deadline(MPI_COMM_WORLD, options.timeout, "world communicator");
  if (shared_->hosts.empty()) shared_->hosts = detail::gather_hosts(dup, options.timeout);
  return std::make_unique<detail::MpiCommunicator>(shared_, dup, options);
}

void MpiRuntime::abort(int exit_code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

bool MpiRuntime::built() {
  return true;
}

}  // namespace weft::comm
