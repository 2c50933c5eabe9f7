// Topology discovery and the grid's placement on nodes: grouping of (host, shared
// leader) pairs, the WEFT_RANKS_PER_NODE override (and its bad values), discovery
// on thread ranks, the rank → host map and the tp-across-nodes warning, each
// checked against the layout worked out independently from the header formulas.
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>

#include "parallel/comm/launch.hpp"
#include "parallel/grid_topology.hpp"
#include "parallel/topology.hpp"

namespace weft::parallel {
namespace {

// Sets or unsets WEFT_RANKS_PER_NODE for one test and restores "unset" after it.
struct FakeNodes {
  explicit FakeNodes(const char* value) {
    if (value) setenv("WEFT_RANKS_PER_NODE", value, 1);
    else unsetenv("WEFT_RANKS_PER_NODE");
  }
  ~FakeNodes() { unsetenv("WEFT_RANKS_PER_NODE"); }
};

TEST(TopologyFrom, GroupsRanksByHostAndSharedMemory) {
  const Topology t = topology_from({{"a", 0}, {"a", 0}, {"b", 2}, {"b", 2}, {"a", 0}}, 0);
  EXPECT_EQ(t.nodes(), 2);
  EXPECT_EQ(t.node_of, (std::vector<int>{0, 0, 1, 1, 0}));
  EXPECT_EQ(t.hosts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.ranks_on(0), (std::vector<int>{0, 1, 4}));
  EXPECT_EQ(t.describe(), "2 nodes: a (ranks 0,1,4), b (ranks 2-3)");
}

TEST(TopologyFrom, SameHostNameWithoutSharedMemoryIsTwoNodes) {
  // Two containers both called "c": MPI's shared-memory split tells them apart.
  const Topology t = topology_from({{"c", 0}, {"c", 0}, {"c", 2}, {"c", 2}}, 0);
  EXPECT_EQ(t.nodes(), 2);
  EXPECT_EQ(t.hosts, (std::vector<std::string>{"c#0", "c#2"}));
}

TEST(TopologyFrom, FakeRanksPerNodeGroupsConsecutiveRanks) {
  const Topology t = topology_from(std::vector<comm::NodeInfo>(5, {"h", 0}), 2);
  EXPECT_EQ(t.node_of, (std::vector<int>{0, 0, 1, 1, 2}));
  EXPECT_EQ(t.hosts, (std::vector<std::string>{"h/fake0", "h/fake1", "h/fake2"}));
  EXPECT_NE(t.describe().find("WEFT_RANKS_PER_NODE=2"), std::string::npos);
}

TEST(TopologyEnv, ParsesThePositiveIntegerAndRejectsTheRest) {
  {
    FakeNodes f(nullptr);
    EXPECT_EQ(topology_fake_ranks_per_node(), 0);
  }
  {
    FakeNodes f("3");
    EXPECT_EQ(topology_fake_ranks_per_node(), 3);
  }
  for (const char* bad : {"0", "-2", "two", "2x"}) {
    FakeNodes f(bad);
    try {
      topology_fake_ranks_per_node();
      ADD_FAILURE() << "accepted WEFT_RANKS_PER_NODE=" << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_NE(std::string(e.what()).find("WEFT_RANKS_PER_NODE"), std::string::npos);
    }
  }
}

// Discovery on thread ranks: one node unless faked; every rank sees the same.
std::vector<Topology> discover_on_threads(int n) {
  std::vector<Topology> got(static_cast<std::size_t>(n));
  std::mutex mu;
  comm::run_ranks(comm::RanksAs::kThreads, n, {}, [&](comm::Communicator& world) {
    Topology t = topology_discover(world);
    std::lock_guard lock(mu);
    got[static_cast<std::size_t>(world.rank())] = t;
  });
  return got;
}

TEST(TopologyDiscover, ThreadRanksShareOneNode) {
  FakeNodes f(nullptr);
  for (const Topology& t : discover_on_threads(3)) {
    EXPECT_EQ(t.nodes(), 1);
    EXPECT_EQ(t.node_of, (std::vector<int>{0, 0, 0}));
    EXPECT_EQ(t.fake_ranks_per_node, 0);
  }
}

TEST(TopologyDiscover, OverrideMakesNodesOfConsecutiveRanks) {
  FakeNodes f("2");
  for (const Topology& t : discover_on_threads(4)) {
    EXPECT_EQ(t.nodes(), 2);
    EXPECT_EQ(t.node_of, (std::vector<int>{0, 0, 1, 1}));
  }
}

TEST(TopologyGrid, MapListsEveryRanksHostAndCoordinates) {
  // dp 2 × tp 2 × pp 2 on 4 nodes of 2: rank r = tp + 2(dp + 2 pp).
  const Topology t = topology_from(std::vector<comm::NodeInfo>(8, {"h", 0}), 2);
  const std::string map = grid_topology_map({2, 2, 2}, t);
  for (int r = 0; r < 8; ++r) {
    const int tp = r % 2, dp = (r / 2) % 2, pp = r / 4;
    const std::string line = str("rank ", r, " -> h/fake", r / 2, "  dp ", dp, " tp ", tp, " pp ", pp);
    EXPECT_NE(map.find(line), std::string::npos) << line << "\nin\n" << map;
  }
  EXPECT_NE(grid_topology_map({2, 2, 2}, t, 3).find("... 5 more ranks"), std::string::npos);
}

TEST(TopologyGrid, TpInsideNodesGivesNoWarning) {
  const Topology t = topology_from(std::vector<comm::NodeInfo>(8, {"h", 0}), 4);
  EXPECT_EQ(grid_topology_warning({2, 4, 1}, t), "");
  EXPECT_EQ(grid_topology_warning({4, 2, 1}, t), "");
  EXPECT_EQ(grid_topology_warning({8, 1, 1}, t), "");
}

TEST(TopologyGrid, TpAcrossNodesWarnsNamingTheGroup) {
  // 2 ranks per node, tp 4: ranks 0-3 sit on nodes 0 and 1.
  const Topology t = topology_from(std::vector<comm::NodeInfo>(8, {"h", 0}), 2);
  const std::string w = grid_topology_warning({2, 4, 1}, t);
  EXPECT_NE(w.find("ranks 0-3 spans nodes h/fake0 and h/fake1"), std::string::npos) << w;
  // 3 ranks per node, tp 2: the group of ranks 2-3 crosses from node 0 to node 1.
  const Topology t3 = topology_from(std::vector<comm::NodeInfo>(6, {"h", 0}), 3);
  EXPECT_NE(grid_topology_warning({3, 2, 1}, t3).find("ranks 2-3"), std::string::npos);
}

}  // namespace
}  // namespace weft::parallel
