// Stage parameter setup, gather and reports. See pipeline_setup.hpp.
#include "train/pipeline_setup.hpp"

#include <cstdio>
#include <span>

#include "core/error.hpp"
#include "model/stage_params.hpp"
#include "parallel/tp_shard.hpp"

namespace weft::train {

namespace {

model::GptConfig stage_config(model::GptConfig c, const model::StageSpec& s) {
  c.n_layer = s.layer_end - s.layer_begin;
  return c;
}

}  // namespace

void pipeline_init_params(model::GptModel& stage, const model::GptConfig& full,
                          const float* full_params, std::uint64_t seed) {
  const model::ParamLayout layout(full);
  std::vector<float> init;
  if (full_params == nullptr) {  // the full model's init, then this stage's slice
    init.resize(layout.total());
    model::GptModel::init_weights_full(full, seed, init.data());
    full_params = init.data();
  }
  const model::TpShard tp = stage.tp();
  if (tp.size == 1) {
    model::stage_params_from_full(layout, full_params, stage.stage(), stage.layout(),
                                  stage.params());
    return;
  }
  // tp > 1: the stage's whole (tp = 1) buffer first, then this rank's shard of it.
  const model::ParamLayout whole_stage(stage.config());
  std::vector<float> buf(whole_stage.total());
  model::stage_params_from_full(layout, full_params, stage.stage(), whole_stage, buf.data());
  parallel::tp_shard_params(stage.config(), tp.size, tp.rank, buf.data(), stage.params());
}

std::vector<float> pipeline_gather_params(const float* stage_params, const model::StageSpec& stage,
                                          const model::GptConfig& full, comm::Communicator& pp) {
  const int tag = 4;
  const model::ParamLayout own(stage_config(full, stage));
  if (pp.rank() != 0) {
    pp.send(std::span<const float>(stage_params, own.total()), 0, tag,
            "gather parameters for saving");
    return {};
  }
  const model::ParamLayout layout(full);
  std::vector<float> out(layout.total());
  const std::vector<model::StageSpec> split = model::stage_split(full.n_layer, pp.size());
  model::stage_params_to_full(own, stage_params, stage, pp.size() == 1, layout, out.data());
  for (int s = 1; s < pp.size(); ++s) {
    const model::StageSpec& spec = split[static_cast<std::size_t>(s)];
    const model::ParamLayout sl(stage_config(full, spec));
    std::vector<float> buf(sl.total());
    pp.recv(std::span<float>(buf), s, tag, "gather parameters for saving");
    model::stage_params_to_full(sl, buf.data(), spec, s + 1 == pp.size(), layout, out.data());
  }
  return out;
}

std::string pipeline_memory_report(model::GptModel& stage, comm::Communicator& pp) {
  const int n = pp.size();
  constexpr int k = 5;
  double mine[k] = {static_cast<double>(stage.stage().layer_begin),
                    static_cast<double>(stage.stage().layer_end),
                    static_cast<double>(stage.activation_slots()),
                    4.0 * static_cast<double>(stage.activation_floats()),
                    4.0 * static_cast<double>(stage.num_params())};
  std::vector<double> all(static_cast<std::size_t>(k * n));
  pp.all_gather(std::span<const double>(mine, k), std::span<double>(all), "memory report");
  std::string text;
  char buf[160];
  for (int s = 0; s < n; ++s) {
    const double* v = all.data() + k * s;
    std::snprintf(buf, sizeof buf,
                  "%sstage %d: layers [%d, %d), %d activation slot%s %.2f MiB, params %.2f MiB",
                  s ? "; " : "", s, static_cast<int>(v[0]), static_cast<int>(v[1]),
                  static_cast<int>(v[2]), v[2] == 1 ? "" : "s", v[3] / (1 << 20), v[4] / (1 << 20));
    text += buf;
  }
  return text;
}

}  // namespace weft::train
