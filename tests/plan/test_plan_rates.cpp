// Rates file (`weft plan --save-rates / --rates`): round trip through JSON and a file,
// errors that name the bad field, topo's comm-only file, defaults when comm is absent,
// no overwriting, merge and nearest-shape lookup.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "plan/rates.hpp"

namespace weft::plan {
namespace {

std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::temp_directory_path() /
          (std::string("weft_rates_") + info->name() + "_" + std::to_string(getpid()) + "_" + name))
      .string();
}

Rates sample() {
  Rates r;
  r.has_compute = true;
  r.compute.gemm.push_back({256, 2304, 768, "nt", 2, 1, 41.5, 83.25});
  r.compute.gemm.push_back({64, 64, 64, "tn", 1, 2, 12.0, 30.5});
  r.compute.kernels.push_back({"layer", 196608, 2, 1, 15.5, 16.25});
  r.compute.kernels.push_back({"adamw", 16777216, 1, 2, 9.0, 11.0});
  r.has_intra = true;
  r.intra_host = {9.5e-6, 1.0 / 6e9};
  return r;
}

void expect_same(const Rates& a, const Rates& b) {
  ASSERT_EQ(a.has_compute, b.has_compute);
  ASSERT_EQ(a.compute.gemm.size(), b.compute.gemm.size());
  for (std::size_t i = 0; i < a.compute.gemm.size(); ++i) {
    const GemmRate &x = a.compute.gemm[i], &y = b.compute.gemm[i];
    EXPECT_EQ(std::tie(x.m, x.n, x.k, x.op, x.threads, x.concurrency),
              std::tie(y.m, y.n, y.k, y.op, y.threads, y.concurrency));
    EXPECT_DOUBLE_EQ(x.gflops, y.gflops);
    EXPECT_DOUBLE_EQ(x.gflops_cpu, y.gflops_cpu);
  }
  ASSERT_EQ(a.compute.kernels.size(), b.compute.kernels.size());
  for (std::size_t i = 0; i < a.compute.kernels.size(); ++i) {
    EXPECT_EQ(a.compute.kernels[i].kind, b.compute.kernels[i].kind);
    EXPECT_EQ(a.compute.kernels[i].elems, b.compute.kernels[i].elems);
    EXPECT_DOUBLE_EQ(a.compute.kernels[i].gbs, b.compute.kernels[i].gbs);
    EXPECT_DOUBLE_EQ(a.compute.kernels[i].gbs_cpu, b.compute.kernels[i].gbs_cpu);
  }
  EXPECT_EQ(a.has_intra, b.has_intra);
  EXPECT_EQ(a.has_inter, b.has_inter);
  EXPECT_DOUBLE_EQ(a.intra_host.alpha_s, b.intra_host.alpha_s);
  EXPECT_DOUBLE_EQ(a.intra_host.beta_s_per_byte, b.intra_host.beta_s_per_byte);
}

TEST(PlanRates, RoundTripsThroughJsonAndAFile) {
  const Rates r = sample();
  expect_same(r, rates_from_json(rates_to_json(r), "mem"));
  const std::string path = temp_path("r.json");
  rates_save(path, r, false);
  expect_same(r, rates_load(path));
  // The file has the documented shape: compute + comm.intra_host {alpha_s, beta_s_per_byte}.
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in);
  EXPECT_DOUBLE_EQ(j["comm"]["intra_host"]["beta_s_per_byte"].get<double>(), 1.0 / 6e9);
  EXPECT_FALSE(j["comm"].contains("inter_host"));
  EXPECT_EQ(j["compute"]["gemm"][0]["op"], "nt");
  std::filesystem::remove(path);
}

TEST(PlanRates, RefusesToReplaceAnExistingFileUnlessAsked) {
  const std::string path = temp_path("keep.json");
  { std::ofstream(path) << "precious"; }
  EXPECT_THROW(rates_save(path, sample(), false), Error);
  std::ifstream in(path);
  std::string s;
  in >> s;
  EXPECT_EQ(s, "precious");
  rates_save(path, sample(), true);
  expect_same(sample(), rates_load(path));
  std::filesystem::remove(path);
}

void expect_error_naming(const nlohmann::json& j, const std::string& field) {
  try {
    rates_from_json(j, "f.json");
    ADD_FAILURE() << "no error for " << j.dump();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
  }
}

