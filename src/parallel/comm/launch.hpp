// One entry point to run a function on every rank, whichever backend carries the
// ranks: `--ranks-as threads` (N threads in this process) or `mpi` (this process is
// one rank of an mpirun/srun job). Call once, from the main thread.
#pragma once

#include <functional>
#include <string_view>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

enum class RanksAs { kThreads, kMpi };

// "threads" or "mpi"; anything else is an input error naming the flag.
RanksAs parse_ranks_as(std::string_view text);

// Runs fn(world) on every rank and returns when all are done.
//  - threads: `ranks` threads; the root-cause error is rethrown ("rank N: ...").
//  - mpi: MPI is initialised here and finalised on return; `ranks` must be 0 or
//    the MPI world size. An error on any rank is logged on that rank and ends the
//    whole job through MPI_Abort with weft's exit code for it (never a hang).
void run_ranks(RanksAs as, int ranks, const Options& options,
               const std::function<void(Communicator&)>& fn);

}  // namespace weft::comm
