// The PyTorch-reference check of the whole model. See check_state.hpp.
#include "train/check_state.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "model/gpt_model.hpp"
#include "model/llmc_checkpoint.hpp"
#include "train/adamw_optimizer.hpp"

namespace weft::train {
namespace {

TensorCheck compare(const std::string& name, const float* ours, const float* ref, std::size_t n,
                    double rtol) {
  double max_abs = 0.0, max_ref = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(ours[i]) - ref[i]);
    max_abs = std::isnan(d) ? INFINITY : std::max(max_abs, d);  // NaN counts as infinitely wrong
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  TensorCheck c{name, max_abs, max_ref > 0 ? max_abs / max_ref : max_abs, true};
  c.ok = c.max_rel <= rtol;
  return c;
}

nlohmann::json read_reference(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("cannot open", path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw input_error(str(path, ": not valid JSON: ", e.what()));
  }
  if (!j.contains("losses") || !j["losses"].is_array())
    throw input_error(str(path, ": field 'losses' (array of numbers) is missing"));
  return j;
}

}  // namespace

nlohmann::json CheckStateReport::to_json() const {
  nlohmann::json j;
  j["ok"] = ok;
  nlohmann::json t = nlohmann::json::object();
  for (const TensorCheck& c : tensors)
    t[c.name] = {{"max_abs", c.max_abs}, {"max_rel", c.max_rel}, {"ok", c.ok}};
  j["tensors"] = t;
  j["losses"] = losses;
  if (!ref_losses.empty()) {
    j["ref_losses"] = ref_losses;
    j["max_loss_err"] = max_loss_err;
  }
  return j;
}

CheckStateReport check_state(const CheckStateOptions& o) {
  model::LlmcModel file = model::llmc_load_model(o.model_path);
  const model::GptConfig& cfg = file.config;
  const model::LlmcDebugState state = model::llmc_load_debug_state(o.state_path, cfg);
  const int B = state.B, T = state.T;
  const std::size_t BT = static_cast<std::size_t>(B) * T;

  std::string ref_path = o.reference_path;
  if (ref_path.empty()) {
    const auto beside = std::filesystem::path(o.state_path).parent_path() / "reference.json";
    if (std::filesystem::exists(beside)) ref_path = beside.string();
  }
  nlohmann::json ref;
  if (!ref_path.empty()) ref = read_reference(ref_path);
  std::vector<float> weights;
  if (o.use_mask) {
    if (!ref.contains("mask") || !ref["mask"].is_array() || ref["mask"].size() != BT)
      throw input_error(str(ref_path.empty() ? "reference" : ref_path, ": field 'mask' must be an array of B·T = ",
                            BT, " numbers"));
    for (const auto& w : ref["mask"]) weights.push_back(w.get<float>());
  }
  const float* w = o.use_mask ? weights.data() : nullptr;

  model::GptModel m(cfg, B, T, /*training=*/true);
  std::copy(file.params.begin(), file.params.end(), m.params());

  CheckStateReport r;
  // Logits and loss (forward keeps the logits).
  const float loss = m.forward(state.x.data(), state.y.data(), w, B, T);
  std::vector<float> logits(BT * cfg.vocab);
  for (std::size_t i = 0; i < BT; ++i)
    std::copy_n(m.logits() + i * cfg.padded_vocab, cfg.vocab, logits.data() + i * cfg.vocab);
  r.tensors.push_back(compare("logits", logits.data(), state.logits.data(), logits.size(), o.tensor_rtol));
  r.tensors.push_back(compare("loss", &loss, &state.loss, 1, o.tensor_rtol));

  // Gradients, then the AdamW steps on the same batch (the first one reuses them).
  AdamWOptimizer opt(m.layout());
  cpu::AdamWConfig adam;
  adam.lr = 1e-4;
  adam.beta1 = 0.9;
  adam.beta2 = 0.999;
  adam.eps = 1e-8;
  adam.weight_decay = 0.0;
  for (int step = 0; step < o.steps; ++step) {
    m.zero_grad();
    const float step_loss = m.forward_train(state.x.data(), state.y.data(), w, B, T, 1.0f);
    m.backward();
    if (step == 0) {
      for (const model::ParamTensor& t : m.layout().tensors())
        r.tensors.push_back(compare("grad." + t.name, m.grads() + t.offset,
                                    state.grads.data() + t.offset, t.size, o.tensor_rtol));
    }
    opt.step(m.params(), m.grads(), adam, 1.0f);
    r.losses.push_back(step_loss);
  }
  for (const TensorCheck& c : r.tensors) r.ok = r.ok && c.ok;
  if (!ref.is_null() && !o.use_mask) {
    for (const auto& v : ref["losses"]) r.ref_losses.push_back(v.get<double>());
    if (r.ref_losses.size() < r.losses.size())
      throw input_error(str(ref_path, ": 'losses' has ", r.ref_losses.size(), " entries, expected ",
                            r.losses.size()));
    r.ref_losses.resize(r.losses.size());
    for (std::size_t i = 0; i < r.losses.size(); ++i) {
      const double d = std::fabs(r.losses[i] - r.ref_losses[i]);
      r.max_loss_err = std::isnan(d) ? INFINITY : std::max(r.max_loss_err, d);
    }
    r.ok = r.ok && r.max_loss_err <= o.loss_atol;
  }
  return r;
}

}  // namespace weft::train