TEST(PlanRates, MalformedFieldsAreNamed) {
  nlohmann::json j = rates_to_json(sample());
  auto bad = j;
  bad["compute"]["gemm"][1].erase("gflops");
  expect_error_naming(bad, "f.json.compute.gemm[1].gflops: missing");
  bad = j;
  bad["compute"]["gemm"][0]["gflops"] = -3;
  expect_error_naming(bad, "compute.gemm[0].gflops: must be a positive number");
  bad = j;
  bad["compute"]["gemm"][0]["op"] = "tt";
  expect_error_naming(bad, "compute.gemm[0].op");
  bad = j;
  bad["compute"]["gemm"][0]["m"] = 2.5;
  expect_error_naming(bad, "compute.gemm[0].m: must be a positive integer");
  bad = j;
  bad["compute"]["kernels"][0]["kind"] = "softmax";
  expect_error_naming(bad, "compute.kernels[0].kind");
  bad = j;
  bad["comm"]["intra_host"]["beta_s_per_byte"] = 0;
  expect_error_naming(bad, "comm.intra_host.beta_s_per_byte");
  bad = j;
  bad["comm"]["inter_host"] = {{"beta_s_per_byte", 1e-9}};
  expect_error_naming(bad, "comm.inter_host.alpha_s: missing");
  bad = j;
  bad["comm"] = 3;
  expect_error_naming(bad, "f.json.comm: must be a JSON object");
  bad = j;
  bad["version"] = 2;
  expect_error_naming(bad, "f.json.version");
  const std::string path = temp_path("broken.json");
  { std::ofstream(path) << "{\"compute\": ["; }
  try {
    rates_load(path);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW(rates_load(temp_path("absent.json")), Error);
}

TEST(PlanRates, CommOnlyFileAndDefaults) {
  // What `weft bench comm --json` writes: the comm object alone, here without inter_host.
  const nlohmann::json topo = {{"intra_host", {{"alpha_s", 2e-6}, {"beta_s_per_byte", 1e-10}}}};
  const Rates r = rates_from_json(topo, "comm.json");
  EXPECT_FALSE(r.has_compute);
  EXPECT_TRUE(r.has_intra);
  EXPECT_FALSE(r.has_inter);
  const LinkSpec intra = rates_link(r, false), inter = rates_link(r, true);
  EXPECT_EQ(intra.name, "intra_host");
  EXPECT_DOUBLE_EQ(intra.latency, 2e-6);
  EXPECT_DOUBLE_EQ(intra.bandwidth, 1e10);
  EXPECT_EQ(inter.name, "inter_host (default)");
  EXPECT_DOUBLE_EQ(inter.latency, default_inter_host().alpha_s);
  EXPECT_DOUBLE_EQ(rates_link(Rates{}, false).bandwidth, 1.0 / default_intra_host().beta_s_per_byte);
  // The same object under "comm" in a full file reads the same.
  const Rates r2 = rates_from_json({{"comm", topo}}, "x");
  EXPECT_DOUBLE_EQ(r2.intra_host.alpha_s, 2e-6);
}

TEST(PlanRates, MergeReplacesSameKeysAndKeepsOthers) {
  Rates a = sample(), b;
  b.has_compute = true;
  b.compute.gemm.push_back({256, 2304, 768, "nt", 2, 1, 99.0, 100.0});  // same key: replaced
  b.compute.gemm.push_back({256, 2304, 768, "nt", 1, 2, 20.0, 21.0});   // other threads: added
  rates_merge(a, b);
  ASSERT_EQ(a.compute.gemm.size(), 3u);
  EXPECT_DOUBLE_EQ(a.compute.gemm[0].gflops, 99.0);
  EXPECT_TRUE(a.has_intra);  // b has no comm: a's kept
  EXPECT_TRUE(rates_has_gemm(a.compute, 256, 2304, 768, "nt", 1, 2));
  EXPECT_FALSE(rates_has_gemm(a.compute, 256, 2304, 768, "nn", 1, 2));
}

TEST(PlanRates, LookupUsesTheNearestShapeAndScalesOtherThreadCounts) {
  Rates r;
  r.has_compute = true;
  r.compute.gemm.push_back({100, 100, 100, "nt", 2, 1, 10.0, 5.0});
  r.compute.gemm.push_back({1000, 1000, 1000, "nt", 2, 1, 40.0, 20.0});
  // Exact and nearest: seconds = 2mnk / rate of the nearest measured shape.
  EXPECT_DOUBLE_EQ(rates_gemm_seconds(r.compute, 100, 100, 100, "nt", 2, 1, false), 2e6 / 10e9);
  EXPECT_DOUBLE_EQ(rates_gemm_seconds(r.compute, 800, 900, 1000, "nn", 2, 1, false),
                   2.0 * 800 * 900 * 1000 / 40e9);
  EXPECT_DOUBLE_EQ(rates_gemm_seconds(r.compute, 800, 900, 1000, "nn", 2, 1, true),
                   2.0 * 800 * 900 * 1000 / 20e9);
  // No entry for 1 thread: the 2-thread wall rate halves; CPU-seconds do not change.
  EXPECT_DOUBLE_EQ(rates_gemm_seconds(r.compute, 100, 100, 100, "nt", 1, 1, false), 2e6 / 5e9);
  EXPECT_DOUBLE_EQ(rates_gemm_seconds(r.compute, 100, 100, 100, "nt", 1, 1, true), 2e6 / 5e9);
  EXPECT_THROW(rates_kernel_bandwidth(r.compute, "layer", 10, 1, 1, false), Error);
  EXPECT_THROW(rates_gemm_seconds(ComputeRates{}, 1, 1, 1, "nt", 1, 1, false), Error);
}

}  // namespace
}  // namespace weft::plan
