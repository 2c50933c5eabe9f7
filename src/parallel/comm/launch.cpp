// run_ranks(): dispatch to the thread launcher or to MPI. See launch.hpp.
#include "parallel/comm/launch.hpp"

#include "core/log.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/comm/thread_communicator.hpp"

namespace weft::comm {

RanksAs parse_ranks_as(std::string_view text) {
  if (text == "threads") return RanksAs::kThreads;
  if (text == "mpi" || text == "processes") return RanksAs::kMpi;
  throw input_error(str("--ranks-as '", text, "': expected 'threads' or 'mpi'"));
}

void run_ranks(RanksAs as, int ranks, const Options& options,
               const std::function<void(Communicator&)>& fn) {
  if (as == RanksAs::kThreads) {
    run_thread_ranks(ranks, options, fn);
    return;
  }
  MpiRuntime mpi(nullptr, nullptr);
  if (ranks != 0 && ranks != mpi.world_size())
    throw config_error(str("--ranks ", ranks, " but mpirun started ", mpi.world_size(), " ranks"),
                       "drop --ranks or make it equal to mpirun's -np");
  try {
    auto world = mpi.world(options);
    fn(*world);
  } catch (const Error& e) {
    log_error(error_kind_name(e.kind()), ": ", e.what(), e.hint().empty() ? "" : "\nHINT: ", e.hint());
    mpi.abort(error_exit_code(e.kind()));
  } catch (const std::exception& e) {
    log_error("error: ", e.what());
    mpi.abort(1);
  }
}

}  // namespace weft::comm
