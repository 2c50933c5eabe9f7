// Data parallelism and ZeRO 0-3 through the model's hooks. See data_parallel.hpp.
#include "parallel/data_parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>

#include "core/error.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "parallel/page_release.hpp"

namespace weft::parallel {
DataParallel::DataParallel(comm::Communicator& comm, model::GptModel& model,
                           const DataParallelOptions& options)
    : comm_(comm),
      model_(model),
      options_(options),
      plan_(model.layout(), model.config().n_layer, comm.size(),
            std::max<std::size_t>(options.bucket_bytes / sizeof(float), 1), options.zero == 3),
      rank_(comm.rank()),
      n_(comm.size()) {
  if (options_.zero < 0 || options_.zero > 3)
    throw config_error(str("--zero ", options_.zero, ": expected 0, 1, 2 or 3"));
  // WEFT_DP_PROGRESS_IN_BLOCKS=1|0: also test pending reductions inside blocks (A/B).
  if (const char* e = std::getenv("WEFT_DP_PROGRESS_IN_BLOCKS"); e != nullptr && *e != '\0')
    options_.progress_in_blocks = *e != '0';
  const std::size_t nb = plan_.buckets().size();
  gather_.resize(nb);
  gathering_.assign(nb, 0);
  resident_.assign(nb, 1);
  if (options_.zero >= 1) {
    m_.allocate(plan_.shard_floats());
    v_.allocate(plan_.shard_floats());
  }
  std::size_t off = 0;
  for (const DpBucket& bk : plan_.buckets()) {
    bucket_shard_off_.push_back(off);
    for (const DpRange& r : bk.ranges) off += plan_.piece(r) + (r.end - plan_.tail_begin(r));
  }
  if (options_.zero == 3) {
    // Every rank starts from the same weights; from now on only the own pieces count.
    for (std::size_t b = 0; b < nb; ++b) {
      resident_[b] = 0;
      poison_params(static_cast<int>(b));
      release_params(static_cast<int>(b));
    }
  }
  if (options_.zero >= 2 && n_ > 1 && model_.grads() != nullptr)
    for (std::size_t b = 0; b < nb; ++b) release_grads(static_cast<int>(b));
  // wte early: the whole model on this rank (a tp rank holds a vocabulary slice, a
  // pipeline splits the LM head from the embedding).
  const model::ParamTensor& wte = model_.layout()[model::ParamId::kWte];
  if (options_.early_wte && n_ > 1 && model_.grads() != nullptr && model_.tp().size == 1 &&
      model_.first_stage() && model_.last_stage()) {
    WEFT_CHECK(wte.size == static_cast<std::size_t>(model_.config().padded_vocab) *
                               static_cast<std::size_t>(model_.config().n_embd));
    for (const DpBucket& bk : plan_.buckets())
      for (const DpRange& r : bk.ranges)
        if (r.tensor == static_cast<int>(model::ParamId::kWte)) wte_range_ = r;
    WEFT_CHECK(wte_range_.begin == wte.offset && wte_range_.end == wte.offset + wte.size);
    wte_ = std::make_unique<WteSplit>(wte.offset, model_.config().padded_vocab,
                                      model_.config().n_embd);
  }
  model_.set_hooks(this);
}

DataParallel::~DataParallel() {
  model_.set_hooks(nullptr);
  // ZeRO-1/2 gathers still in flight write into the model: finish them (a failed
  // peer has already been reported by whoever waited first).
  try {
    for (std::size_t b = 0; b < gather_.size(); ++b)
      for (comm::Request& r : gather_[b]) r.wait();
  } catch (const std::exception&) {
  }
}

std::string DataParallel::context(const char* what, int b) const {
  return str("step ", step_ + 1, " bucket ", b, " ", what);
}

void DataParallel::begin_micro(bool sync) {
  sync_ = sync;
}

void DataParallel::progress() {
  // Test every request, not only the oldest: a rank-ordered MPI reduction moves to its
  // next phase only inside its own test(), so later buckets advance too.
  if (wte_ && wte_->active() && !wte_early_started_) (void)wte_->union_ready();
  for (comm::Request& r : wte_early_) r.test();
  for (std::size_t i = pending_done_; i < pending_.size(); ++i) pending_[i].test();
  while (pending_done_ < pending_.size() && pending_[pending_done_].done()) ++pending_done_;
  release_finished_buckets();
}

void DataParallel::release_finished_buckets() {
  while (marks_done_ < bucket_marks_.size() && bucket_marks_[marks_done_].first <= pending_done_)
    release_grads(bucket_marks_[marks_done_++].second);
}

// ZeRO-2/3: after its reduce-scatter only the own pieces (and tails) of a bucket's
// gradient are kept; the rest goes back to the OS (zero on the next touch).
void DataParallel::release_grads(int b) {
  if (options_.zero < 2 || n_ == 1 || options_.poison_released || !options_.release_grads)
    return;
  float* g = model_.grads();
  for (const DpRange& r : plan_.buckets()[static_cast<std::size_t>(b)].ranges) {
    release_range(g, r.begin, plan_.piece_begin(r, rank_), options_.release_grain);
    release_range(g, plan_.piece_begin(r, rank_) + plan_.piece(r), plan_.tail_begin(r),
                  options_.release_grain);
  }
}

void DataParallel::zero_grads() {
  if (options_.zero < 2 || n_ == 1 || options_.poison_released || !options_.release_grads) {
    model_.zero_grad();
    return;
  }
  float* g = model_.grads();
  for (std::size_t b = 0; b < plan_.buckets().size(); ++b) {
    for (const DpRange& r : plan_.buckets()[b].ranges) {
      std::fill(g + plan_.piece_begin(r, rank_), g + plan_.piece_begin(r, rank_) + plan_.piece(r),
                0.0f);
      std::fill(g + plan_.tail_begin(r), g + r.end, 0.0f);
    }
    release_grads(static_cast<int>(b));
  }
}

void DataParallel::start_range_reduce(const DpRange& r, const std::string& ctx,
                                      std::vector<comm::Request>& out) {
  float* g = model_.grads();
  if (options_.zero == 0) {
    out.push_back(comm_.iall_reduce(g + r.begin, g + r.begin, r.size(), comm::DType::kF32,
                                    comm::ReduceOp::kSum, ctx));
    return;
  }
  const std::size_t c = plan_.piece(r);
  if (c > 0)
    out.push_back(comm_.ireduce_scatter(g + r.begin, g + plan_.piece_begin(r, rank_), c,
                                        comm::DType::kF32, comm::ReduceOp::kSum, ctx));
  const std::size_t tb = plan_.tail_begin(r);
  if (tb < r.end)
    out.push_back(comm_.iall_reduce(g + tb, g + tb, r.end - tb, comm::DType::kF32,
                                    comm::ReduceOp::kSum, ctx));
}

void DataParallel::start_bucket_reduce(int b) {
  const std::string ctx = context(options_.zero == 0 ? "grads" : "grad shards", b);
  for (const DpRange& r : plan_.buckets()[static_cast<std::size_t>(b)].ranges) {
    if (wte_ && wte_->active() && r.begin == wte_range_.begin) continue;  // early + late
    start_range_reduce(r, ctx, pending_);
  }
}

// ---- wte early reduction (dp_wte_split.hpp) ----------------------------------

void DataParallel::wte_begin() {
  wte_->begin(comm_, model_.slot_tokens(), str("step ", step_ + 1, " wte rows"));
}

// The head's backward is done: wte's gradient is final outside the touched rows.
void DataParallel::wte_start_early() {
  Stopwatch sw;
  wte_->wait_union();
  exposed_ms_ += sw.ms();
  wte_->take_touched(model_.grads());
  start_range_reduce(wte_range_, str("step ", step_ + 1, " wte early"), wte_early_);
  wte_early_started_ = true;
}

// Before the embedding backward adds into the touched rows.
void DataParallel::wte_finish_early() {
  Stopwatch sw;
  for (comm::Request& r : wte_early_) r.wait();
  wte_early_.clear();
  exposed_ms_ += sw.ms();
  wte_->restore_touched(model_.grads());
}

void DataParallel::wte_start_late() {
  const std::span<float> rows = wte_->pack(model_.grads());
  if (!rows.empty())  // every rank holds the same union, so all skip together
    wte_late_ = comm_.iall_reduce(rows.data(), rows.data(), rows.size(), comm::DType::kF32,
                                  comm::ReduceOp::kSum, str("step ", step_ + 1, " wte late"));
}

// After wte_late_ completed: the touched rows' sums into what this rank keeps.
void DataParallel::wte_finish_late() {
  float* g = model_.grads();
  const DpRange& r = wte_range_;
  if (options_.zero == 0) {
    wte_->unpack(g, r.begin, r.end);
  } else {
    wte_->unpack(g, plan_.piece_begin(r, rank_), plan_.piece_begin(r, rank_) + plan_.piece(r));
    wte_->unpack(g, plan_.tail_begin(r), r.end);
  }
  wte_->end();
  wte_early_started_ = false;
}

void DataParallel::grads_ready(int unit) {
  if (!sync_ || n_ == 1) return;
  const bool wte_now = wte_ && wte_->active();
  const int b = plan_.bucket_of_unit(unit);
  const bool bucket_ends = plan_.buckets()[static_cast<std::size_t>(b)].units.back() == unit;
  // The early reduction may start from the head's grads_ready on. It waits for the
  // union only when it must go now: before any other collective (a bucket; ZeRO-3's
  // gathers in params_needed) and before the embedding backward (unit 0), so every
  // rank starts the same collectives in the same order; else a rank whose peer has
  // not reached its backward yet goes on computing.
  if (wte_now && !wte_early_started_ &&
      (options_.zero == 3 || bucket_ends || unit == 0 || wte_->union_ready()))
    wte_start_early();
  if (bucket_ends) {
    start_bucket_reduce(b);
    bucket_marks_.emplace_back(pending_.size(), b);
  }
  if (wte_now && unit == 0) wte_finish_early();
  if (wte_now && unit == model::kUnitEmbedding) wte_start_late();
  progress();
}

void DataParallel::sum_column_parallel_input_grad(float* /*dinp*/, std::size_t /*n*/) {
  if (sync_ && n_ > 1 && options_.progress_in_blocks) progress();
}

void DataParallel::finish_grads() {
  Stopwatch sw;
  for (comm::Request& r : wte_early_) r.wait();  // (only if backward stopped early)
  wte_early_.clear();
  for (comm::Request& r : pending_) r.wait();
  wte_late_.wait();
  if (wte_ && wte_->active()) wte_finish_late();
  pending_done_ = pending_.size();
  release_finished_buckets();
  pending_.clear();
  pending_done_ = 0;
  bucket_marks_.clear();
  marks_done_ = 0;
  exposed_ms_ += sw.ms();
  if (options_.poison_released && options_.zero >= 2 && n_ > 1) {
    // ZeRO-2/3 keep only the own pieces: prove nothing reads the rest.
    float* g = model_.grads();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const DpBucket& bk : plan_.buckets())
      for (const DpRange& r : bk.ranges) {
        const std::size_t c = plan_.piece(r);
        std::fill(g + r.begin, g + plan_.piece_begin(r, rank_), nan);
        std::fill(g + plan_.piece_begin(r, rank_) + c, g + plan_.tail_begin(r), nan);
      }
  }
}

