// Topology and hierarchical all-reduce under mpirun (tests.cmake runs it with
// WEFT_RANKS_PER_NODE faking nodes on one machine):
//   checks NODES  discovers the topology (expects NODES nodes), then every collective
//                 of the hierarchical communicator vs closed forms (comm_checks.hpp)
//                 for counts 0, 1, 3, 7, 1001, 2^18, and random data vs the flat
//                 all-reduce (within float rounding; every rank bitwise the same)
//   topology      only discovers (the mismatched-override test)
// Exits 0 only when every check passed; errors end the job through MPI_Abort.
#include <cmath>
#include <cstdio>
#include <string>

#include "comm_checks.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/hier_communicator.hpp"
#include "parallel/topology.hpp"

namespace {

using namespace std::chrono_literals;
using weft::comm::Communicator;

void random_vs_flat(Communicator& world, Communicator& hier) {
  const std::size_t count = 100003;
  std::vector<float> x(count), y(count);
  for (std::size_t i = 0; i < count; ++i) {
    weft::Rng rng = weft::Rng::stream(7, std::uint64_t(world.rank()) * 1000003u + i);
    x[i] = y[i] = rng.normal();
  }
  world.all_reduce(std::span(x));
  hier.all_reduce(std::span(y));
  double worst = 0;
  for (std::size_t i = 0; i < count; ++i) worst = std::max(worst, std::abs(double(x[i]) - y[i]));
  if (worst > 1e-5 * world.size())
    throw std::runtime_error(weft::str("hier vs flat: max abs diff ", worst));
  // Replicas must agree bitwise: compare with rank 0's result.
  std::vector<float> zero = y;
  world.broadcast(std::span(zero), 0);
  if (zero != y) throw std::runtime_error("hier all-reduce differs between ranks");
}

}  // namespace

int main(int argc, char** argv) {
  weft::comm::MpiRuntime mpi(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "checks";
  try {
    weft::comm::Options options;
    options.timeout = 60s;
    auto world = mpi.world(options);
    const weft::parallel::Topology topo = weft::parallel::topology_discover(*world);
    if (mode == "topology") {
      if (world->rank() == 0) std::printf("%s\n", topo.describe().c_str());
      return 0;
    }
    const int want_nodes = argc > 2 ? std::stoi(argv[2]) : 1;
    if (topo.nodes() != want_nodes)
      throw std::runtime_error(weft::str("found ", topo.describe(), ", expected ", want_nodes, " nodes"));
    auto hier = weft::parallel::make_dp_hier(*world, topo, weft::parallel::AllReduceMode::kHier);
    for (std::size_t count : {0ul, 1ul, 3ul, 7ul, 1001ul, std::size_t(1) << 18})
      weft::comm::checks::all_reduce(*hier, count);
    weft::comm::checks::all(*hier, 4099);
    random_vs_flat(*world, *hier);
    if (world->rank() == 0)
      std::printf("hier checks passed on %d MPI ranks, %s\n", world->size(), topo.describe().c_str());
  } catch (const weft::Error& e) {
    weft::log_error(weft::error_kind_name(e.kind()), ": ", e.what());
    mpi.abort(weft::error_exit_code(e.kind()));
  } catch (const std::exception& e) {
    weft::log_error("check failed: ", e.what());
    mpi.abort(1);
  }
  return 0;
}
