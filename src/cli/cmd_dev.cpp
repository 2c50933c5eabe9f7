// `weft dev ...`: developer checks. `weft dev check-state MODEL.bin STATE.bin` compares
// this build with a PyTorch/llm.c debug state (see train/check_state.hpp) and prints
// JSON; exit 1 when an error is beyond tolerance. Parsing only.
#include <cstdio>
#include <memory>

#include "cli/command_registry.hpp"
#include "core/log.hpp"
#include "kernels/cpu/threads.hpp"
#include "train/check_state.hpp"

namespace {

std::function<int()> setup_dev(CLI::App& app) {
  app.require_subcommand(1);
  auto opts = std::make_shared<weft::train::CheckStateOptions>();
  auto threads = std::make_shared<int>(0);
  CLI::App* cs = app.add_subcommand(
      "check-state",
      "Run an llm.c checkpoint on an llm.c debug state's batch; compare logits, loss, "
      "grads and 10 AdamW-step losses (exit 1 beyond tolerance)");
  cs->add_option("model", opts->model_path, "llm.c GPT-2 checkpoint (model.bin)")->required();
  cs->add_option("state", opts->state_path, "llm.c debug state (state.bin)")->required();
  cs->add_option("--reference", opts->reference_path,
                 "JSON with the 10 reference losses (default: reference.json beside "
                 "STATE if present)");
  cs->add_flag("--mask", opts->use_mask,
               "weight the loss with the reference's 'mask' (state_masked.bin)");
  cs->add_option("--rtol", opts->tensor_rtol, "tolerance of max|a-b|/max|b| per tensor")
      ->capture_default_str();
  cs->add_option("--loss-atol", opts->loss_atol, "tolerance of each step loss")
      ->capture_default_str();
  cs->add_option("--threads", *threads, "threads (0 = OpenMP default)");
  return [opts, threads] {
    if (*threads > 0) weft::cpu::set_num_threads(*threads);
    const weft::train::CheckStateReport r = weft::train::check_state(*opts);
    std::printf("%s\n", r.to_json().dump(1).c_str());
    if (!r.ok) {
      weft::log_error("check-state: errors beyond tolerance (rtol ", opts->tensor_rtol,
                      ", loss atol ", opts->loss_atol, "); see \"ok\": false above");
      return 1;
    }
    weft::log_info("check-state: OK");
    return 0;
  };
}

WEFT_COMMAND("dev", "Developer checks (check-state: compare with a PyTorch debug state)", 800,
             setup_dev);

}  // namespace
