// Pipeline schedule simulation and SVG drawing (see timeline.hpp).
#include "plan/timeline.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <utility>

#include "core/error.hpp"

namespace weft::plan {

namespace {

struct Slot {
  int mb;
  bool fwd;
};

// Per-stage op order. GPipe: all forwards, then all backwards. 1F1B: stage s runs
// min(p − s − 1, m) warm-up forwards, then alternates one forward / one backward, then
// drains the remaining backwards.
std::vector<std::vector<Slot>> schedule_order(Schedule schedule, int p, int m) {
  std::vector<std::vector<Slot>> order(static_cast<size_t>(p));
  for (int s = 0; s < p; ++s) {
    auto& o = order[static_cast<size_t>(s)];
    if (schedule == Schedule::kGPipe) {
      for (int i = 0; i < m; ++i) o.push_back({i, true});
      for (int i = 0; i < m; ++i) o.push_back({i, false});
      continue;
    }
    const int warmup = std::min(p - s - 1, m);
    int f = 0, b = 0;
    for (; f < warmup; ++f) o.push_back({f, true});
    while (f < m) {
      o.push_back({f++, true});
      o.push_back({b++, false});
    }
    while (b < m) o.push_back({b++, false});
  }
  return order;
}

}  // namespace

std::vector<TimelineOp> timeline_simulate(Schedule schedule, int p, int m, double tf, double tb) {
  WEFT_CHECK(p >= 1 && m >= 1, "stages ", p, " micro-batches ", m);
  const auto order = schedule_order(schedule, p, m);
  // done[{stage, mb, fwd}] = end time
  std::map<std::tuple<int, int, bool>, double> done;
  std::vector<size_t> next(static_cast<size_t>(p), 0);
  std::vector<double> free_at(static_cast<size_t>(p), 0.0);
  std::vector<TimelineOp> ops;
  const size_t total = static_cast<size_t>(2 * p * m);
  while (ops.size() < total) {
    bool progressed = false;
    for (int s = 0; s < p; ++s) {
      auto& k = next[static_cast<size_t>(s)];
      if (k >= order[static_cast<size_t>(s)].size()) continue;
      const Slot slot = order[static_cast<size_t>(s)][k];
      double ready = free_at[static_cast<size_t>(s)];
      auto need = [&](int st, bool fwd) -> bool {
        auto it = done.find({st, slot.mb, fwd});
        if (it == done.end()) return false;
        ready = std::max(ready, it->second);
        return true;
      };
      bool ok = true;
      if (slot.fwd) {
        if (s > 0) ok = need(s - 1, true);
      } else {
        ok = need(s, true) && (s == p - 1 || need(s + 1, false));
      }
      if (!ok) continue;
      const double end = ready + (slot.fwd ? tf : tb);
      ops.push_back({s, slot.mb, slot.fwd, ready, end});
      done[{s, slot.mb, slot.fwd}] = end;
      free_at[static_cast<size_t>(s)] = end;
      ++k;
      progressed = true;
    }
    WEFT_CHECK(progressed, "pipeline schedule deadlocked");
  }
  return ops;
}

double timeline_makespan(const std::vector<TimelineOp>& ops) {
  double t = 0;
  for (const auto& op : ops) t = std::max(t, op.end);
  return t;
}

std::string timeline_svg(int p, int m, double tf, double tb) {
  const double px_per_unit = std::clamp(900.0 / ((m + p - 1) * (tf + tb)), 2.0, 60.0);
  const double row_h = 26, label_w = 70, panel_gap = 50, top = 30;
  const double makespan = (m + p - 1) * (tf + tb);
  const double width = label_w + makespan * px_per_unit + 20;
  const double panel_h = p * row_h + panel_gap;
  const double height = top + 2 * panel_h - panel_gap + 10;
  std::ostringstream svg;
  svg.precision(9);  // enough digits that adjacent boxes meet exactly
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" << width << "\" height=\"" << height
      << "\" fill=\"white\"/>\n";
  const std::pair<Schedule, const char*> panels[] = {{Schedule::kGPipe, "GPipe"},
                                                     {Schedule::k1F1B, "1F1B (PipeDream-Flush)"}};
  for (int pi = 0; pi < 2; ++pi) {
    const auto ops = timeline_simulate(panels[pi].first, p, m, tf, tb);
    const double y0 = top + pi * panel_h;
    const double bubble = static_cast<double>(p - 1) / (m + p - 1);
    svg << "<text x=\"4\" y=\"" << y0 - 8 << "\" font-size=\"13\">" << panels[pi].second << ": p="
        << p << ", m=" << m << ", bubble (p-1)/(m+p-1) = " << static_cast<int>(bubble * 1000 + 0.5) / 10.0
        << "% (blue = forward, green = backward, white = idle)</text>\n";
    for (int s = 0; s < p; ++s) {
      const double y = y0 + s * row_h;
      svg << "<text x=\"4\" y=\"" << y + row_h * 0.65 << "\">stage " << s << "</text>\n"
          << "<rect class=\"lane\" x=\"" << label_w << "\" y=\"" << y << "\" width=\""
          << makespan * px_per_unit << "\" height=\"" << row_h - 4
          << "\" fill=\"none\" stroke=\"#bbb\"/>\n";
    }
    const std::string sched = schedule_name(panels[pi].first);
    for (const auto& op : ops) {
      const double x = label_w + op.start * px_per_unit, w = (op.end - op.start) * px_per_unit;
      const double y = y0 + op.stage * row_h;
      svg << "<rect class=\"op " << (op.forward ? "fwd" : "bwd") << "\" data-schedule=\"" << sched
          << "\" data-stage=\"" << op.stage << "\" data-mb=\"" << op.micro_batch << "\" x=\"" << x
          << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << row_h - 4 << "\" fill=\""
          << (op.forward ? "#4a90d9" : "#5cb85c") << "\" stroke=\"black\" stroke-width=\"0.5\"/>\n";
      if (w >= 10) {
        svg << "<text x=\"" << x + w / 2 << "\" y=\"" << y + row_h * 0.6
            << "\" text-anchor=\"middle\" fill=\"white\"" << (w < 18 ? " font-size=\"8\"" : "")
            << ">" << op.micro_batch + 1 << "</text>\n";
      }
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

void timeline_write(const std::string& path, int p, int m, double tf, double tb) {
  if (p < 1 || m < 1) throw input_error(str("timeline needs pp >= 1 and micro-batches >= 1"));
  if (static_cast<int64_t>(p) * m > 4096) {
    throw input_error(str("timeline of ", p, " stages x ", m, " micro-batches is too large to draw"),
                      "draw a smaller case: lower --global-batch (the timeline shows the plan's p and m)");
  }
  if (std::filesystem::exists(path)) {
    throw input_error(str("--timeline: '", path, "' already exists; weft does not overwrite it"),
                      "remove it or choose another name");
  }
  const std::string svg = timeline_svg(p, m, tf, tb);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw io_error_errno("cannot create", tmp);
    out << svg;
    if (!out.flush()) throw io_error_errno("cannot write", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw io_error(str("cannot rename '", tmp, "' to '", path, "': ", ec.message()));
}

}  // namespace weft::plan
