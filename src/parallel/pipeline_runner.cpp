// One pipeline step on one stage. See pipeline_runner.hpp.
#include "parallel/pipeline_runner.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace weft::parallel {
namespace {

constexpr int kTagActivation = 0;  // stage s -> s+1, micro-batch order
constexpr int kTagGradient = 1;    // stage s+1 -> s, micro-batch order

}  // namespace

PipelineRunner::PipelineRunner(comm::Communicator& pp, PipeSchedule schedule, int micro_batches,
                               std::size_t message_floats)
    : pp_(pp),
      schedule_(schedule),
      m_(micro_batches),
      stage_(pp.rank()),
      stages_(pp.size()),
      slots_(pipe_max_in_flight(schedule, pp.rank(), pp.size(), micro_batches)),
      floats_(message_floats),
      actions_(pipe_actions(schedule, pp.rank(), pp.size(), micro_batches)) {
  if (stage_ > 0) recv_act_.allocate(floats_);
  if (stage_ + 1 < stages_) recv_grad_.allocate(floats_);
  if (stage_ > 0) send_grad_.allocate(floats_ * static_cast<std::size_t>(m_));
}

PipeTimes PipelineRunner::run(const PipeCallbacks& cb, int step) {
  PipeTimes times;
  const double t_start = Tracer::now_us();
  const bool first = stage_ == 0, last = stage_ + 1 == stages_;
  // Pending sends: the forward output of each micro-batch (read from the caller's
  // buffer, which stays valid until that micro's backward) and each input gradient.
  std::vector<comm::Request> fwd_sends(static_cast<std::size_t>(m_));
  std::vector<comm::Request> grad_sends(static_cast<std::size_t>(m_));
  auto context = [&](const char* what, int micro) {
    return str("step ", step + 1, " micro-batch ", micro, " ", what, " (pipeline stage ", stage_,
               ")");
  };
  auto timed_recv = [&](float* buf, int peer, int tag, const char* what, int micro) {
    const double t0 = Tracer::now_us();
    pp_.recv(std::span<float>(buf, floats_), peer, tag, context(what, micro));
    const double t1 = Tracer::now_us();
    times.recv_ms += (t1 - t0) / 1e3;
    if (tracer_)
      tracer_->add("recv " + std::string(what), "recv", TraceLane::kComm, t0, t1, step, micro);
  };
  auto traced_send = [&](const float* buf, int peer, int tag, const char* what, int micro) {
    const double t0 = Tracer::now_us();
    comm::Request r =
        pp_.isend(std::span<const float>(buf, floats_), peer, tag, context(what, micro));
    if (tracer_)
      tracer_->add("send " + std::string(what), "send", TraceLane::kComm, t0, Tracer::now_us(),
                   step, micro);
    return r;
  };

  for (const PipeAction& a : actions_) {
    const std::size_t i = static_cast<std::size_t>(a.micro);
    if (a.forward) {
      if (!first) timed_recv(recv_act_.data(), stage_ - 1, kTagActivation, "activation", a.micro);
      const double t0 = Tracer::now_us();
      const float* out = cb.forward(a.micro, first ? nullptr : recv_act_.data());
      const double t1 = Tracer::now_us();
      times.compute_ms += (t1 - t0) / 1e3;
      if (tracer_) tracer_->add("forward", "forward", TraceLane::kCompute, t0, t1, step, a.micro);
      if (!last) {
        WEFT_CHECK(out != nullptr, "forward callback returned no output on stage ", stage_);
        fwd_sends[i] = traced_send(out, stage_ + 1, kTagActivation, "activation", a.micro);
      }
    } else {
      if (!last) {
        timed_recv(recv_grad_.data(), stage_ + 1, kTagGradient, "gradient", a.micro);
        // The next stage answered, so it holds our activation: the send is done.
        fwd_sends[i].wait();
      }
      const double t0 = Tracer::now_us();
      const float* din = cb.backward(a.micro, last ? nullptr : recv_grad_.data());
      const double t1 = Tracer::now_us();
      times.compute_ms += (t1 - t0) / 1e3;
      if (tracer_) tracer_->add("backward", "backward", TraceLane::kCompute, t0, t1, step, a.micro);
      if (!first) {
        WEFT_CHECK(din != nullptr, "backward callback returned no input gradient on stage ",
                   stage_);
        float* buf = send_grad_.data() + i * floats_;
        std::copy(din, din + floats_, buf);
        grad_sends[i] = traced_send(buf, stage_ - 1, kTagGradient, "gradient", a.micro);
      }
    }
  }
  const double t_wait = Tracer::now_us();
  for (auto& r : fwd_sends) r.wait();
  for (auto& r : grad_sends) r.wait();
  const double t_end = Tracer::now_us();
  if (tracer_ && t_end - t_wait > 1.0)
    tracer_->add("send wait", "send", TraceLane::kComm, t_wait, t_end, step);
  times.wall_ms = (t_end - t_start) / 1e3;
  return times;
}

}  // namespace weft::parallel
