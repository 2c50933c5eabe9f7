// Rates file: JSON round trip with field-naming errors, merge, and nearest-shape
// lookups (see rates.hpp).
#include "plan/rates.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace weft::plan {

namespace {

using nlohmann::json;

const json& need(const json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) throw input_error(str(path, ".", key, ": missing"));
  return *it;
}

double positive(const json& obj, const char* key, const std::string& path) {
  const json& v = need(obj, key, path);
  if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()))
    throw input_error(str(path, ".", key, ": must be a positive number, got ", v.dump()));
  return v.get<double>();
}

int64_t positive_int(const json& obj, const char* key, const std::string& path) {
  const json& v = need(obj, key, path);
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    throw input_error(str(path, ".", key, ": must be a positive integer, got ", v.dump()));
  return v.get<int64_t>();
}

std::string text(const json& obj, const char* key, const std::string& path) {
  const json& v = need(obj, key, path);
  if (!v.is_string()) throw input_error(str(path, ".", key, ": must be a string, got ", v.dump()));
  return v.get<std::string>();
}

void need_object(const json& v, const std::string& path) {
  if (!v.is_object()) throw input_error(str(path, ": must be a JSON object, got ", v.dump()));
}

LinkRate link_from_json(const json& v, const std::string& path) {
  need_object(v, path);
  LinkRate l;
  const json& a = need(v, "alpha_s", path);
  if (!a.is_number() || a.get<double>() < 0 || !std::isfinite(a.get<double>()))
    throw input_error(str(path, ".alpha_s: must be a number >= 0, got ", a.dump()));
  l.alpha_s = a.get<double>();
  l.beta_s_per_byte = positive(v, "beta_s_per_byte", path);
  return l;
}

void comm_from_json(const json& c, const std::string& path, Rates& r) {
  need_object(c, path);
  if (c.contains("intra_host")) {
    r.intra_host = link_from_json(c["intra_host"], path + ".intra_host");
    r.has_intra = true;
  }
  if (c.contains("inter_host")) {
    r.inter_host = link_from_json(c["inter_host"], path + ".inter_host");
    r.has_inter = true;
  }
}

bool op_valid(const std::string& op) { return op == "nt" || op == "nn" || op == "tn"; }

// Distance between two shapes in log space (0 = same shape).
double log_distance(double a0, double a1, double a2, double b0, double b1, double b2) {
  const double d0 = std::log(a0 / b0), d1 = std::log(a1 / b1), d2 = std::log(a2 / b2);
  return d0 * d0 + d1 * d1 + d2 * d2;
}

// Among entries passing `usable`, the index minimising `dist`; -1 when none.
template <typename T, typename U, typename D>
int nearest(const std::vector<T>& v, U&& usable, D&& dist) {
  int best = -1;
  double best_d = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!usable(v[i])) continue;
    const double d = dist(v[i]);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace

LinkRate default_intra_host() { return {5e-6, 1.0 / 10e9}; }
LinkRate default_inter_host() { return {20e-6, 1.0 / 3.125e9}; }

LinkSpec rates_link(const Rates& r, bool inter) {
  const bool have = inter ? r.has_inter : r.has_intra;
  const LinkRate l = have ? (inter ? r.inter_host : r.intra_host)
                          : (inter ? default_inter_host() : default_intra_host());
  const std::string name = str(inter ? "inter_host" : "intra_host", have ? "" : " (default)");
  return {name, 1.0 / l.beta_s_per_byte, l.alpha_s};
}

json rates_to_json(const Rates& r) {
  json j = {{"format", "weft-rates"}, {"version", 1}};
  if (r.has_compute) {
    json g = json::array(), k = json::array();
    for (const GemmRate& e : r.compute.gemm)
      g.push_back({{"m", e.m}, {"n", e.n}, {"k", e.k}, {"op", e.op}, {"threads", e.threads},
                   {"concurrency", e.concurrency}, {"gflops", e.gflops}, {"gflops_cpu", e.gflops_cpu}});
    for (const KernelRate& e : r.compute.kernels)
      k.push_back({{"kind", e.kind}, {"elems", e.elems}, {"threads", e.threads},
                   {"concurrency", e.concurrency}, {"gbs", e.gbs}, {"gbs_cpu", e.gbs_cpu}});
    j["compute"] = {{"gemm", g}, {"kernels", k}};
  }
  json c = json::object();
  auto link = [](const LinkRate& l) {
    return json{{"alpha_s", l.alpha_s}, {"beta_s_per_byte", l.beta_s_per_byte}};
  };
  if (r.has_intra) c["intra_host"] = link(r.intra_host);
  if (r.has_inter) c["inter_host"] = link(r.inter_host);
  if (!c.empty()) j["comm"] = c;
  return j;
}

