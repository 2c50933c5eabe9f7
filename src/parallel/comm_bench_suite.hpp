// `weft bench comm`: every collective and send/recv per message size, inside a host
// (the ranks of node 0) and between hosts (one rank per node), flat against
// hierarchical all-reduce over the whole world, and an α–β fit per host class for
// `weft plan --rates`. Collective over the world; the report is complete on world
// rank 0 (other ranks get a copy without rows they did not take part in). The caller
// owns the report; one thread per rank.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallel/comm/comm_bench.hpp"
#include "parallel/topology.hpp"

namespace weft::parallel {

struct CommBenchOptions {
  std::size_t min_bytes = 4;
  std::size_t max_bytes = std::size_t(64) << 20;
  double seconds_per_size = 0.05;
  bool hier = true;  // also time hierarchical vs flat all-reduce over the world (nodes > 1)
};

// One series of rows: one operation on one group of ranks.
struct CommBenchSeries {
  std::string group;  // "intra_host" (node 0's ranks), "inter_host" (one per node), "world"
  std::string algo;   // "flat" | "hier"
  std::vector<comm::CommBenchRow> rows;
};

struct CommBenchReport {
  std::string backend;  // "threads" | "mpi"
  Topology topo;
  std::vector<CommBenchSeries> series;
  std::optional<comm::CommFit> intra, inter;  // absent when that class had < 2 ranks
};

CommBenchReport comm_bench_run(comm::Communicator& world, const CommBenchOptions& options);

// The tables and fits, human-readable.
void comm_bench_print(const CommBenchReport& report, std::FILE* out);

// {"comm": {"intra_host": {"alpha_s", "beta_s_per_byte"}, "inter_host": {...}},
//  "comm_bench": {details: backend, hosts, fit quality, every row}}. A class that
// was not measured is left out of "comm".
nlohmann::json comm_bench_json(const CommBenchReport& report);

}  // namespace weft::parallel
