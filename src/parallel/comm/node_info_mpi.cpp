// Node facts under MPI: the processor name and the shared-memory split, which tells
// apart ranks that share a host name but not memory (containers, network namespaces).
// See node_info.hpp. Called collectively on the world communicator.
#include <algorithm>
#include <vector>

#include "parallel/comm/mpi_detail.hpp"
#include "parallel/comm/node_info.hpp"

namespace weft::comm::detail {

NodeInfo mpi_node_info(Communicator& world) {
  auto* mpi = dynamic_cast<MpiCommunicator*>(&world);
  WEFT_CHECK(mpi != nullptr, "mpi_node_info needs an MPI communicator");
  NodeInfo info;
  char name[MPI_MAX_PROCESSOR_NAME + 1] = {};
  int len = 0;
  mpi_check(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name", "topology");
  info.host.assign(name, static_cast<std::size_t>(std::max(len, 0)));
  // A barrier with a deadline first: once it completes every rank is present, so the
  // blocking split and reduction below cannot hang on a missing peer.
  world.barrier("topology: shared-memory split");
  MPI_Comm shared = MPI_COMM_NULL;
  mpi_check(MPI_Comm_split_type(mpi->mpi_comm(), MPI_COMM_TYPE_SHARED, world.rank(), MPI_INFO_NULL,
                                &shared),
            "MPI_Comm_split_type", "topology");
  int mine = world.world_rank_of(world.rank()), leader = mine;
  const int rc = MPI_Allreduce(&mine, &leader, 1, MPI_INT, MPI_MIN, shared);
  MPI_Comm_free(&shared);
  mpi_check(rc, "MPI_Allreduce", "topology: shared-memory leader");
  info.shared_leader = leader;
  return info;
}

}  // namespace weft::comm::detail
