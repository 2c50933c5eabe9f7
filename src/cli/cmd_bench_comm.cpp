// `weft bench comm`: collective latency/bandwidth per message size inside and
// between hosts, flat vs hierarchical all-reduce, α–β per host class
// (parallel/comm_bench_suite.hpp). Parses options and prints; rank 0 reports.
#include <filesystem>
#include <memory>
#include <mutex>

#include "cli/bench_registry.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/mpi_runtime.hpp"
#include "parallel/comm_bench_suite.hpp"

namespace {

struct CommArgs {
  int ranks = 2;
  std::string ranks_as;  // "" = mpi under mpirun, else threads
  std::size_t min_bytes = 4;
  std::size_t max_bytes = std::size_t(64) << 20;
  double seconds = 0.05;
  bool quick = false;
  bool no_hier = false;
  std::string json;
  bool overwrite = false;
  double comm_timeout_s = 300;
};

int run_bench_comm(const CommArgs& a) {
  namespace wc = weft::comm;
  if (!a.json.empty() && !a.overwrite && std::filesystem::exists(a.json))
    throw weft::input_error(weft::str("--json ", a.json, ": the file exists"),
                            "pass --overwrite to replace it, or choose another name");
  const bool mpi = a.ranks_as == "mpi" ||
                   (a.ranks_as.empty() && wc::MpiRuntime::built() && wc::MpiRuntime::launched());
  const wc::RanksAs as = mpi ? wc::RanksAs::kMpi : wc::parse_ranks_as(a.ranks_as.empty() ? "threads" : a.ranks_as);
  if (as == wc::RanksAs::kThreads && (a.ranks < 2 || a.ranks > 256))
    throw weft::input_error(weft::str("--ranks ", a.ranks, ": expected 2..256 thread ranks"));
  weft::parallel::CommBenchOptions o;
  o.min_bytes = a.min_bytes;
  o.max_bytes = a.quick ? std::min<std::size_t>(a.max_bytes, std::size_t(1) << 20) : a.max_bytes;
  o.seconds_per_size = a.quick ? std::min(a.seconds, 0.02) : a.seconds;
  o.hier = !a.no_hier;
  if (!(o.seconds_per_size > 0) || o.seconds_per_size > 60)
    throw weft::input_error(weft::str("--seconds ", a.seconds, ": expected (0, 60]"));
  wc::Options copt;
  copt.timeout = std::chrono::milliseconds(static_cast<long long>(a.comm_timeout_s * 1000));
  wc::run_ranks(as, as == wc::RanksAs::kMpi ? 0 : a.ranks, copt, [&](wc::Communicator& world) {
    const auto report = weft::parallel::comm_bench_run(world, o);
    if (world.rank() != 0) return;
    weft::parallel::comm_bench_print(report, stdout);
    std::fflush(stdout);
    if (!a.json.empty()) {
      const std::string text = weft::parallel::comm_bench_json(report).dump(2) + "\n";
      weft::file_write_atomic(a.json, text.data(), text.size(), /*durable=*/false);
      std::printf("wrote %s\n", a.json.c_str());
    }
  });
  return 0;
}

std::function<int()> setup_bench_comm(CLI::App& app) {
  auto a = std::make_shared<CommArgs>();
  app.add_option("--ranks", a->ranks, "thread ranks (with --ranks-as threads)")->capture_default_str();
  app.add_option("--ranks-as", a->ranks_as, "threads | mpi (default: mpi under mpirun, else threads)");
  app.add_option("--min-bytes", a->min_bytes, "smallest message (bytes)")->capture_default_str();
  app.add_option("--max-bytes", a->max_bytes, "largest message (bytes; sizes step x4)")->capture_default_str();
  app.add_option("--seconds", a->seconds, "time spent per message size")->capture_default_str();
  app.add_flag("--quick", a->quick, "sizes up to 1 MiB, 0.02 s each (a few seconds)");
  app.add_flag("--no-hier", a->no_hier, "skip the flat vs hierarchical all-reduce comparison");
  app.add_option("--json", a->json,
                 "write {\"comm\": {\"intra_host\"|\"inter_host\": {\"alpha_s\", \"beta_s_per_byte\"}}} "
                 "and the rows to FILE (for weft plan --rates)");
  app.add_flag("--overwrite", a->overwrite, "replace an existing --json file");
  app.add_option("--comm-timeout", a->comm_timeout_s, "seconds before a collective gives up")
      ->capture_default_str();
  return [a] { return run_bench_comm(*a); };
}

WEFT_BENCH_COMMAND("comm", "Collective bandwidth/latency per size, intra vs inter host, flat vs hier; alpha-beta fit",
                   110, setup_bench_comm);

}  // namespace