Rates rates_from_json(const json& j, const std::string& where) {
  need_object(j, where);
  Rates r;
  if (!j.contains("compute") && !j.contains("comm") &&
      (j.contains("intra_host") || j.contains("inter_host"))) {
    comm_from_json(j, where, r);  // `weft bench comm --json` output on its own
    return r;
  }
  if (j.contains("version") && j["version"] != 1)
    throw input_error(str(where, ".version: ", j["version"].dump(), " is not supported (1 is)"));
  if (j.contains("comm")) comm_from_json(j["comm"], where + ".comm", r);
  if (j.contains("compute")) {
    const std::string p = where + ".compute";
    const json& c = j["compute"];
    need_object(c, p);
    r.has_compute = true;
    const json& g = need(c, "gemm", p);
    if (!g.is_array()) throw input_error(str(p, ".gemm: must be an array"));
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::string q = str(p, ".gemm[", i, "]");
      need_object(g[i], q);
      GemmRate e;
      e.m = positive_int(g[i], "m", q);
      e.n = positive_int(g[i], "n", q);
      e.k = positive_int(g[i], "k", q);
      e.op = text(g[i], "op", q);
      if (!op_valid(e.op)) throw input_error(str(q, ".op: '", e.op, "' is not nt, nn or tn"));
      e.threads = static_cast<int>(positive_int(g[i], "threads", q));
      e.concurrency = static_cast<int>(positive_int(g[i], "concurrency", q));
      e.gflops = positive(g[i], "gflops", q);
      e.gflops_cpu = positive(g[i], "gflops_cpu", q);
      r.compute.gemm.push_back(e);
    }
    if (r.compute.gemm.empty()) throw input_error(str(p, ".gemm: empty (no measured sgemm)"));
    const json& k = need(c, "kernels", p);
    if (!k.is_array()) throw input_error(str(p, ".kernels: must be an array"));
    for (std::size_t i = 0; i < k.size(); ++i) {
      const std::string q = str(p, ".kernels[", i, "]");
      need_object(k[i], q);
      KernelRate e;
      e.kind = text(k[i], "kind", q);
      if (e.kind != "layer" && e.kind != "classifier" && e.kind != "adamw" && e.kind != "fault")
        throw input_error(str(q, ".kind: '", e.kind, "' is not layer, classifier, adamw or fault"));
      e.elems = positive_int(k[i], "elems", q);
      e.threads = static_cast<int>(positive_int(k[i], "threads", q));
      e.concurrency = static_cast<int>(positive_int(k[i], "concurrency", q));
      e.gbs = positive(k[i], "gbs", q);
      e.gbs_cpu = positive(k[i], "gbs_cpu", q);
      r.compute.kernels.push_back(e);
    }
  }
  return r;
}

Rates rates_load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("cannot open rates file", path);
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw input_error(str("rates file '", path, "' is not valid JSON: ", e.what()),
                      "remake it with weft plan --calibrate --save-rates FILE");
  }
  return rates_from_json(j, path);
}

void rates_save(const std::string& path, const Rates& r, bool replace) {
  if (!replace && std::filesystem::exists(path))
    throw input_error(str("rates file '", path, "' exists; not replacing it"),
                      "pass --rates with the same file to update it, or choose another name");
  const std::string s = rates_to_json(r).dump(2) + "\n";
  file_write_atomic(path, s.data(), s.size(), /*durable=*/false);
}