double DataParallel::grad_sum_squares() {
  const float* g = model_.grads();
  if (options_.zero == 0 || n_ == 1) return cpu::grad_sum_squares(g, model_.num_params());
  double s = 0.0;
  for (const DpBucket& bk : plan_.buckets())
    for (const DpRange& r : bk.ranges) {
      s += cpu::grad_sum_squares(g + plan_.piece_begin(r, rank_), plan_.piece(r));
      if (rank_ == 0)
        s += cpu::grad_sum_squares(g + plan_.tail_begin(r), r.end - plan_.tail_begin(r));
    }
  Stopwatch sw;
  comm_.all_reduce(std::span<double>(&s, 1), comm::ReduceOp::kSum,
                   str("step ", step_ + 1, " grad norm"));
  exposed_ms_ += sw.ms();
  return s;
}

void DataParallel::optimizer_step(const cpu::AdamWConfig& config, float grad_scale) {
  WEFT_CHECK(options_.zero >= 1, "optimizer_step is for ZeRO >= 1");
  ++t_;
  float* p = model_.params();
  const float* g = model_.grads();
  const bool gather = options_.zero <= 2 && n_ > 1;  // ZeRO-3 gathers per unit when used
  std::size_t off = 0;
  auto update = [&](std::size_t at, std::size_t count, bool decay) {
    if (count == 0) return;
    const cpu::AdamWRange range{0, count, decay};
    cpu::adamw_update(p + at, m_.data() + off, v_.data() + off, g + at, count,
                      std::span<const cpu::AdamWRange>(&range, 1), config, t_, grad_scale);
    off += count;
  };
  // Buckets in forward order (the embedding's first): each bucket's all-gather starts
  // as soon as its shard is updated, behind the AdamW of the others.
  for (std::size_t b = plan_.buckets().size(); b-- > 0;) {
    off = bucket_shard_off_[b];
    for (const DpRange& r : plan_.buckets()[b].ranges) {
      update(plan_.piece_begin(r, rank_), plan_.piece(r), r.decay);
      update(plan_.tail_begin(r), r.end - plan_.tail_begin(r), r.decay);
    }
    WEFT_CHECK(off ==
               (b + 1 < plan_.buckets().size() ? bucket_shard_off_[b + 1] : plan_.shard_floats()));
    if (gather) {
      resident_[b] = 0;
      poison_params(static_cast<int>(b));  // --test-poison: NaN until the gather lands
      start_gather(static_cast<int>(b));
    }
  }
  if (gather && !overlap_gathers())
    for (std::size_t b = plan_.buckets().size(); b-- > 0;) wait_gather(static_cast<int>(b));
}

