// MPI communicator test program, run by CTest under mpirun (tests.cmake):
//   checks [large]  every collective × counts {0, 1, 1001, large} vs closed forms
//   stall           the last rank sleeps past the 1 s timeout before a collective
//   kill            rank 2 kills itself (SIGKILL) after the first collective
// Exits 0 only when every check passed; a weft::Error ends the job through
// MPI_Abort with weft's exit code for its kind, after printing "[rN] <kind>: ...".
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "comm_checks.hpp"
#include "core/log.hpp"
#include "parallel/comm/mpi_runtime.hpp"

namespace {

using namespace std::chrono_literals;
using weft::comm::Communicator;
using weft::comm::ReduceOp;

void run_stall(Communicator& comm) {
  std::vector<float> x(10, 1.f);
  comm.all_reduce(std::span(x), ReduceOp::kSum, "step 1");
  if (comm.rank() == comm.size() - 1) std::this_thread::sleep_for(4s);
  comm.all_reduce(std::span(x), ReduceOp::kSum, "step 2");
}

void run_kill(Communicator& comm) {
  std::vector<float> x(10, 1.f);
  comm.all_reduce(std::span(x), ReduceOp::kSum, "step 1");
  if (comm.rank() == 2) std::raise(SIGKILL);
  for (int step = 2; step < 100; ++step)
    comm.all_reduce(std::span(x), ReduceOp::kSum, weft::str("step ", step));
}

}  // namespace

int main(int argc, char** argv) {
  weft::comm::MpiRuntime mpi(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "checks";
  try {
    weft::comm::Options options;
    options.timeout = mode == "checks" ? 60s : mode == "stall" ? 1s : 2s;
    auto world = mpi.world(options);
    if (mode == "checks") {
      const std::size_t large = argc > 2 ? std::stoul(argv[2]) : std::size_t(1) << 20;
      weft::comm::checks::all(*world, large);
      if (world->rank() == 0) std::printf("comm checks passed on %d MPI ranks\n", world->size());
    } else if (mode == "stall") {
      run_stall(*world);
    } else if (mode == "kill") {
      run_kill(*world);
    } else {
      throw weft::input_error("unknown mode '" + mode + "' (checks, stall, kill)");
    }
  } catch (const weft::Error& e) {
    weft::log_error(weft::error_kind_name(e.kind()), ": ", e.what());
    mpi.abort(weft::error_exit_code(e.kind()));
  } catch (const std::exception& e) {
    weft::log_error("check failed: ", e.what());
    mpi.abort(1);
  }
  return 0;
}
