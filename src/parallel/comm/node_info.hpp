// What a rank can learn about the machine it runs on, for topology discovery
// (parallel/topology.hpp): its host name and, under MPI, which ranks share memory
// with it (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)). The result is a plain value
// owned by the caller. Collective over `world`: every rank calls it, one thread each.
#pragma once

#include <string>

#include "parallel/comm/communicator.hpp"

namespace weft::comm {

struct NodeInfo {
  std::string host;       // MPI_Get_processor_name, else gethostname()
  int shared_leader = 0;  // lowest world rank sharing memory with this rank (threads: 0)
};

// MPI backend: host name + shared-memory split (every rank must call it: the split
// is collective). Thread backend (and any other): gethostname(), leader 0, since all
// ranks live in this process.
NodeInfo node_info(Communicator& world);

}  // namespace weft::comm
