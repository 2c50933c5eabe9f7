// Text and JSON of a local-rank prediction (local_step.hpp) and of a rates file's
// contents (rates.hpp), for `weft plan --calibrate / --rates`. Pure; any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "plan/local_step.hpp"
#include "plan/rates.hpp"

namespace weft::plan {

// One line per measured sgemm and kernel, then the link.
std::string local_rates_text(const Rates& r);
// `wall`: priced with wall-clock rates; `cpu`: with CPU-second rates (same run).
std::string local_report_text(const LocalRun& run, const LocalStepReport& wall,
                              const LocalStepReport& cpu);
// Keys: run {model, layers, hidden, heads, vocab, seq, dp, tp, pp, micro_batch,
// global_batch, micro_batches, threads_per_rank, ranks}, step_s, cpu_s, pipeline_s,
// wte_sync_s, dp_comm_s, optimizer_s, flops, link, stages [{gemm_s, attention_s, memory_s,
// tp_comm_s, pp_comm_s, micro_batch_s, optimizer_s}], cpu {step_s, stages...}.
nlohmann::json local_report_json(const LocalRun& run, const LocalStepReport& wall,
                                 const LocalStepReport& cpu);

}  // namespace weft::plan
