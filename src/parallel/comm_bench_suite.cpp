// `weft bench comm`: runs comm_bench over the groups the topology defines and fits
// α–β per host class. See comm_bench_suite.hpp.
#include "parallel/comm_bench_suite.hpp"

#include <cinttypes>

#include "core/error.hpp"
#include "parallel/hier_communicator.hpp"

namespace weft::parallel {
namespace {

using comm::CommBenchOp;
constexpr CommBenchOp kOps[] = {CommBenchOp::kAllReduce, CommBenchOp::kAllGather,
                                CommBenchOp::kReduceScatter, CommBenchOp::kSendRecv};

// Every op on `group` (members only; null elsewhere), then a world barrier so the
// ranks that sat out wait without taking part.
void bench_group(comm::Communicator& world, comm::Communicator* group, const std::string& name,
                 const CommBenchOptions& o, CommBenchReport& report) {
  if (group != nullptr && group->size() >= 2) {
    for (CommBenchOp op : kOps)
      report.series.push_back({name, "flat",
                               comm::bench_collective(*group, op, o.min_bytes, o.max_bytes,
                                                      o.seconds_per_size)});
  }
  world.barrier(str("bench comm: after ", name));
}

std::vector<comm::CommBenchRow> rows_of(const CommBenchReport& r, const std::string& group) {
  std::vector<comm::CommBenchRow> out;
  for (const CommBenchSeries& s : r.series)
    if (s.group == group && s.algo == "flat") out.insert(out.end(), s.rows.begin(), s.rows.end());
  return out;
}

}  // namespace

CommBenchReport comm_bench_run(comm::Communicator& world, const CommBenchOptions& o) {
  if (o.min_bytes < 4 || o.max_bytes < o.min_bytes)
    throw input_error(str("bench comm sizes: --min-bytes ", o.min_bytes, " --max-bytes ",
                          o.max_bytes, ": need 4 <= min <= max"));
  CommBenchReport report;
  report.backend = std::string(world.backend());
  report.topo = topology_discover(world);
  const Topology& t = report.topo;
  const int me = world.rank();
  const int node = t.node_of[static_cast<std::size_t>(me)];
  std::vector<int> on_node = t.ranks_on(node);
  int local = 0;
  while (on_node[static_cast<std::size_t>(local)] != me) ++local;

  // Intra-host: the ranks of node 0 (world rank 0's). Inter-host: local index 0
  // of every node. Both splits are collective over the world.
  auto intra = world.split(node == 0 ? 0 : -1, me, "bench comm: intra-host group");
  auto inter = world.split(local == 0 ? 0 : -1, me, "bench comm: inter-host group");
  bench_group(world, intra.get(), "intra_host", o, report);
  if (t.nodes() >= 2) bench_group(world, inter.get(), "inter_host", o, report);

  // Flat vs hierarchical all-reduce over the whole world.
  const std::vector<int> nodes = topology_nodes_of(t, world);
  if (o.hier && t.nodes() >= 2 && world.size() >= 2 && hier_possible(nodes)) {
    report.series.push_back({"world", "flat",
                             comm::bench_collective(world, CommBenchOp::kAllReduce, o.min_bytes,
                                                    o.max_bytes, o.seconds_per_size)});
    HierCommunicator hier(world, nodes);
    report.series.push_back({"world", "hier",
                             comm::bench_collective(hier, CommBenchOp::kAllReduce, o.min_bytes,
                                                    o.max_bytes, o.seconds_per_size)});
  }
  const auto fit = [&](const std::string& g) -> std::optional<comm::CommFit> {
    const auto rows = rows_of(report, g);
    if (rows.empty()) return std::nullopt;
    return comm::fit_alpha_beta(rows);
  };
  report.intra = fit("intra_host");
  report.inter = fit("inter_host");
  return report;
}

void comm_bench_print(const CommBenchReport& r, std::FILE* out) {
  std::fprintf(out, "weft bench comm: backend=%s, %s\n", r.backend.c_str(),
               r.topo.describe().c_str());
  std::fprintf(out, "%-10s %-5s %-14s %5s %10s %6s %11s %11s %10s %10s %10s\n", "group", "algo",
               "op", "ranks", "bytes", "reps", "median_us", "cpu_us", "algbw_GB/s",
               "busbw_GB/s", "memcpy_GB/s");
  for (const CommBenchSeries& s : r.series)
    for (const comm::CommBenchRow& row : s.rows)
      std::fprintf(out, "%-10s %-5s %-14s %5d %10zu %6d %11.2f %11.2f %10.3f %10.3f %10.3f\n",
                   s.group.c_str(), s.algo.c_str(),
                   std::string(comm::comm_bench_op_name(row.op)).c_str(), row.ranks, row.bytes,
                   row.reps, row.median_us, row.cpu_us, row.algbw_gbps, row.busbw_gbps,
                   row.memcpy_gbps);
  // Flat vs hierarchical, side by side.
  const CommBenchSeries *flat = nullptr, *hier = nullptr;
  for (const CommBenchSeries& s : r.series)
    if (s.group == "world") (s.algo == "flat" ? flat : hier) = &s;
  if (flat && hier && flat->rows.size() == hier->rows.size()) {
    std::fprintf(out, "\nall_reduce over the world: flat vs hierarchical\n%10s %12s %12s %8s\n",
                 "bytes", "flat_us", "hier_us", "flat/hier");
    for (std::size_t i = 0; i < flat->rows.size(); ++i)
      std::fprintf(out, "%10zu %12.2f %12.2f %8.2f\n", flat->rows[i].bytes,
                   flat->rows[i].median_us, hier->rows[i].median_us,
                   hier->rows[i].median_us > 0 ? flat->rows[i].median_us / hier->rows[i].median_us
                                               : 0.0);
  }
  std::fprintf(out, "\nalpha-beta fit per class (ring model over every op, least squares on "
                    "relative error):\n");
  const auto line = [&](const char* name, const std::optional<comm::CommFit>& f) {
    if (!f) {
      std::fprintf(out, "  %-10s not measured (fewer than 2 ranks in that class)\n", name);
      return;
    }
    std::fprintf(out, "  %-10s alpha = %.3g s (%.2f us)  beta = %.3g s/byte (%.3f GB/s)  "
                      "[%d points, rel rms %.2f]\n",
                 name, f->alpha_s, f->alpha_s * 1e6, f->beta_s_per_byte,
                 f->beta_s_per_byte > 0 ? 1e-9 / f->beta_s_per_byte : 0.0, f->points, f->rel_rms);
  };
  line("intra_host", r.intra);
  line("inter_host", r.inter);
}

nlohmann::json comm_bench_json(const CommBenchReport& r) {
  nlohmann::json comm = nlohmann::json::object();
  nlohmann::json fits = nlohmann::json::object();
  const auto put = [&](const char* name, const std::optional<comm::CommFit>& f) {
    if (!f) return;
    comm[name] = {{"alpha_s", f->alpha_s}, {"beta_s_per_byte", f->beta_s_per_byte}};
    fits[name] = {{"points", f->points}, {"rel_rms", f->rel_rms}};
  };
  put("intra_host", r.intra);
  put("inter_host", r.inter);
  nlohmann::json rows = nlohmann::json::array();
  for (const CommBenchSeries& s : r.series)
    for (const comm::CommBenchRow& row : s.rows)
      rows.push_back({{"group", s.group},
                      {"algo", s.algo},
                      {"op", comm::comm_bench_op_name(row.op)},
                      {"ranks", row.ranks},
                      {"bytes", row.bytes},
                      {"reps", row.reps},
                      {"median_us", row.median_us},
                      {"cpu_us", row.cpu_us},
                      {"algbw_gbps", row.algbw_gbps},
                      {"busbw_gbps", row.busbw_gbps},
                      {"memcpy_gbps", row.memcpy_gbps}});
  return {{"comm", comm},
          {"comm_bench",
           {{"schema", "weft.bench.comm/1"},
            {"backend", r.backend},
            {"world", r.topo.world()},
            {"hosts", r.topo.hosts},
            {"fake_ranks_per_node", r.topo.fake_ranks_per_node},
            {"fit", fits},
            {"rows", rows}}}};
}

}  // namespace weft::parallel
