// One pipeline-parallel optimizer step on one stage. See pipeline_step.hpp.
#include "train/pipeline_step.hpp"

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/grad_norm.hpp"
#include "parallel/data_parallel.hpp"
#include "train/nan_check.hpp"

namespace weft::train {
namespace {

constexpr int kTagWteGrad = 2;    // last stage -> first: d(wte) of the LM head
constexpr int kTagWteParams = 3;  // first stage -> last: wte after the update

}  // namespace

PipelineStep::PipelineStep(model::GptModel& model, AdamWOptimizer* optimizer,
                           const cpu::AdamWConfig& adam, const LrSchedule& schedule,
                           float grad_clip, const PipelineStepOptions& options,
                           comm::Communicator& pp, comm::Communicator& world)
    : model_(model),
      optimizer_(optimizer),
      adam_(adam),
      schedule_(schedule),
      grad_clip_(grad_clip),
      o_(options),
      pp_(pp),
      world_(world),
      runner_(pp, options.schedule, options.micro_batches,
              static_cast<std::size_t>(options.B) * options.T * model.config().n_embd),
      x_(static_cast<std::size_t>(options.micro_batches) * options.B * options.T),
      y_(x_.size()) {
  WEFT_CHECK(
      model.first_stage() == (pp.rank() == 0) && model.last_stage() == (pp.rank() + 1 == pp.size()),
      "the stage model does not match pipeline rank ", pp.rank(), " of ", pp.size());
  // Activations for every micro-batch in flight (GPipe: m, 1F1B: at most pp - stage).
  model_.set_activation_slots(runner_.slots());
  if (model.first_stage() && !model.last_stage())
    wte_buf_.allocate(model.layout()[model::ParamId::kWte].size);
  // The last stage's wte is a copy: its gradient goes to the first stage and is zeroed
  // here, and share_tied_embedding overwrites it after the step. Updating it would only
  // stream 28 bytes per element (p, m, v, g) for nothing (m and v stay zero either way).
  if (optimizer_ != nullptr && model.last_stage() && !model.first_stage()) {
    const model::ParamTensor& t = model.layout()[model::ParamId::kWte];
    optimizer_->exclude(t.offset, t.size);
  }
}

void PipelineStep::set_tracer(parallel::Tracer* tracer) {
  tracer_ = tracer;
  runner_.set_tracer(tracer);
}

// The LM head (last stage) and the embedding (first stage) both add into d(wte):
// the first stage sums them and alone counts them in the norm and updates wte; the
// last stage's copy of the gradient is zeroed and its wte refreshed after the step.
void PipelineStep::sum_tied_embedding_grad(int step) {
  if (model_.first_stage() == model_.last_stage()) return;
  const model::ParamTensor& t = model_.layout()[model::ParamId::kWte];
  float* g = model_.grads() + t.offset;
  parallel::TraceSpan span(tracer_, "wte grad sum", "allreduce", parallel::TraceLane::kComm, step);
  const std::string ctx = str("step ", step + 1, " tied embedding gradient");
  if (model_.last_stage()) {
    pp_.send(std::span<const float>(g, t.size), 0, kTagWteGrad, ctx);
    std::memset(g, 0, t.size * sizeof(float));
  } else {
    pp_.recv(std::span<float>(wte_buf_.data(), t.size), pp_.size() - 1, kTagWteGrad, ctx);
    const float* in = wte_buf_.data();
    for (std::size_t i = 0; i < t.size; ++i) g[i] += in[i];
  }
}

void PipelineStep::share_tied_embedding(int step) {
  if (model_.first_stage() == model_.last_stage()) return;
  const model::ParamTensor& t = model_.layout()[model::ParamId::kWte];
  float* p = model_.params() + t.offset;
  parallel::TraceSpan span(tracer_, "wte share", "send", parallel::TraceLane::kComm, step);
  const std::string ctx = str("step ", step + 1, " tied embedding weights");
  if (model_.first_stage())
    pp_.send(std::span<const float>(p, t.size), pp_.size() - 1, kTagWteParams, ctx);
  else
    pp_.recv(std::span<float>(p, t.size), 0, kTagWteParams, ctx);
}

StepStats PipelineStep::run(int step, const BatchSource& next_batch) {
  StepStats s;
  const int m = o_.micro_batches;
  const int dp_size = dp_ ? dp_->comm().size() : 1;
  const std::size_t bt = static_cast<std::size_t>(o_.B) * o_.T;
  if (dp_) dp_->set_step(step);
  Stopwatch total;
  double opt = 0.0, fwd = 0.0, bwd = 0.0, comm_s = 0.0;
  {
    ScopedTimer t(&opt);
    if (dp_) dp_->zero_grads(); else model_.zero_grad();  // ZeRO-2: own pieces only
  }
  // Every rank reads the step's micro-batches (the data stays in lockstep); the first
  // stage uses the tokens, the last the targets.
  for (int i = 0; i < m; ++i) next_batch(x_.data() + i * bt, y_.data() + i * bt);
  // As TrainStep: each micro-batch's loss scaled by 1/(m·dp), so the summed gradient
  // is the gradient of the mean over the global batch.
  const float scale = 1.0f / static_cast<float>(m * dp_size);
  double loss_w = 0.0, weight_sum = 0.0;
  parallel::PipeCallbacks cb;
  cb.forward = [&](int micro, const float* in) -> const float* {
    ScopedTimer t(&fwd);
    model_.use_slot(micro % runner_.slots());
    const std::size_t off = static_cast<std::size_t>(micro) * bt;
    const float loss = model_.forward_train_stage(x_.data() + off, in, y_.data() + off, nullptr,
                                                  o_.B, o_.T, scale);
    if (!model_.last_stage()) return model_.stage_output();
    loss_w += static_cast<double>(loss) * model_.last_weight_sum();
    weight_sum += model_.last_weight_sum();
    return nullptr;
  };
  cb.backward = [&](int micro, const float* dout) -> const float* {
    ScopedTimer t(&bwd);
    model_.use_slot(micro % runner_.slots());
    if (dp_) dp_->begin_micro(micro + 1 == m);  // only the last micro-batch reduces
    model_.backward_stage(dout);
    return model_.first_stage() ? nullptr : model_.stage_input_grad();
  };
  times_ = runner_.run(cb, step);
  {
    ScopedTimer t(&comm_s);
    if (dp_) {
      parallel::TraceSpan span(tracer_, "dp grads", "allreduce", parallel::TraceLane::kComm, step);
      dp_->finish_grads();
    }
    sum_tied_embedding_grad(step);
    parallel::TraceSpan span(tracer_, "loss", "allreduce", parallel::TraceLane::kComm, step);
    double sums[2] = {loss_w, weight_sum};  // non-zero on the last stage only
    world_.all_reduce(std::span<double>(sums, 2), comm::ReduceOp::kSum,
                      str("step ", step + 1, " loss"));
    s.loss = sums[0] / sums[1];
  }
  {
    ScopedTimer t(&opt);
    if (grad_hook_) grad_hook_(step, model_.grads());
    double sq = grad_sum_squares_ ? grad_sum_squares_()
                : dp_             ? dp_->grad_sum_squares()
                                  : cpu::grad_sum_squares(model_.grads(), model_.num_params());
    {
      parallel::TraceSpan span(tracer_, "grad norm", "allreduce", parallel::TraceLane::kComm, step);
      pp_.all_reduce(std::span<double>(&sq, 1), comm::ReduceOp::kSum,
                     str("step ", step + 1, " grad norm over stages"));
    }
    s.grad_norm = std::sqrt(sq);
    s.lr = schedule_.at(step);
    // Every rank takes the same branch: the flag is reduced over the whole grid.
    s.nonfinite = nonfinite_grid_check(model_, dp_, s.loss, s.grad_norm, world_, step);
    if (!s.nonfinite.empty() && !skip_nonfinite_)
      throw Error(ErrorKind::kRuntime, str("step ", step + 1, ": ", s.nonfinite, " (--on-nan stop)"),
                  "lower --lr, check the data, resume from the last checkpoint, or pass --on-nan skip");
    s.skipped = !s.nonfinite.empty();
  }
  if (!s.skipped) {
    ScopedTimer t(&opt);
    const float clip = cpu::grad_clip_scale(s.grad_norm, grad_clip_);
    cpu::AdamWConfig c = adam_;
    c.lr = s.lr;
    if (dp_ && dp_->zero() >= 1) {
      dp_->optimizer_step(c, clip);
    } else {
      WEFT_CHECK(optimizer_ != nullptr, "PipelineStep without an optimizer");
      optimizer_->step(model_.params(), model_.grads(), c, clip);
    }
    share_tied_embedding(step);
  }
  s.ms_comm = comm_s * 1e3 + times_.recv_ms + (dp_ ? dp_->take_exposed_ms() : 0.0);
  s.ms_forward = fwd * 1e3;
  s.ms_backward = bwd * 1e3;
  s.ms_optimizer = opt * 1e3;
  s.ms_total = total.ms();
  return s;
}

}  // namespace weft::train
