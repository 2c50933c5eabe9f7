// Memory model: see memory_model.hpp for the formulas and their sources.
#include "plan/memory_model.hpp"

#include <algorithm>

namespace weft::plan {

ModelStateBytes model_state_bytes(double psi, int stage, int dp, bool mixed) {
  ModelStateBytes b;
  b.params = (mixed ? 2.0 : 4.0) * psi;
  b.grads = (mixed ? 2.0 : 4.0) * psi;
  b.optimizer = (mixed ? 12.0 : 8.0) * psi;
  const double n = static_cast<double>(dp);
  if (stage >= 1) b.optimizer /= n;
  if (stage >= 2) b.grads /= n;
  if (stage >= 3) b.params /= n;
  return b;
}

double activation_bytes_per_layer(const ModelSpec& m, const Layout& l) {
  const double s = static_cast<double>(m.seq), b = static_cast<double>(l.micro_batch);
  const double h = static_cast<double>(m.hidden), a = static_cast<double>(m.heads);
  const double t = static_cast<double>(l.tp);
  const double sbh = s * b * h;
  const bool sp = l.sequence_parallel || l.tp == 1;
  double bytes = 0;
  switch (l.recompute) {
    case Recompute::kFull: bytes = 2.0 * sbh; break;
    case Recompute::kSelective: bytes = sp ? sbh * 34.0 / t : sbh * (10.0 + 24.0 / t); break;
    case Recompute::kNone:
      bytes = sp ? sbh * (34.0 + 5.0 * a * s / h) / t
                 : sbh * (10.0 + 24.0 / t + 5.0 * a * s / (h * t));
      break;
  }
  return l.mixed ? bytes : 2.0 * bytes;
}

double params_per_gpu(const ModelSpec& m, const Layout& l) {
  const double layers = static_cast<double>(m.layers / l.pp);
  return (layers * model_layer_params(m) + model_embedding_params(m)) / static_cast<double>(l.tp);
}

MemoryReport memory_estimate(const RunSpec& run) {
  const Layout& l = run.layout;
  MemoryReport r;
  r.states = model_state_bytes(params_per_gpu(run.model, l), l.zero, l.dp, l.mixed);
  const int64_t m = layout_micro_batches(l);
  // 1F1B keeps at most pp micro-batches in flight on the first stage; GPipe keeps all m.
  // Interleaved (Megatron-LM schedules.py): the first stage runs 2(p−1) + (v−1)·p warm-up
  // chunk forwards, then holds one more; a chunk is l/(p·v) layers of one micro-batch.
  const double layers_per_stage = static_cast<double>(run.model.layers / l.pp);
  double stage_loads = 0;  // in units of one micro-batch through the whole stage
  switch (l.schedule) {
    case Schedule::k1F1B: r.in_flight = std::min<int64_t>(l.pp, m); stage_loads = static_cast<double>(r.in_flight); break;
    case Schedule::kGPipe: r.in_flight = m; stage_loads = static_cast<double>(m); break;
    case Schedule::kInterleaved: {
      const int64_t v = l.virtual_stages;
      const int64_t chunks = std::min<int64_t>(2 * (l.pp - 1) + (v - 1) * l.pp + 1, m * v);
      stage_loads = static_cast<double>(chunks) / static_cast<double>(v);
      r.in_flight = (chunks + v - 1) / v;
      break;
    }
  }
  r.activations = activation_bytes_per_layer(run.model, l) * layers_per_stage * stage_loads;
  r.total = r.states.total() + r.activations;
  r.usable = run.cluster.gpu.memory_bytes * run.mem_usable;
  r.fits = r.total <= r.usable;
  return r;
}

}  // namespace weft::plan
