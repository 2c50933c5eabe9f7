// Hierarchical all-reduce (parallel/hier_communicator.hpp) on thread ranks: every
// collective of the wrapped communicator against closed forms (comm_checks.hpp)
// for several node shapes and counts 0, 1, odd, large; random data against the
// flat all-reduce; several all-reduces in flight waited out of order and mixed
// with flat operations; uneven nodes rejected; the α–β fit of comm_bench against
// rows made from known α and β; `weft bench comm`'s suite on faked nodes.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "comm_checks.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "parallel/comm/comm_bench.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm_bench_suite.hpp"
#include "parallel/hier_communicator.hpp"

namespace weft::parallel {
namespace {

using namespace std::chrono_literals;

comm::Options generous() {
  comm::Options o;
  o.timeout = 60s;  // 2 cores shared by many jobs: thread ranks get descheduled
  return o;
}

struct Shape {
  std::vector<int> node_of;  // node of each rank
};

// Names the shape in test names: "nodes 0,0,1,1".
void PrintTo(const Shape& s, std::ostream* os) {
  *os << "nodes ";
  for (std::size_t i = 0; i < s.node_of.size(); ++i) *os << (i ? "," : "") << s.node_of[i];
}

class HierShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(HierShapes, EveryCollectiveMatchesClosedForms) {
  const std::vector<int> nodes = GetParam().node_of;
  const int n = static_cast<int>(nodes.size());
  EXPECT_NO_THROW(comm::run_ranks(comm::RanksAs::kThreads, n, generous(), [&](comm::Communicator& c) {
    HierCommunicator hier(c, nodes);
    for (std::size_t count : {0ul, 1ul, 2ul, 3ul, 7ul, 1001ul, std::size_t(1) << 18})
      comm::checks::all_reduce(hier, count);
    comm::checks::all(hier, 4099);  // the delegated operations too
  }));
}

TEST_P(HierShapes, RandomDataMatchesTheFlatAllReduce) {
  const std::vector<int> nodes = GetParam().node_of;
  const int n = static_cast<int>(nodes.size());
  const std::size_t count = 100003;  // odd: a tail beside the pieces
  std::vector<std::vector<float>> flat(n), hier(n);
  std::mutex mu;
  comm::run_ranks(comm::RanksAs::kThreads, n, generous(), [&](comm::Communicator& c) {
    HierCommunicator h(c, nodes);
    std::vector<float> x(count), y(count);
    for (std::size_t i = 0; i < count; ++i) {
      Rng rng = Rng::stream(7, std::uint64_t(c.rank()) * 1000003u + i);
      x[i] = y[i] = rng.normal();
    }
    c.all_reduce(std::span(x));
    h.all_reduce(std::span(y));
    std::lock_guard lock(mu);
    flat[c.rank()] = std::move(x);
    hier[c.rank()] = std::move(y);
  });
  double worst = 0;
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(hier[r], hier[0]) << "rank " << r << " differs from rank 0 (replicas must agree)";
    for (std::size_t i = 0; i < count; ++i)
      worst = std::max(worst, std::abs(double(hier[r][i]) - flat[r][i]));
  }
  // n values of |x| ~ 1 summed in another order: a few float ulps of ~n.
  EXPECT_LT(worst, 1e-5 * n);
}

INSTANTIATE_TEST_SUITE_P(HierNodes, HierShapes,
                         ::testing::Values(Shape{{0, 0, 1, 1}},           // 2 nodes × 2
                                           Shape{{0, 0, 0, 1, 1, 1}},     // 2 nodes × 3
                                           Shape{{0, 1, 0, 1}},           // interleaved
                                           Shape{{0, 0, 1, 1, 2, 2}},     // 3 nodes × 2
                                           Shape{{0, 1, 2}},              // 1 per node
                                           Shape{{0, 0, 0}}));            // 1 node

TEST(HierInFlight, SeveralAllReducesWaitedOutOfOrderAndMixedWithFlat) {
  const std::vector<int> nodes{0, 0, 1, 1};
  EXPECT_NO_THROW(comm::run_ranks(comm::RanksAs::kThreads, 4, generous(), [&](comm::Communicator& c) {
    HierCommunicator h(c, nodes);
    const int n = 4, r = c.rank();
    const std::vector<std::size_t> counts{1001, 1, 70000, 6, 3};
    std::vector<std::vector<float>> bufs;
    for (std::size_t k = 0; k < counts.size(); ++k)
      bufs.emplace_back(counts[k], float(r + 1 + int(k)));
    std::vector<float> rs_send(4 * 50, float(r)), rs_recv(50);
    std::vector<comm::Request> reqs;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      reqs.push_back(h.iall_reduce(std::span(bufs[k]), comm::ReduceOp::kSum, str("x", k)));
      // Even ranks push this all-reduce on (into its later steps) before starting
      // the next; odd ranks start the next at once: the steps' start order then
      // differs in time between ranks, and must not differ per communicator.
      if (r % 2 == 0) {
        Stopwatch sw;
        while (!reqs.back().test() && sw.seconds() < 0.05) std::this_thread::yield();
      }
      if (k == 1)  // a flat operation between hierarchical ones (different communicators)
        reqs.push_back(h.ireduce_scatter(std::span<const float>(rs_send), std::span(rs_recv)));
    }
    (void)reqs[3].test();
    reqs[5].wait();  // the last all-reduce first: drives the earlier ones in order
    for (std::size_t i = reqs.size(); i-- > 0;) reqs[i].wait();
    for (std::size_t k = 0; k < counts.size(); ++k) {
      // Σ_r (r + 1 + k) = n(n+1)/2 + n·k
      const double want = n * (n + 1) / 2.0 + n * double(k);
      for (float v : bufs[k])
        if (v != want) throw std::runtime_error(str("buffer ", k, " has ", v, ", want ", want));
    }
    for (float v : rs_recv)
      if (v != 6.0f) throw std::runtime_error(str("reduce_scatter gave ", v));
  }));
}