bool DataParallel::overlap_gathers() const {
  return options_.overlap_param_gather && model_.precision() != cpu::Precision::kBf16 &&
         model_.first_stage() && model_.last_stage();
}

// Lets in-flight parameter gathers advance (MPI moves data only inside its calls).
void DataParallel::progress_gathers() {
  for (std::size_t b = 0; b < gather_.size(); ++b)
    if (gathering_[b])
      for (comm::Request& r : gather_[b])
        if (!r.test()) return;
}

// ---- ZeRO-3 ------------------------------------------------------------------

void DataParallel::poison_params(int b) {
  if (!options_.poison_released || n_ == 1) return;
  float* p = model_.params();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const DpRange& r : plan_.buckets()[static_cast<std::size_t>(b)].ranges) {
    std::fill(p + r.begin, p + plan_.piece_begin(r, rank_), nan);
    std::fill(p + plan_.piece_begin(r, rank_) + plan_.piece(r), p + plan_.tail_begin(r), nan);
  }
}

// ZeRO-3: a released unit keeps only its own pieces (and tails) in RAM.
void DataParallel::release_params(int b) {
  if (n_ == 1 || options_.poison_released || !options_.release_params) return;
  float* p = model_.params();
  for (const DpRange& r : plan_.buckets()[static_cast<std::size_t>(b)].ranges) {
    release_range(p, r.begin, plan_.piece_begin(r, rank_), options_.release_grain);
    release_range(p, plan_.piece_begin(r, rank_) + plan_.piece(r), plan_.tail_begin(r),
                  options_.release_grain);
  }
}

