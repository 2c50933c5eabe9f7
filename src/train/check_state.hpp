// `weft dev check-state`: runs the model from an llm.c checkpoint on the batch of an
// llm.c debug state and compares logits, loss and every gradient with it, then
// takes 10 AdamW steps on that batch (llm.c's test_gpt2). Returns a report; the
// caller prints it. Main thread only (kernels use OpenMP inside).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace weft::train {

struct CheckStateOptions {
  std::string model_path;
  std::string state_path;
  // JSON with "losses" (the 10 reference losses) and optionally "mask"; empty means
  // reference.json beside the state if it exists, else no loss comparison.
  std::string reference_path;
  bool use_mask = false;     // weight the loss with reference "mask" (for state_masked.bin)
  double tensor_rtol = 1e-4;  // max|a-b| / max|b| per tensor (logits, loss, grads)
  double loss_atol = 1e-5;    // |a-b| of each of the 10 step losses
  int steps = 10;
};

struct TensorCheck {
  std::string name;       // "logits", "loss", "grad.wte", ...
  double max_abs = 0.0;   // max |ours − reference|
  double max_rel = 0.0;   // max_abs / max |reference| (tensor-wise; robust to zeros)
  bool ok = true;
};

struct CheckStateReport {
  std::vector<TensorCheck> tensors;
  std::vector<double> losses;      // ours, one per AdamW step (loss before the update)
  std::vector<double> ref_losses;  // empty when no reference file
  double max_loss_err = 0.0;
  bool ok = true;
  nlohmann::json to_json() const;
};

CheckStateReport check_state(const CheckStateOptions& options);

}  // namespace weft::train
