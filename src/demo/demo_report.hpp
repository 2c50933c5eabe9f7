// RUN_DIR/report.md of `weft demo`: hardware, layout, per-stage timings, loss/reward
// plots (SVG files beside it) and the eval table. Pure formatting of what the
// pipeline gathered; the caller writes the file. Any thread.
#pragma once

#include <string>
#include <vector>

#include "demo/demo_stage.hpp"
#include "infer/eval_run.hpp"

namespace weft::demo {

struct DemoPlot {
  std::string file;   // "pretrain_loss.svg", relative to RUN_DIR
  std::string title;
};

struct DemoReport {
  std::string command;                    // how the demo was started
  std::string hardware;                   // the hw report table (plain text)
  std::vector<std::string> layout;        // one line each: ranks, launcher, model, data
  std::vector<StageRecord> stages;
  std::vector<DemoPlot> plots;
  std::vector<infer::EvalResult> eval;    // held-out rows: base, sft, ppo, dpo (those that ran)
  std::vector<infer::EvalResult> eval_seen;  // the same models on prompts seen in training
  std::string eval_data;                  // which file the table scores
  std::vector<std::string> next_commands; // weft chat / weft serve lines
};

std::string demo_report_markdown(const DemoReport& r);
// The eval table as plain text (what the terminal shows).
std::string demo_eval_table_text(const std::vector<infer::EvalResult>& rows);

}  // namespace weft::demo
