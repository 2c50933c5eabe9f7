// Runs one pipeline schedule for one optimizer step on one stage: walks the
// stage's action list (pipeline_schedule.hpp), receives the previous stage's
// activations before each forward and the next stage's gradients before each
// backward, and sends its own with isend over the pp communicator (every wait has
// the communicator's timeout). Knows nothing of the model: it calls the step
// callbacks. Holds a reference to the communicator (caller-owned) and owns its
// message buffers. One rank thread calls it.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/pipeline_schedule.hpp"
#include "parallel/trace.hpp"

namespace weft::parallel {

struct PipeCallbacks {
  // Forward of micro-batch `micro`. in: the previous stage's output (nullptr on the
  // first stage). Returns this stage's output (message_floats), nullptr on the last
  // stage; it must stay valid and unchanged until backward(micro).
  std::function<const float*(int micro, const float* in)> forward;
  // Backward of `micro`. dout: d(output) from the next stage (nullptr on the last).
  // Returns d(input) (message_floats), nullptr on the first stage; valid until the
  // next callback.
  std::function<const float*(int micro, const float* dout)> backward;
};

struct PipeTimes {
  double wall_ms = 0;     // the whole schedule on this stage
  double compute_ms = 0;  // inside forward/backward callbacks
  double recv_ms = 0;     // blocked in receives
  double bubble() const { return wall_ms > 0 ? 1.0 - compute_ms / wall_ms : 0.0; }
};

class PipelineRunner {
 public:
  // pp: the pipeline-axis communicator (rank = stage). message_floats: size of one
  // activation (and of its gradient) passed between stages, e.g. B·T·C.
  PipelineRunner(comm::Communicator& pp, PipeSchedule schedule, int micro_batches,
                 std::size_t message_floats);

  int stage() const { return stage_; }
  int stages() const { return stages_; }
  PipeSchedule schedule() const { return schedule_; }
  int micro_batches() const { return m_; }
  // Activation slots this stage needs (pipe_max_in_flight); micro uses slot micro % slots.
  int slots() const { return slots_; }
  void set_tracer(Tracer* tracer) { tracer_ = tracer; }

  // One step (0-based, for error contexts and the trace). Returns this stage's times.
  PipeTimes run(const PipeCallbacks& callbacks, int step);

 private:
  comm::Communicator& pp_;
  PipeSchedule schedule_;
  int m_, stage_, stages_, slots_;
  std::size_t floats_;
  std::vector<PipeAction> actions_;
  AlignedBuffer<float> recv_act_;   // (message_floats) incoming activation
  AlignedBuffer<float> recv_grad_;  // (message_floats) incoming gradient
  AlignedBuffer<float> send_grad_;  // (m, message_floats) outgoing gradients, one per micro
  Tracer* tracer_ = nullptr;
};

}  // namespace weft::parallel