void DataParallel::start_gather(int b) {
  const auto ub = static_cast<std::size_t>(b);
  if (resident_[ub] || gathering_[ub]) return;
  float* p = model_.params();
  for (const DpRange& r : plan_.buckets()[ub].ranges)
    if (plan_.piece(r) > 0)
      gather_[ub].push_back(comm_.iall_gather(p + plan_.piece_begin(r, rank_), p + r.begin,
                                              plan_.piece(r), comm::DType::kF32,
                                              context("params", b)));
  gathering_[ub] = 1;
}

void DataParallel::wait_gather(int b) {
  const auto ub = static_cast<std::size_t>(b);
  if (resident_[ub]) return;
  start_gather(b);
  Stopwatch sw;
  for (comm::Request& r : gather_[ub]) r.wait();
  gather_[ub].clear();
  exposed_ms_ += sw.ms();
  gathering_[ub] = 0;
  resident_[ub] = 1;
}

void DataParallel::params_needed(int unit, model::Pass pass) {
  // Start of a synchronising backward: the union of the touched wte rows.
  if (wte_ && sync_ && unit == model::kUnitEmbedding && pass == model::Pass::kBackward)
    wte_begin();
  if (n_ == 1 || options_.zero == 0) return;
  if (options_.zero <= 2) {  // the all-gathers of the last optimizer step
    wait_gather(plan_.bucket_of_unit(unit));
    progress_gathers();
    return;
  }
  const int L = model_.config().n_layer;
  const int head = model::unit_head(L);
  const bool head_resident = resident_[static_cast<std::size_t>(plan_.bucket_of_unit(head))] != 0;
  wait_gather(plan_.bucket_of_unit(unit));
  // Prefetch the unit the model asks for next (forward: E, 0..L-1, H, E;
  // backward: E, H, L-1..0).
  int next = -2;
  if (pass == model::Pass::kForward) {
    if (unit == model::kUnitEmbedding)
      next = head_resident ? -2 : 0;
    else if (unit < L - 1)
      next = unit + 1;
    else if (unit == L - 1)
      next = head;
    else
      next = model::kUnitEmbedding;
  } else {
    if (unit == model::kUnitEmbedding)
      next = head;
    else if (unit == head)
      next = L - 1;
    else if (unit > 0)
      next = unit - 1;
  }
  if (next != -2 && next < L + 1) start_gather(plan_.bucket_of_unit(next));
  progress();
}

