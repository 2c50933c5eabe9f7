// This machine's measured rates (`weft plan --calibrate --save-rates FILE`, read back by
// `--rates FILE`): sgemm FLOP/s per shape, effective bandwidth of weft's memory-bound
// kernels, and α–β of the links between local ranks (the "comm" object `weft bench comm
// --json` writes). Plain values and pure functions (file I/O aside); any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/hardware.hpp"

namespace weft::plan {

// One measured sgemm C(m,n) = A(m,k)·B(k,n) in weft's three layouts: "nt" (forward,
// out = inp·Wᵀ), "nn" (backward d input), "tn" (backward d weight). Measured while
// `concurrency` copies run at once (one per local rank), each on `threads` threads.
struct GemmRate {
  int64_t m = 0, n = 0, k = 0;
  std::string op;          // "nt", "nn" or "tn"
  int threads = 1, concurrency = 1;
  double gflops = 0;       // 2mnk / median wall seconds of one call
  double gflops_cpu = 0;   // 2mnk / median CPU seconds of one call (all its threads)
};

// Effective bandwidth of one family of weft's memory-bound kernels: closed-form bytes
// (local_step.hpp) / measured time, at a working set of `elems` floats.
//   "layer": layernorm, GELU, residual adds of one block (fwd + bwd);
//   "classifier": softmax/cross-entropy over the vocabulary;   "adamw": the optimizer step;
//   "fault": memory given back to the OS (madvise DONTNEED) and touched again (+=): the
//   page faults of ZeRO-2/3's released gradients, per byte released.
struct KernelRate {
  std::string kind;
  int64_t elems = 0;
  int threads = 1, concurrency = 1;
  double gbs = 0;       // GB/s (1e9 bytes) on the wall clock
  double gbs_cpu = 0;   // GB/s per CPU-second (all its threads)
};

struct ComputeRates {
  std::vector<GemmRate> gemm;
  std::vector<KernelRate> kernels;
};

// One link: time(M bytes) = alpha_s + M · beta_s_per_byte.
struct LinkRate {
  double alpha_s = 0;
  double beta_s_per_byte = 0;
};

struct Rates {
  bool has_compute = false;
  ComputeRates compute;
  bool has_intra = false, has_inter = false;
  LinkRate intra_host, inter_host;
};

// Used where a rates file has no comm section: a shared-memory copy between two local
// ranks (5 µs, 10 GB/s) and, between hosts, 25 GbE (20 µs, 3.125 GB/s).
LinkRate default_intra_host();
LinkRate default_inter_host();
// The link the planner uses, with `name` saying where it came from.
LinkSpec rates_link(const Rates& r, bool inter);

nlohmann::json rates_to_json(const Rates& r);
// Throws an input error naming `where` and the field ("compute.gemm[3].gflops: must be a
// positive number"). Either of "compute" and "comm" may be absent; a file holding only
// {"intra_host", "inter_host"} (what `weft bench comm --json` writes) is read as "comm".
Rates rates_from_json(const nlohmann::json& j, const std::string& where);
Rates rates_load(const std::string& path);
// Writes atomically. Refuses to replace an existing file unless `replace`.
void rates_save(const std::string& path, const Rates& r, bool replace);

// Adds b's entries to a, replacing entries of a with the same key (shape, op, threads,
// concurrency / kind, size, threads, concurrency); b's comm sections win where present.
void rates_merge(Rates& a, const Rates& b);

// Seconds of one sgemm (m,n,k,op) on `threads` threads with `concurrency` ranks busy,
// `cpu`: CPU-seconds instead of wall seconds. Uses the measured entry of the same
// threads/concurrency nearest in log-shape (scaled by FLOPs); other thread counts are
// scaled by threads. Throws an input error when there is no gemm entry at all.
double rates_gemm_seconds(const ComputeRates& c, int64_t m, int64_t n, int64_t k,
                          const std::string& op, int threads, int concurrency, bool cpu);
// Bytes/s of a kernel family at `elems` floats (nearest size, as above).
double rates_kernel_bandwidth(const ComputeRates& c, const std::string& kind, int64_t elems,
                              int threads, int concurrency, bool cpu);
// Whether an entry with exactly this key exists (calibration skips those).
bool rates_has_gemm(const ComputeRates& c, int64_t m, int64_t n, int64_t k, const std::string& op,
                    int threads, int concurrency);
bool rates_has_kernel(const ComputeRates& c, const std::string& kind, int64_t elems, int threads,
                      int concurrency);

}  // namespace weft::plan