TEST(HierCheck, UnevenNodesAreRejectedWithTheReason) {
  std::string why;
  EXPECT_FALSE(hier_possible(std::vector<int>{0, 0, 1}, &why));
  EXPECT_NE(why.find("node 0: 2, node 1: 1"), std::string::npos) << why;
  EXPECT_TRUE(hier_possible(std::vector<int>{1, 0, 1, 0}));
  EXPECT_TRUE(hier_worthwhile(std::vector<int>{0, 0, 1, 1}));
  EXPECT_FALSE(hier_worthwhile(std::vector<int>{0, 1}));     // one rank per node
  EXPECT_FALSE(hier_worthwhile(std::vector<int>{0, 0, 0}));  // one node
  std::atomic<int> config_errors{0};
  comm::run_ranks(comm::RanksAs::kThreads, 3, generous(), [&](comm::Communicator& c) {
    try {
      HierCommunicator h(c, std::vector<int>{0, 0, 1});
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kConfig) ++config_errors;
    }
  });
  EXPECT_EQ(config_errors.load(), 3);
}

TEST(HierCheck, ParseAllReduceMode) {
  EXPECT_EQ(parse_allreduce_mode("flat"), AllReduceMode::kFlat);
  EXPECT_EQ(parse_allreduce_mode("hier"), AllReduceMode::kHier);
  EXPECT_EQ(parse_allreduce_mode("auto"), AllReduceMode::kAuto);
  EXPECT_THROW(parse_allreduce_mode("ring"), Error);
}

TEST(HierDpChoice, AutoGoesHierarchicalOnlyAcrossNodesWithSeveralRanksEach) {
  // World of 4 as dp: faked 2 per node → hier; 1 node → flat; explicit flat → flat.
  std::atomic<int> hier_auto{0}, flat_one_node{0}, flat_forced{0};
  comm::run_ranks(comm::RanksAs::kThreads, 4, generous(), [&](comm::Communicator& c) {
    const Topology two = topology_from(std::vector<comm::NodeInfo>(4, {"h", 0}), 2);
    const Topology one = topology_from(std::vector<comm::NodeInfo>(4, {"h", 0}), 0);
    if (auto h = make_dp_hier(c, two, AllReduceMode::kAuto); h && h->nodes() == 2) ++hier_auto;
    if (!make_dp_hier(c, one, AllReduceMode::kAuto)) ++flat_one_node;
    if (!make_dp_hier(c, two, AllReduceMode::kFlat)) ++flat_forced;
  });
  EXPECT_EQ(hier_auto.load(), 4);
  EXPECT_EQ(flat_one_node.load(), 4);
  EXPECT_EQ(flat_forced.load(), 4);
}

