// MPI backend entry point: MpiRuntime owns MPI's initialisation for the process
// and hands out the world communicator (owned by the caller; it must not outlive
// the runtime). Construct it once on the main thread, first thing in main().
// Built without MPI, construction throws a configuration error.
//
// Threading: MPI_THREAD_MULTIPLE is requested (Open MPI 4.1 provides it), so the
// dp/tp/pp communicators may be driven from different threads, one thread per
// communicator at a time. With a lower level MPI gives, only one thread may call.
//
// Shutdown: the destructor calls MPI_Finalize after a clean run, but MPI_Abort
// when any communicator failed (timeout, dead peer) or an exception is unwinding:
// MPI_Finalize would wait for peers that may never come, and MPI_Abort makes
// mpirun stop every rank and exit non-zero.
#pragma once

#include <memory>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

namespace detail {
struct MpiShared;
}

class MpiRuntime {
 public:
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  int world_rank() const;
  int world_size() const;
  bool thread_multiple() const;  // MPI granted MPI_THREAD_MULTIPLE

  // The world communicator (MPI_COMM_WORLD duplicated, so weft's traffic never
  // mixes with anyone else's). Collective: every rank calls it.
  std::unique_ptr<Communicator> world(Options options = {});

  // Ends every rank of the job now with `exit_code` (MPI_Abort). For error exits.
  [[noreturn]] void abort(int exit_code);

  static bool built();     // this weft was compiled with MPI
  static bool launched();  // this process was started by mpirun/srun (environment)

 private:
  std::shared_ptr<detail::MpiShared> shared_;
};

}  // namespace weft::comm
