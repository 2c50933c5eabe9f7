// Layout names, parsing and validation.
#include "plan/layout.hpp"

#include "core/error.hpp"

namespace weft::plan {

std::string recompute_name(Recompute r) {
  switch (r) {
    case Recompute::kNone: return "none";
    case Recompute::kSelective: return "selective";
    case Recompute::kFull: return "full";
  }
  return "?";
}

std::string schedule_name(Schedule s) {
  switch (s) {
    case Schedule::k1F1B: return "1f1b";
    case Schedule::kGPipe: return "gpipe";
    case Schedule::kInterleaved: return "interleaved";
  }
  return "?";
}

std::string utilization_name(Utilization u) {
  switch (u) {
    case Utilization::kMath: return "math";
    case Utilization::kModelFlops: return "mfu";
    case Utilization::kHardwareFlops: return "hfu";
  }
  return "?";
}

Recompute recompute_parse(const std::string& s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "full") return Recompute::kFull;
  throw input_error(str("--recompute: unknown value '", s, "'"), "use none, selective or full");
}

Schedule schedule_parse(const std::string& s) {
  if (s == "1f1b") return Schedule::k1F1B;
  if (s == "gpipe") return Schedule::kGPipe;
  if (s == "interleaved") return Schedule::kInterleaved;
  throw input_error(str("--schedule: unknown value '", s, "'"), "use 1f1b, gpipe or interleaved");
}

std::string layout_interleave_problem(const ModelSpec& m, const Layout& l) {
  if (l.schedule != Schedule::kInterleaved) {
    return l.virtual_stages == 1 ? "" : "virtual stages need --schedule interleaved";
  }
  if (l.virtual_stages < 2) return str("interleaved schedule needs virtual stages >= 2, got ", l.virtual_stages);
  if (l.pp <= 2) return str("interleaved schedule needs pp > 2, got pp=", l.pp);
  if (m.layers % (static_cast<int64_t>(l.pp) * l.virtual_stages) != 0) {
    return str("layers ", m.layers, " are not divisible by pp*virtual stages = ", l.pp, "*",
               l.virtual_stages);
  }
  const int64_t dpb = static_cast<int64_t>(l.dp) * l.micro_batch;
  if (dpb > 0 && (l.global_batch / dpb) % l.pp != 0) {
    return str("interleaved schedule needs micro-batches m = ", l.global_batch / dpb,
               " to be a multiple of pp = ", l.pp);
  }
  return "";
}

int64_t layout_micro_batches(const Layout& l) {
  return l.global_batch / (static_cast<int64_t>(l.dp) * l.micro_batch);
}

void run_validate_common(const RunSpec& run) {
  model_validate(run.model);
  cluster_validate(run.cluster);
  if (run.layout.global_batch <= 0) {
    throw config_error(str("global batch must be positive, got ", run.layout.global_batch));
  }
  if (run.tokens <= 0) throw input_error(str("training tokens must be positive, got ", run.tokens));
  if (!(run.mfu > 0 && run.mfu <= 1)) throw input_error(str("MFU must be in (0, 1], got ", run.mfu));
  if (!(run.mem_usable > 0 && run.mem_usable <= 1)) {
    throw input_error(str("usable memory fraction must be in (0, 1], got ", run.mem_usable));
  }
}

void run_validate(const RunSpec& run) {
  run_validate_common(run);
  const Layout& l = run.layout;
  const ModelSpec& m = run.model;
  if (l.dp <= 0 || l.tp <= 0 || l.pp <= 0) {
    throw config_error(str("layout dp, tp, pp must be positive, got dp=", l.dp, " tp=", l.tp,
                           " pp=", l.pp));
  }
  const int64_t world = static_cast<int64_t>(l.dp) * l.tp * l.pp;
  if (world != run.cluster.gpus) {
    throw config_error(str("layout dp*tp*pp = ", l.dp, "*", l.tp, "*", l.pp, " = ", world,
                           " but the cluster has ", run.cluster.gpus, " GPUs"),
                       "set --gpus to dp*tp*pp or change --dp/--tp/--pp");
  }
  if (m.heads % l.tp != 0) {
    throw config_error(str("heads ", m.heads, " are not divisible by tp ", l.tp));
  }
  if (m.layers % l.pp != 0) {
    throw config_error(str("layers ", m.layers, " are not divisible by pp ", l.pp));
  }
  if (l.micro_batch <= 0) throw config_error(str("micro-batch must be positive, got ", l.micro_batch));
  if (l.global_batch <= 0 || l.global_batch % (static_cast<int64_t>(l.dp) * l.micro_batch) != 0) {
    throw config_error(str("global batch ", l.global_batch, " is not a positive multiple of dp*micro-batch = ",
                           static_cast<int64_t>(l.dp) * l.micro_batch));
  }
  if (l.zero < 0 || l.zero > 3) throw config_error(str("ZeRO stage must be 0..3, got ", l.zero));
  const std::string interleave = layout_interleave_problem(m, l);
  if (!interleave.empty()) throw config_error(interleave, "see docs/plan.md, interleaved schedule");
}

}  // namespace weft::plan