// Rows made exactly from the ring model with α = 20 µs, β = 1/(2 GB/s): the fit
// must return them; with noise of ±10 % it must stay close.
TEST(HierCommBenchFit, RecoversAlphaAndBetaOfTheRingModel) {
  const double alpha = 20e-6, beta = 0.5e-9;
  std::vector<comm::CommBenchRow> rows;
  for (comm::CommBenchOp op : {comm::CommBenchOp::kAllReduce, comm::CommBenchOp::kAllGather,
                               comm::CommBenchOp::kSendRecv})
    for (std::size_t m = 4; m <= (64u << 20); m *= 4) {
      comm::CommBenchRow r;
      r.op = op;
      r.ranks = 4;
      r.bytes = m;
      double a = 0, b = 0;
      comm::comm_ring_coefficients(r, &a, &b);
      r.median_us = (a * alpha + b * beta) * 1e6;
      rows.push_back(r);
    }
  // Independent check of the coefficients: all_reduce over 4 ranks = 6α + 1.5·M·β.
  comm::CommBenchRow ar;
  ar.op = comm::CommBenchOp::kAllReduce;
  ar.ranks = 4;
  ar.bytes = 1000;
  double a = 0, b = 0;
  comm::comm_ring_coefficients(ar, &a, &b);
  EXPECT_DOUBLE_EQ(a, 6.0);
  EXPECT_DOUBLE_EQ(b, 1500.0);

  comm::CommFit f = comm::fit_alpha_beta(rows);
  EXPECT_NEAR(f.alpha_s, alpha, alpha * 1e-9);
  EXPECT_NEAR(f.beta_s_per_byte, beta, beta * 1e-9);
  EXPECT_LT(f.rel_rms, 1e-9);
  EXPECT_EQ(f.points, static_cast<int>(rows.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].median_us *= (i % 2 ? 1.1 : 0.9);
  f = comm::fit_alpha_beta(rows);
  EXPECT_NEAR(f.alpha_s, alpha, alpha * 0.15);
  EXPECT_NEAR(f.beta_s_per_byte, beta, beta * 0.15);
}

TEST(HierCommBenchSuite, FakedNodesGiveBothClassesAndFlatVsHier) {
  setenv("WEFT_RANKS_PER_NODE", "2", 1);
  CommBenchOptions o;
  o.max_bytes = 4096;  // 4 B .. 4 KiB: a smoke run, the closed-form checks still apply
  o.seconds_per_size = 0.001;
  std::optional<CommBenchReport> report;
  comm::run_ranks(comm::RanksAs::kThreads, 4, generous(), [&](comm::Communicator& c) {
    CommBenchReport r = comm_bench_run(c, o);
    if (c.rank() == 0) report = std::move(r);
  });
  unsetenv("WEFT_RANKS_PER_NODE");
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->topo.nodes(), 2);
  ASSERT_TRUE(report->intra && report->inter);
  EXPECT_GT(report->intra->beta_s_per_byte + report->intra->alpha_s, 0);
  int groups = 0;
  for (const CommBenchSeries& s : report->series) {
    EXPECT_EQ(s.rows.size(), 6u) << s.group << " " << s.algo;  // 4, 16, 64, 256, 1024, 4096
    if (s.group == "world" && s.algo == "hier") ++groups;
    if (s.group == "inter_host") {
      EXPECT_EQ(s.rows.front().ranks, 2);
    }
  }
  EXPECT_EQ(groups, 1);
  // 4 ops inside node 0, 4 between the nodes, flat and hier over the world.
  EXPECT_EQ(report->series.size(), 10u);
  const nlohmann::json j = comm_bench_json(*report);
  EXPECT_TRUE(j.at("comm").at("intra_host").at("alpha_s").is_number());
  EXPECT_TRUE(j.at("comm").at("inter_host").at("beta_s_per_byte").is_number());
}

}  // namespace
}  // namespace weft::parallel
