// All-reduce latency and bandwidth per message size. Thread ranks by default;
// under mpirun (or with --backend mpi) MPI ranks. Each size is checked against
// the closed form before it is timed; memcpy of the same size is the baseline.
//   bench_comm [--ranks N] [--max-bytes B] [--seconds S] [--backend threads|mpi]
//   mpirun -np 2 bench_comm
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "parallel/comm/comm_bench.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/mpi_runtime.hpp"

namespace {

void print_rows(const char* backend, int ranks, const std::vector<weft::comm::CommBenchRow>& rows) {
  std::printf("all_reduce (sum, f32), backend=%s ranks=%d\n", backend, ranks);
  std::printf("%12s %7s %12s %12s %12s %12s\n", "bytes", "reps", "median_us", "algbw_GB/s",
              "busbw_GB/s", "memcpy_GB/s");
  for (const auto& r : rows)
    std::printf("%12zu %7d %12.2f %12.3f %12.3f %12.3f\n", r.bytes, r.reps, r.median_us,
                r.algbw_gbps, r.busbw_gbps, r.memcpy_gbps);
  const auto fit = weft::comm::fit_alpha_beta(rows);
  std::printf("ring-model fit: alpha_us=%.2f beta_GBps=%.3f (rel rms %.2f; weft bench comm "
              "fits every collective per host class)\n",
              fit.alpha_s * 1e6, fit.beta_s_per_byte > 0 ? 1e-9 / fit.beta_s_per_byte : 0.0,
              fit.rel_rms);
}

}  // namespace

int main(int argc, char** argv) {
  int ranks = 2;
  std::size_t max_bytes = std::size_t(16) << 20;
  double seconds = 0.2;
  std::string backend = weft::comm::MpiRuntime::launched() ? "mpi" : "threads";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ranks"))
      ranks = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--max-bytes"))
      max_bytes = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--backend"))
      backend = argv[i + 1];
  }
  try {
    const auto as = weft::comm::parse_ranks_as(backend);
    weft::comm::run_ranks(as, as == weft::comm::RanksAs::kMpi ? 0 : ranks, {},
                          [&](weft::comm::Communicator& comm) {
                            auto rows = weft::comm::bench_all_reduce(comm, max_bytes, seconds);
                            if (comm.rank() == 0)
                              print_rows(std::string(comm.backend()).c_str(), comm.size(), rows);
                          });
  } catch (const weft::Error& e) {
    std::fprintf(stderr, "bench_comm: %s\n", e.what());
    return weft::error_exit_code(e.kind());
  }
  return 0;
}
