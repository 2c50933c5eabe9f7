// Topology discovery: gathers every rank's node facts and groups ranks into nodes.
// See topology.hpp.
#include "parallel/topology.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "core/error.hpp"

namespace weft::parallel {
namespace {

// One rank's record in the all-gather: host name, shared leader, override value.
constexpr std::size_t kHostBytes = 256;
struct Record {
  char host[kHostBytes];
  std::int64_t leader;
  std::int64_t fake;
};

}  // namespace

std::vector<int> Topology::ranks_on(int node) const {
  std::vector<int> out;
  for (int r = 0; r < world(); ++r)
    if (node_of[static_cast<std::size_t>(r)] == node) out.push_back(r);
  return out;
}

std::string Topology::describe() const {
  std::string s = str(nodes(), nodes() == 1 ? " node: " : " nodes: ");
  for (int n = 0; n < nodes(); ++n) {
    const std::vector<int> rs = ranks_on(n);
    // Ranks of a node are usually consecutive: print "a-b" then, else a list.
    const bool run = rs.back() - rs.front() + 1 == static_cast<int>(rs.size());
    std::string ranks;
    if (rs.size() == 1) {
      ranks = str("rank ", rs[0]);
    } else if (run) {
      ranks = str("ranks ", rs.front(), "-", rs.back());
    } else {
      ranks = "ranks ";
      for (std::size_t i = 0; i < rs.size(); ++i) ranks += str(i ? "," : "", rs[i]);
    }
    s += str(n ? ", " : "", hosts[static_cast<std::size_t>(n)], " (", ranks, ")");
  }
  if (fake_ranks_per_node > 0)
    s += str(" [faked by WEFT_RANKS_PER_NODE=", fake_ranks_per_node, ", a testing aid]");
  return s;
}

int topology_fake_ranks_per_node() {
  const char* v = std::getenv("WEFT_RANKS_PER_NODE");
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const long k = std::strtol(v, &end, 10);
  if (*end != '\0' || k < 1 || k > 1 << 20)
    throw input_error(str("WEFT_RANKS_PER_NODE='", v, "': expected a positive integer"),
                      "it groups world ranks into pretend nodes for tests; unset it on a real cluster");
  return static_cast<int>(k);
}

Topology topology_from(const std::vector<comm::NodeInfo>& ranks, int fake) {
  Topology t;
  t.node_of.assign(ranks.size(), -1);
  if (fake > 0) {
    t.fake_ranks_per_node = fake;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      const int node = static_cast<int>(r) / fake;
      t.node_of[r] = node;
      if (node == t.nodes()) t.hosts.push_back(str(ranks[r].host, "/fake", node));
    }
    return t;
  }
  std::map<std::pair<std::string, int>, int> index;  // (host, leader) → node
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    const auto key = std::make_pair(ranks[r].host, ranks[r].shared_leader);
    auto [it, fresh] = index.emplace(key, t.nodes());
    if (fresh) t.hosts.push_back(ranks[r].host);
    t.node_of[r] = it->second;
  }
  // Two shared-memory groups under one host name (containers): tell them apart.
  std::map<std::string, int> seen;
  for (const std::string& h : t.hosts) ++seen[h];
  for (int n = 0; n < t.nodes(); ++n) {
    std::string& h = t.hosts[static_cast<std::size_t>(n)];
    if (seen[h] > 1) h = str(h, "#", t.ranks_on(n).front());
  }
  return t;
}

Topology topology_discover(comm::Communicator& world) {
  const int fake = topology_fake_ranks_per_node();
  const comm::NodeInfo mine = comm::node_info(world);
  Record rec{};
  std::strncpy(rec.host, mine.host.c_str(), kHostBytes - 1);
  rec.leader = mine.shared_leader;
  rec.fake = fake;
  const std::size_t n = static_cast<std::size_t>(world.size());
  std::vector<Record> all(n);
  world
      .iall_gather(&rec, all.data(), sizeof(Record), comm::DType::kU8, "topology: node facts")
      .wait();
  std::vector<comm::NodeInfo> infos(n);
  for (std::size_t r = 0; r < n; ++r) {
    if (all[r].fake != fake)
      throw config_error(str("WEFT_RANKS_PER_NODE differs between ranks: ", fake, " here (rank ",
                             world.rank(), "), ", all[r].fake, " on rank ", r, " (0 = unset)"),
                         "set it for every rank (mpirun -x WEFT_RANKS_PER_NODE=k) or for none");
    all[r].host[kHostBytes - 1] = '\0';
    infos[r] = {all[r].host, static_cast<int>(all[r].leader)};
  }
  return topology_from(infos, fake);
}

std::vector<int> topology_nodes_of(const Topology& topo, const comm::Communicator& c) {
  std::vector<int> out(static_cast<std::size_t>(c.size()));
  for (int r = 0; r < c.size(); ++r) {
    const int w = c.world_rank_of(r);
    WEFT_CHECK(w >= 0 && w < topo.world(), "world rank ", w, " outside the topology of ",
               topo.world(), " ranks");
    out[static_cast<std::size_t>(r)] = topo.node_of[static_cast<std::size_t>(w)];
  }
  return out;
}

}  // namespace weft::parallel