void rates_merge(Rates& a, const Rates& b) {
  if (b.has_compute) {
    a.has_compute = true;
    for (const GemmRate& e : b.compute.gemm) {
      bool replaced = false;
      for (GemmRate& x : a.compute.gemm) {
        if (x.m == e.m && x.n == e.n && x.k == e.k && x.op == e.op && x.threads == e.threads &&
            x.concurrency == e.concurrency) {
          x = e;
          replaced = true;
        }
      }
      if (!replaced) a.compute.gemm.push_back(e);
    }
    for (const KernelRate& e : b.compute.kernels) {
      bool replaced = false;
      for (KernelRate& x : a.compute.kernels) {
        if (x.kind == e.kind && x.elems == e.elems && x.threads == e.threads &&
            x.concurrency == e.concurrency) {
          x = e;
          replaced = true;
        }
      }
      if (!replaced) a.compute.kernels.push_back(e);
    }
  }
  if (b.has_intra) a.intra_host = b.intra_host, a.has_intra = true;
  if (b.has_inter) a.inter_host = b.inter_host, a.has_inter = true;
}

double rates_gemm_seconds(const ComputeRates& c, int64_t m, int64_t n, int64_t k,
                          const std::string& op, int threads, int concurrency, bool cpu) {
  if (c.gemm.empty()) throw input_error("rates: no measured sgemm (compute.gemm is empty)");
  const double M = static_cast<double>(m), N = static_cast<double>(n), K = static_cast<double>(k);
  auto dist = [&](const GemmRate& e) {
    return log_distance(M, N, K, static_cast<double>(e.m), static_cast<double>(e.n),
                        static_cast<double>(e.k)) + (e.op == op ? 0.0 : 0.01);
  };
  int i = nearest(c.gemm, [&](const GemmRate& e) {
    return e.threads == threads && e.concurrency == concurrency;
  }, dist);
  double scale = 1.0;
  if (i < 0) {  // another thread count: rates scale with the threads (cores) used
    i = nearest(c.gemm, [](const GemmRate&) { return true; }, [&](const GemmRate& e) {
      const double t = std::log(static_cast<double>(e.threads) / threads);
      const double q = std::log(static_cast<double>(e.concurrency) / concurrency);
      return dist(e) + 4.0 * (t * t + q * q);
    });
    scale = static_cast<double>(threads) / c.gemm[static_cast<std::size_t>(i)].threads;
  }
  const GemmRate& e = c.gemm[static_cast<std::size_t>(i)];
  // A CPU-second rate does not depend on how many threads share the work.
  const double rate = cpu ? e.gflops_cpu * 1e9 : e.gflops * 1e9 * scale;
  return 2.0 * M * N * K / rate;
}

double rates_kernel_bandwidth(const ComputeRates& c, const std::string& kind, int64_t elems,
                              int threads, int concurrency, bool cpu) {
  const double E = static_cast<double>(elems);
  auto dist = [&](const KernelRate& e) {
    const double d = std::log(E / static_cast<double>(e.elems));
    return d * d;
  };
  int i = nearest(c.kernels, [&](const KernelRate& e) {
    return e.kind == kind && e.threads == threads && e.concurrency == concurrency;
  }, dist);
  double scale = 1.0;
  if (i < 0) {
    i = nearest(c.kernels, [&](const KernelRate& e) { return e.kind == kind; },
                [&](const KernelRate& e) {
                  const double t = std::log(static_cast<double>(e.threads) / threads);
                  const double q = std::log(static_cast<double>(e.concurrency) / concurrency);
                  return dist(e) + 4.0 * (t * t + q * q);
                });
    if (i < 0)
      throw input_error(str("rates: no measured '", kind, "' kernel bandwidth (compute.kernels)"),
                        "recalibrate with weft plan --calibrate --save-rates FILE");
    scale = static_cast<double>(threads) / c.kernels[static_cast<std::size_t>(i)].threads;
  }
  const KernelRate& e = c.kernels[static_cast<std::size_t>(i)];
  return cpu ? e.gbs_cpu * 1e9 : e.gbs * 1e9 * scale;
}

bool rates_has_gemm(const ComputeRates& c, int64_t m, int64_t n, int64_t k, const std::string& op,
                    int threads, int concurrency) {
  for (const GemmRate& e : c.gemm)
    if (e.m == m && e.n == n && e.k == k && e.op == op && e.threads == threads &&
        e.concurrency == concurrency)
      return true;
  return false;
}

bool rates_has_kernel(const ComputeRates& c, const std::string& kind, int64_t elems, int threads,
                      int concurrency) {
  for (const KernelRate& e : c.kernels)
    if (e.kind == kind && e.elems == elems && e.threads == threads && e.concurrency == concurrency)
      return true;
  return false;
}

}  // namespace weft::plan
