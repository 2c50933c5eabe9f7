// MPI backend pieces that need no MPI headers: launch detection, and the stand-in
// runtime of a build without MPI (which says how to get one). See mpi_runtime.hpp.
#include "parallel/comm/mpi_runtime.hpp"

#include <cstdlib>

namespace weft::comm {

bool MpiRuntime::launched() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(var) != nullptr) return true;
  return false;
}

#ifndef WEFT_HAVE_MPI
namespace detail {
struct MpiShared {};
}  // namespace detail

MpiRuntime::MpiRuntime(int*, char***) {
  throw config_error("this weft was built without MPI",
                     "apt-get install libopenmpi-dev openmpi-bin, then rebuild (-DWEFT_MPI=ON), or "
                     "use --ranks-as threads");
}
MpiRuntime::~MpiRuntime() = default;
int MpiRuntime::world_rank() const {
  return 0;
}
int MpiRuntime::world_size() const {
  return 1;
}
bool MpiRuntime::thread_multiple() const {
  return false;
}
std::unique_ptr<Communicator> MpiRuntime::world(Options) {
  return nullptr;
}
void MpiRuntime::abort(int exit_code) {
  std::_Exit(exit_code);
}
bool MpiRuntime::built() {
  return false;
}
#endif

}  // namespace weft::comm
