// A Chrome-trace / Perfetto recorder: each rank records complete spans ("X" events:
// forward, backward, send, recv, allreduce, ...) in its own Tracer; write() gathers
// every rank's spans to rank 0 over the world communicator and writes ONE JSON file
// (pid = world rank, tid 0 = compute, tid 1 = communication). Owned by one rank; the
// rank's thread records. Timestamps: steady clock, which all processes of a node share.
#pragma once

#include <string>
#include <vector>

#include "parallel/comm/communicator.hpp"

namespace weft::parallel {

enum class TraceLane : int { kCompute = 0, kComm = 1 };

class Tracer {
 public:
  explicit Tracer(int rank) : rank_(rank) {}
  static double now_us();  // microseconds on the steady clock
  // A span [t0_us, t1_us) named `name` in category `cat`; step/micro go to args (-1: none).
  void add(std::string name, const char* cat, TraceLane lane, double t0_us, double t1_us,
           int step = -1, int micro = -1);
  std::size_t size() const { return spans_.size(); }
  // Collective over `world`: rank 0 writes `path` (atomically); `process_name` labels
  // each rank's row ("rank 3 pp1 dp0"). Throws io errors on rank 0.
  void write(comm::Communicator& world, const std::string& path, const std::string& process_name);

 private:
  struct Span {
    std::string name;
    const char* cat;
    TraceLane lane;
    double t0, t1;
    int step, micro;
  };
  int rank_;
  std::vector<Span> spans_;
};

// Records [construction, destruction) as one span when tracer != nullptr.
class TraceSpan {
 public:
  TraceSpan(Tracer* tracer, const char* name, const char* cat, TraceLane lane, int step = -1,
            int micro = -1)
      : tracer_(tracer),
        name_(name),
        cat_(cat),
        lane_(lane),
        step_(step),
        micro_(micro),
        t0_(tracer ? Tracer::now_us() : 0.0) {}
  ~TraceSpan() {
    if (tracer_) tracer_->add(name_, cat_, lane_, t0_, Tracer::now_us(), step_, micro_);
  }
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;

 private:
  Tracer* tracer_;
  const char* name_;
  const char* cat_;
  TraceLane lane_;
  int step_, micro_;
  double t0_;
};

}  // namespace weft::parallel