void DataParallel::params_done(int unit, model::Pass /*pass*/) {
  if (options_.zero != 3 || n_ == 1) return;
  const int b = plan_.bucket_of_unit(unit);
  const auto ub = static_cast<std::size_t>(b);
  if (gathering_[ub]) return;  // a prefetch for the next use is already in flight
  resident_[ub] = 0;
  poison_params(b);
  release_params(b);
}

void DataParallel::gather_all_params() {
  if (options_.zero == 0 || n_ == 1) return;
  for (std::size_t b = 0; b < plan_.buckets().size(); ++b) start_gather(static_cast<int>(b));
  for (std::size_t b = 0; b < plan_.buckets().size(); ++b) wait_gather(static_cast<int>(b));
}

void DataParallel::wait_param_gathers() {
  for (std::size_t b = 0; b < gather_.size(); ++b)
    if (gathering_[b]) wait_gather(static_cast<int>(b));
}

DpMemory DataParallel::memory() const {
  const double psi = static_cast<double>(model_.num_params());
  const double n = n_;
  const double shard = static_cast<double>(plan_.shard_floats());
  DpMemory m;
  m.params_alloc = m.grads_alloc = 4.0 * psi;
  m.optim_alloc = options_.zero == 0 ? 8.0 * psi : 8.0 * shard;
  m.activations = 4.0 * static_cast<double>(model_.activation_floats());
  m.params_resident = resident_bytes(model_.params(), model_.num_params());
  if (model_.grads() != nullptr) m.grads_resident = resident_bytes(model_.grads(), model_.num_params());
  m.params_held = 4.0 * psi;
  m.grads_held = 4.0 * psi;
  m.optim_held = m.optim_alloc;
  if (options_.zero >= 2) m.grads_held = 4.0 * shard;
  if (options_.zero == 3) {
    std::size_t big = 0, second = 0;
    for (const DpBucket& b : plan_.buckets()) {
      if (b.floats > big) {
        second = big;
        big = b.floats;
      } else if (b.floats > second) {
        second = b.floats;
      }
    }
    m.gather_buffers = 4.0 * static_cast<double>(big + second);
    m.params_held = 4.0 * shard + m.gather_buffers;
  }
  switch (options_.zero) {
    case 0:
      m.formula = 16.0 * psi;
      break;
    case 1:
      m.formula = 8.0 * psi + 8.0 * psi / n;
      break;
    case 2:
      m.formula = 4.0 * psi + 12.0 * psi / n;
      break;
    default:
      m.formula = 16.0 * psi / n;
      break;
  }
  return m;
}

std::string DataParallel::memory_report() const {
  const DpMemory m = memory();
  const double mb = 1.0 / (1 << 20);
  const double held = m.params_held + m.grads_held + m.optim_held;
  const double held_no_gather = held - m.gather_buffers;
  // The packed shard holds N-way pieces plus tails (< N floats per range), so it can
  // exceed Ψ/N by a few floats per range; allow 0.1 % + 64 KiB.
  const bool ok = std::abs(held_no_gather - m.formula) <= 1e-3 * m.formula + 65536.0;
  return str("memory per rank (ZeRO-", options_.zero, ", dp ", n_, ", fp32): params ",
             m.params_held * mb, " MiB, grads ", m.grads_held * mb, " MiB, optimizer ",
             m.optim_held * mb, " MiB (held by ZeRO; allocated ", m.params_alloc * mb, "/",
             m.grads_alloc * mb, "/", m.optim_alloc * mb, " MiB), activations ", m.activations * mb,
             " MiB; ZeRO formula ", m.formula * mb, " MiB",
             options_.zero == 3 ? str(" + gather buffers ", m.gather_buffers * mb, " MiB") : "",
             ok ? " [matches]" : " [MISMATCH]", "; measured resident params ",
             m.params_resident * mb, " MiB, grads ", m.grads_resident * mb, " MiB");
}

double DataParallel::take_exposed_ms() {
  const double ms = exposed_ms_;
  exposed_ms_ = 0.0;
  return ms;
}

}  // namespace weft::parallel
