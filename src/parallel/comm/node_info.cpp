// Node facts for topology discovery, backend dispatch and the non-MPI part. See
// node_info.hpp; the MPI part is node_info_mpi.cpp.
#include "parallel/comm/node_info.hpp"

#include <unistd.h>

#include <array>

namespace weft::comm {

namespace detail {
// node_info_mpi.cpp (only in MPI builds).
NodeInfo mpi_node_info(Communicator& world);
}  // namespace detail

NodeInfo node_info(Communicator& world) {
#ifdef WEFT_HAVE_MPI
  if (world.backend() == "mpi") return detail::mpi_node_info(world);
#endif
  NodeInfo info;
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) name = {'?'};
  info.host = name.data();
  info.shared_leader = 0;
  return info;
}

}  // namespace weft::comm
