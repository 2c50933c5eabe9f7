// Data parallelism and ZeRO 0/1/2/3 for a GPT model, as the model's hooks
// (model/model_hooks.hpp): gradient buckets reduced while backward still runs,
// the sharded AdamW of ZeRO-1/2/3 and ZeRO-3's per-unit parameter gathers with
// prefetch. Holds references to the communicator and model (owned by the caller,
// who must keep them alive); owns the sharded optimizer state. One thread (the one
// driving the model) calls everything.
//
// Per optimizer step the caller does:
//   for each micro-batch: begin_micro(last); forward_train; backward   (hooks fire)
//   finish_grads(); norm = sqrt(grad_sum_squares()); optimizer_step(...)  (zero >= 1)
// ZeRO-0 leaves the optimizer to the caller (full AdamW on every rank).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "kernels/cpu/adamw.hpp"
#include "model/gpt_model.hpp"
#include "model/model_hooks.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/dp_plan.hpp"
#include "parallel/dp_wte_split.hpp"
#include "parallel/page_release.hpp"

namespace weft::parallel {

struct DataParallelOptions {
  int zero = 0;                          // ZeRO stage 0..3
  std::size_t bucket_bytes = 25u << 20;  // gradient bucket size (ZeRO-0/1/2)
  // Debug: fill what a rank does not hold (ZeRO-3 released parameters, ZeRO-2
  // non-owned gradients) with NaN, so any read of it shows in the loss.
  bool poison_released = false;
  // Return what a rank does not own to the OS (madvise DONTNEED), so the saving is
  // real: ZeRO-2/3 gradient pieces after their reduce-scatter, ZeRO-3 parameters of
  // released units (off by default: at d6 only wte's pieces span whole 2 MiB pages).
  bool release_grads = true;
  bool release_params = false;
  // Reduce wte's gradient rows that this step's tokens do not touch right after the
  // LM head's backward, the touched rows at the end (dp_wte_split.hpp; whole model
  // on each rank, tp = pp = 1 only). Bitwise the same sums; off = one late reduction.
  bool early_wte = true;
  // Also test pending reductions twice inside each block's backward (model hook
  // sum_column_parallel_input_grad), not only between blocks. Off: on the quiet
  // 2-core VM it cut exposed comm but raised the MPI rank's CPU per step by ~30 %
  // (6 of 6 interleaved runs slower, docs/parallel.md).
  bool progress_in_blocks = false;
  // kHuge: release only whole 2 MiB pages (cheap to fault back; the partial huge
  // pages at piece edges stay resident), kSmall: every 4 KiB page (exact, but each
  // step faults them back one by one). See parallel/page_release.hpp.
  PageGrain release_grain = PageGrain::kHuge;
  // ZeRO-1/2: the parameter all-gather after the sharded AdamW runs on while the
  // next forward starts; each unit waits for its bucket in params_needed. Off
  // under pipeline parallelism and bf16 (both read every parameter right after
  // the step: tied-embedding exchange, bf16 copy).
  bool overlap_param_gather = true;
};

// Bytes one rank keeps per kind: `held` is what the ZeRO stage needs live, `alloc`
// what this process allocated (the model keeps full-size flat buffers; see
// docs/parallel.md). `formula` is the fp32 ZeRO formula for params+grads+optimizer.
struct DpMemory {
  double params_held = 0, grads_held = 0, optim_held = 0;
  double params_alloc = 0, grads_alloc = 0, optim_alloc = 0;
  double activations = 0;
  // Measured (mincore): bytes of the flat parameter / gradient buffers resident
  // in RAM now. Released ZeRO ranges are returned to the OS (madvise DONTNEED).
  double params_resident = 0, grads_resident = 0;
  double formula = 0;         // 16Ψ, 8Ψ+8Ψ/N, 4Ψ+12Ψ/N or 16Ψ/N bytes
  double gather_buffers = 0;  // ZeRO-3: two largest units (current + prefetched)
};

class DataParallel final : public model::ModelHooks {
 public:
  DataParallel(comm::Communicator& comm, model::GptModel& model,
               const DataParallelOptions& options);
  ~DataParallel() override;

