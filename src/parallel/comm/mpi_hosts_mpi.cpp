// MPI backend: every world rank's host name (MPI_Get_processor_name), gathered once
// when the world communicator is made, so a timeout can say on which host the
// missing rank runs ("rank 1 runs on host node1") — on a cluster that is the
// machine to look at. Called by the thread that creates the world communicator.
#include <algorithm>
#include <set>
#include <thread>

#include "parallel/comm/mpi_detail.hpp"

namespace weft::comm::detail {

std::vector<std::string> gather_hosts(MPI_Comm comm, std::chrono::milliseconds timeout) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  constexpr int kLen = 64;  // longer names are cut (only shown in messages)
  char name[MPI_MAX_PROCESSOR_NAME + 1] = {};
  int len = 0;
  mpi_check(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name", "host names");
  std::vector<char> mine(kLen, '\0'), all(static_cast<std::size_t>(kLen) * size, '\0');
  std::copy_n(name, std::min(len, kLen - 1), mine.begin());
  MPI_Request req = MPI_REQUEST_NULL;
  mpi_check(MPI_Iallgather(mine.data(), kLen, MPI_CHAR, all.data(), kLen, MPI_CHAR, comm, &req),
            "MPI_Iallgather", "host names");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int done = 0;;) {
    mpi_check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test", "host names");
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw timeout_error(str("gathering host names timed out after ", timeout.count() / 1000.0,
                              " s (some rank did not start)"),
                          "check that every host of the job is reachable");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  std::vector<std::string> hosts(size);
  for (int r = 0; r < size; ++r) hosts[r] = std::string(&all[static_cast<std::size_t>(r) * kLen]);
  return hosts;
}

std::string MpiShared::hosts_of(const Communicator& comm, std::span<const int> ranks) const {
  // Only where the job spans several hosts: on one machine the host says nothing.
  if (std::set<std::string>(hosts.begin(), hosts.end()).size() < 2) return "";
  std::string out;
  for (int r : ranks) {
    const int world = comm.world_rank_of(r);
    if (world >= 0 && world < static_cast<int>(hosts.size()))
      out += str("; rank ", r, " runs on host ", hosts[world]);
  }
  return out;
}

}  // namespace weft::comm::detail
