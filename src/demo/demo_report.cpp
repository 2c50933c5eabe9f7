// report.md of `weft demo` (see demo_report.hpp).
#include "demo/demo_report.hpp"

#include <cstdio>

#include "core/progress.hpp"

namespace weft::demo {
namespace {

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100.0 * v);
  return b;
}

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// Markdown table cells must not contain '|' or newlines.
std::string cell(std::string s, std::size_t max_len = 90) {
  for (char& c : s)
    if (c == '|' || c == '\n' || c == '\r') c = ' ';
  if (s.size() > max_len) s = s.substr(0, max_len) + "…";
  return s;
}

}  // namespace

std::string demo_eval_table_text(const std::vector<infer::EvalResult>& rows) {
  std::string t = infer::eval_table_header() + "\n";
  for (const infer::EvalResult& r : rows) t += infer::eval_table_row(r) + "\n";
  return t;
}

std::string demo_report_markdown(const DemoReport& r) {
  std::string md = "# weft demo report\n\n";
  md += "Started as `" + r.command + "`. Every number below was measured in this run.\n\n";
  md += "## Hardware\n\n```\n" + r.hardware + "```\n\n";
  md += "## Layout\n\n";
  for (const std::string& l : r.layout) md += "- " + l + "\n";
  md += "\n## Stages\n\n| # | stage | status | time | note |\n| --- | --- | --- | --- | --- |\n";
  double total = 0;
  for (std::size_t i = 0; i < r.stages.size(); ++i) {
    const StageRecord& s = r.stages[i];
    total += s.seconds;
    md += "| " + std::to_string(i + 1) + " | " + cell(s.title) + " | " + stage_status_name(s.status) +
          " | " + (s.status == StageStatus::kNotAvailable ? "-" : format_duration(s.seconds)) +
          " | " + cell(s.note, 160) + " |\n";
  }
  md += "| | total | | " + format_duration(total) + " | |\n\n";
  md += "## Curves\n\n";
  if (r.plots.empty()) md += "(no metrics were written)\n\n";
  for (const DemoPlot& p : r.plots) md += "![" + p.title + "](" + p.file + ")\n\n";
  md += "## Evaluation\n\n";
  md += "Held-out prompts from `" + r.eval_data +
        "` (never seen in SFT, reward model or RL training), greedy decoding. EM = exact "
        "match and F1 = token-F1 after normalisation (lower-case, ASCII punctuation → "
        "space, spaces collapsed); val loss = mean cross-entropy (nats) on the reference "
        "answers' tokens; reward = mean reward-model score of the generated answers.\n\n";
  auto table = [&](const std::vector<infer::EvalResult>& rows) {
    md += "| model | n | EM % | F1 % | val loss | reward | time |\n| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const infer::EvalResult& e : rows)
      md += "| " + e.label + " | " + std::to_string(e.n) + " | " + pct(e.exact_match) + " | " +
            pct(e.token_f1) + " | " + fixed(e.val_loss, 3) + " | " +
            (e.mean_reward ? fixed(*e.mean_reward, 3) : std::string("-")) + " | " +
            format_duration(e.seconds) + " |\n";
  };
  table(r.eval);
  if (!r.eval_seen.empty()) {
    md += "\nThe same models on prompts whose items *were* in the SFT/RL training data "
          "(`eval_train.jsonl`): how much of the training set they reproduce.\n\n";
    table(r.eval_seen);
  }
  if (!r.eval.empty()) {
    const infer::EvalResult& last = r.eval.back();
    md += "\nSample answers of `" + last.label + "`:\n\n| prompt | reference | answer |\n| --- | --- | --- |\n";
    for (std::size_t i = 0; i < last.predictions.size() && i < 6; ++i) {
      const infer::EvalPrediction& p = last.predictions[i];
      md += "| " + cell(p.prompt) + " | " + cell(p.reference) + " | " + cell(p.answer) + " |\n";
    }
  }
  md += "\n## Talk to it\n\n```\n";
  for (const std::string& c : r.next_commands) md += c + "\n";
  md += "```\n";
  return md;
}

}  // namespace weft::demo
