// Per-GPU memory of a training run: model states under ZeRO (Rajbhandari et al. 2020)
// and activations (Korthikanti et al. 2022). Pure functions of their arguments; any thread.
// All sizes in bytes.
#pragma once

#include "plan/layout.hpp"

namespace weft::plan {

struct ModelStateBytes {
  double params = 0, grads = 0, optimizer = 0;
  double total() const { return params + grads + optimizer; }
};

// Model states for `psi` parameters sharded over `dp` ranks at ZeRO `stage`.
// Mixed precision: fp16 params 2Ψ, fp16 grads 2Ψ, fp32 master+momentum+variance 12Ψ (K = 12).
// fp32 training: params 4Ψ, grads 4Ψ, Adam moments 8Ψ. Stage ≥1 shards the optimizer
// state, ≥2 also the gradients, 3 also the parameters.
ModelStateBytes model_state_bytes(double psi, int stage, int dp, bool mixed);

// Activation bytes of one transformer layer for one micro-batch, per Korthikanti et al.
// 2022 Table 2 (16-bit activations; ×2 in fp32):
//   no parallelism            s·b·h·(34 + 5·a·s/h)
//   tensor parallel           s·b·h·(10 + 24/t + 5·a·s/(h·t))
//   tensor + sequence par.    s·b·h·(34 + 5·a·s/h) / t
//   selective recompute       s·b·h·34 / t   (with sequence parallel; 10 + 24/t without)
//   full recompute            2·s·b·h        (only the layer input is kept)
double activation_bytes_per_layer(const ModelSpec& m, const Layout& l);

// Parameters held by the busiest GPU: the first pipeline stage (l/pp layers plus the
// embeddings), divided by tp.
double params_per_gpu(const ModelSpec& m, const Layout& l);

struct MemoryReport {
  ModelStateBytes states;
  double activations = 0;   // on the first stage: per-layer · l/pp · micro-batches in flight
  int64_t in_flight = 0;    // micro-batches whose activations the first stage holds (interleaved: chunks/v, rounded up)
  double total = 0;
  double usable = 0;        // device memory · usable fraction
  bool fits = false;
};

MemoryReport memory_estimate(const RunSpec& run);

}  // namespace weft::plan