  int zero() const { return options_.zero; }
  // Whether wte's gradient is reduced early (options.early_wte and the layout allows).
  bool early_wte() const { return wte_ != nullptr; }
  // Early wte: the distinct rows of the last synchronising micro-batch's tokens over
  // the dp ranks (reduced late, packed); -1 when wte is reduced within its bucket.
  int wte_late_rows() const { return wte_ ? static_cast<int>(wte_->rows().size()) : -1; }
  comm::Communicator& comm() { return comm_; }
  const DpPlan& plan() const { return plan_; }
  void set_step(int step) { step_ = step; }
  // Instead of model.zero_grad() at the start of a step: ZeRO-2/3 zero only the
  // own pieces and return the rest of the gradient buffer to the OS (it reads as
  // zero, so backward's += starts from zero without touching it first).
  void zero_grads();
  // Before each micro-batch: only the last one (sync = true) reduces gradients.
  void begin_micro(bool sync);
  // Waits for every bucket of this step; afterwards (zero >= 1) each rank's own
  // pieces hold the summed gradient, (zero 0) the whole buffer does.
  void finish_grads();
  // Σ g² over the whole summed gradient, identical on every rank.
  double grad_sum_squares();
  // ZeRO >= 1: AdamW on the own shard (gradients × grad_scale), then ZeRO-1/2
  // all-gather the parameters (started bucket by bucket; with overlap_param_gather
  // still in flight on return); ZeRO-3 keeps them sharded.
  void optimizer_step(const cpu::AdamWConfig& config, float grad_scale);
  // Before reading parameters outside the model's hooks (saving, evaluating with
  // another model, comparing): ZeRO-3 gathers every unit, ZeRO-1/2 wait for the
  // all-gathers optimizer_step left in flight.
  void gather_all_params();
  // Waits for the parameter gathers in flight (ZeRO-1/2 after optimizer_step): call
  // before reading the own shard outside the hooks (checkpoint save).
  void wait_param_gathers();
  // Milliseconds spent waiting on communication (not overlapped) since the last call.
  double take_exposed_ms();
  DpMemory memory() const;
  std::string memory_report() const;
  // Checkpoints (ZeRO >= 1): the AdamW moments of the own shard, packed in plan
  // order (shard_floats each), and the AdamW step count.
  float* shard_m() { return m_.data(); }
  float* shard_v() { return v_.data(); }
  std::int64_t adam_steps() const { return t_; }
  void set_adam_steps(std::int64_t t) { t_ = t; }

  // ModelHooks.
  void params_needed(int unit, model::Pass pass) override;
  void params_done(int unit, model::Pass pass) override;
  void grads_ready(int unit) override;
  // Not a tp sum (tp's hooks do that): a point inside a block's backward where pending
  // reductions can make progress (MPI moves only when the rank calls into it).
  void sum_column_parallel_input_grad(float* dinp, std::size_t n) override;

 private:
  void start_bucket_reduce(int b);
  void start_gather(int b);
  void wait_gather(int b);
  void progress_gathers();
  bool overlap_gathers() const;
  void progress();
  void poison_params(int b);
  void release_params(int b);
  void release_grads(int b);
  // The release of bucket b's non-owned gradient pieces once its reduce completes.
  void release_finished_buckets();
  std::string context(const char* what, int b) const;
  // wte early reduction (dp_wte_split.hpp), called from the hooks.
  void wte_begin();
  void wte_start_early();
  void wte_finish_early();
  void wte_start_late();
  void wte_finish_late();
  // Starts the reduction (ZeRO-0 all-reduce, else reduce-scatter + tail) of range r.
  void start_range_reduce(const DpRange& r, const std::string& ctx,
                          std::vector<comm::Request>& out);

  comm::Communicator& comm_;
  model::GptModel& model_;
  DataParallelOptions options_;
  DpPlan plan_;
  int rank_, n_;
  int step_ = 0;
  bool sync_ = true;
  std::vector<comm::Request> pending_;  // bucket reductions of this step, in start order
  std::size_t pending_done_ = 0;        // pending_[0..pending_done_) completed
  // (end index in pending_, bucket): bucket's requests are pending_[..end).
  std::vector<std::pair<std::size_t, int>> bucket_marks_;
  std::size_t marks_done_ = 0;
  // ZeRO-3 state per bucket (= per unit).
  std::vector<std::vector<comm::Request>> gather_;  // per bucket: one per range
  std::vector<char> gathering_, resident_;
  std::vector<std::size_t> bucket_shard_off_;  // where bucket b starts in m_/v_
  // ZeRO >= 1: AdamW moments of the own shard, packed in plan order.
  AlignedBuffer<float> m_, v_;  // (shard_floats)
  std::int64_t t_ = 0;
  double exposed_ms_ = 0.0;
  // wte early reduction: null when off. wte_early_: the untouched rows' reduction
  // (whole wte range with touched rows zeroed); wte_late_: the packed touched rows.
  std::unique_ptr<WteSplit> wte_;
  std::vector<comm::Request> wte_early_;
  bool wte_early_started_ = false;
  comm::Request wte_late_;
  DpRange wte_range_;
};

}  // namespace weft::parallel
