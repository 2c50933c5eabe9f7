// Stage parameter setup, gather and reports. See pipeline_setup.hpp.
#include "train/pipeline_setup.hpp"

#include <cstdio>
#include <span>

#include "core/error.hpp"
#include "model/stage_params.hpp"

namespace weft::train {

void pipeline_init_params(model::GptModel& stage, const model::GptConfig& full,
                          const float* full_params, std::uint64_t seed) {
  const model::ParamLayout layout(full);
  if (full_params != nullptr) {
    model::stage_params_from_full(layout, full_params, stage.stage(), stage.layout(),
                                  stage.params());
    return;
  }
  // The full model only for its init (smallest activations, no gradients).
  model::GptModel whole(full, 1, 1, /*training=*/false);
  whole.init_weights(seed);
  model::stage_params_from_full(layout, whole.params(), stage.stage(), stage.layout(),
                                stage.params());
}

std::vector<float> pipeline_gather_params(model::GptModel& stage, const model::GptConfig& full,
                                          comm::Communicator& pp) {
  const int tag = 4;
  if (pp.rank() != 0) {
    pp.send(std::span<const float>(stage.params(), stage.num_params()), 0, tag,
            "gather parameters for saving");
    return {};
  }
  const model::ParamLayout layout(full);
  std::vector<float> out(layout.total());
  const std::vector<model::StageSpec> split = model::stage_split(full.n_layer, pp.size());
  model::stage_params_to_full(stage.layout(), stage.params(), stage.stage(), pp.size() == 1,
                              layout, out.data());
  for (int s = 1; s < pp.size(); ++s) {
    const model::StageSpec& spec = split[static_cast<std::size_t>(s)];
    model::GptConfig sc = full;
    sc.n_layer = spec.layer_end - spec.layer_begin;
    const model::ParamLayout sl(sc);
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
    std::snprintf(buf, sizeof buf, "%sstage %d: layers [%d, %d), %d activation slot%s %.2f MiB, params %.2f MiB",
                  s ? "; " : "", s, static_cast<int>(v[0]), static_cast<int>(v[1]),
                  static_cast<int>(v[2]), v[2] == 1 ? "" : "s", v[3] / (1 << 20), v[4] / (1 << 20));
    text += buf;
  }
  return text;
}

}  // namespace weft::train
