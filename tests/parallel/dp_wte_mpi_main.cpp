// wte's early gradient reduction under mpirun (tests.cmake): at ZeRO 0-3, each MPI
// rank's gradients after a data-parallel step with the early reduction are bitwise
// those of the plain step and of the same rank in a thread-rank run of the same size
// (dp_wte_checks.hpp). Prints "dp wte checks passed on N MPI ranks" on success;
// a mismatch or weft::Error ends the job non-zero (MPI_Abort).
#include <cstdio>
#include <mutex>
#include <string>

#include "core/log.hpp"
#include "dp_wte_checks.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/comm/thread_communicator.hpp"

namespace {

namespace wc = weft::parallel::wte_checks;

void check(bool ok, const std::string& what) {
  if (!ok) throw weft::Error(weft::ErrorKind::kRuntime, what);
}

void run(weft::comm::Communicator& world) {
  const int n = world.size(), me = world.rank();
  for (int zero = 0; zero <= 3; ++zero) {
    const wc::StepResult plain = wc::dp_step(world, zero, false);
    const wc::StepResult early = wc::dp_step(world, zero, true);
    check(!plain.early && early.early, weft::str("zero ", zero, ": early wte not in use"));
    const long long d = wc::first_bit_difference(plain.grads, early.grads);
    check(d < 0, weft::str("zero ", zero, ": early differs from plain at float ", d));
    // The same job as thread ranks inside this process; keep this rank's result.
    wc::StepResult threads;
    std::mutex mu;
    weft::comm::run_thread_ranks(n, weft::comm::Options{}, [&](weft::comm::Communicator& c) {
      wc::StepResult r = wc::dp_step(c, zero, true);
      if (c.rank() != me) return;
      std::lock_guard lock(mu);
      threads = std::move(r);
    });
    const long long dt = wc::first_bit_difference(threads.grads, early.grads);
    check(dt < 0, weft::str("zero ", zero, ": MPI differs from thread ranks at float ", dt));
  }
}

}  // namespace

int main(int argc, char** argv) {
  weft::comm::MpiRuntime mpi(&argc, &argv);
  try {
    weft::comm::Options options;
    options.timeout = std::chrono::seconds(60);
    auto world = mpi.world(options);
    run(*world);
    world->barrier("end");
    if (world->rank() == 0) std::printf("dp wte checks passed on %d MPI ranks\n", world->size());
  } catch (const weft::Error& e) {
    weft::log_error(weft::error_kind_name(e.kind()), ": ", e.what());
    mpi.abort(weft::error_exit_code(e.kind()));
  } catch (const std::exception& e) {
    weft::log_error("check failed: ", e.what());
    mpi.abort(1);
  }
  return 0;
}
