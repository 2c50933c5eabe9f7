// Pipeline timeline drawing: the simulated schedules as a hand-written SVG, and writing it
// without overwriting (see timeline.hpp). Returns plain strings; any thread.
#include "plan/timeline.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace weft::plan {

namespace {

struct Panel {
  Schedule schedule;
  int v;              // model chunks per device
  const char* title;
  const char* row;    // row label prefix
};

// Forward blue, backward green; chunk c of v mixed toward white by 0.6·c/(v−1), so the
// first chunk is the strongest colour. Light fills get black numbers.
std::string box_fill(bool fwd, int chunk, int v, bool& dark_text) {
  const int base[2][3] = {{0x5c, 0xb8, 0x5c}, {0x4a, 0x90, 0xd9}};
  const double f = v > 1 ? 0.6 * chunk / (v - 1) : 0.0;
  dark_text = f > 0.3;
  char hex[8];
  const int* c = base[fwd ? 1 : 0];
  auto mix = [f](int x) { return static_cast<int>(x + (255 - x) * f + 0.5); };
  std::snprintf(hex, sizeof hex, "#%02x%02x%02x", mix(c[0]), mix(c[1]), mix(c[2]));
  return hex;
}

double percent(double fraction) { return static_cast<int>(fraction * 1000 + 0.5) / 10.0; }

}  // namespace

std::string timeline_svg(int p, int m, double tf, double tb, Schedule schedule, int v) {
  std::vector<Panel> panels = {{Schedule::kGPipe, 1, "GPipe", "stage"},
                               {Schedule::k1F1B, 1, "1F1B (PipeDream-Flush)", "stage"}};
  if (schedule == Schedule::kInterleaved) {
    panels.push_back({Schedule::kInterleaved, v, "Interleaved 1F1B (Megatron-LM)", "device"});
  }
  // GPipe and 1F1B take (m+p−1)(tf+tb), the longest of the panels.
  const double px_per_unit = std::clamp(900.0 / ((m + p - 1) * (tf + tb)), 2.0, 60.0);
  const double row_h = 26, label_w = 70, panel_gap = 50, top = 30;
  const double makespan = (m + p - 1) * (tf + tb);
  const double width = label_w + makespan * px_per_unit + 20;
  const double panel_h = p * row_h + panel_gap;
  const double height = top + static_cast<double>(panels.size()) * panel_h - panel_gap + 10;
  std::ostringstream svg;
  svg.precision(9);  // enough digits that adjacent boxes meet exactly
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" << width << "\" height=\"" << height
      << "\" fill=\"white\"/>\n";
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& panel = panels[pi];
    const auto ops = timeline_simulate(panel.schedule, p, m, tf, tb, panel.v);
    const double y0 = top + static_cast<double>(pi) * panel_h;
    svg << "<text x=\"4\" y=\"" << y0 - 8 << "\" font-size=\"13\">" << panel.title << ": p=" << p
        << ", m=" << m;
    if (panel.schedule == Schedule::kInterleaved) {
      const double b = static_cast<double>(p - 1) / panel.v;  // Narayanan et al. 2021 §2.2.2
      svg << ", v=" << panel.v << ", bubble ((p-1)/v)/(m+(p-1)/v) = " << percent(b / (m + b))
          << "% (lighter = later model chunk)</text>\n";
    } else {
      svg << ", bubble (p-1)/(m+p-1) = " << percent(static_cast<double>(p - 1) / (m + p - 1))
          << "% (blue = forward, green = backward, white = idle)</text>\n";
    }
    for (int s = 0; s < p; ++s) {
      const double y = y0 + s * row_h;
      svg << "<text x=\"4\" y=\"" << y + row_h * 0.65 << "\">" << panel.row << " " << s
          << "</text>\n"
          << "<rect class=\"lane\" x=\"" << label_w << "\" y=\"" << y << "\" width=\""
          << makespan * px_per_unit << "\" height=\"" << row_h - 4
          << "\" fill=\"none\" stroke=\"#bbb\"/>\n";
    }
    const std::string sched = schedule_name(panel.schedule);
    for (const auto& op : ops) {
      const double x = label_w + op.start * px_per_unit, w = (op.end - op.start) * px_per_unit;
      const double y = y0 + op.stage * row_h;
      bool dark_text = false;
      const std::string fill = box_fill(op.forward, op.chunk, panel.v, dark_text);
      svg << "<rect class=\"op " << (op.forward ? "fwd" : "bwd") << "\" data-schedule=\"" << sched
          << "\" data-stage=\"" << op.stage << "\" data-mb=\"" << op.micro_batch << "\" x=\"" << x
          << "\" y=\"" << y << "\" width=\"" << w << "\" height=\"" << row_h - 4 << "\" fill=\""
          << fill << "\" stroke=\"black\" stroke-width=\"0.5\" data-chunk=\"" << op.chunk
          << "\"/>\n";
      if (w >= 10) {
        svg << "<text x=\"" << x + w / 2 << "\" y=\"" << y + row_h * 0.6
            << "\" text-anchor=\"middle\" fill=\"" << (dark_text ? "black" : "white") << "\""
            << (w < 18 ? " font-size=\"8\"" : "") << ">" << op.micro_batch + 1 << "</text>\n";
      }
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

void timeline_write(const std::string& path, int p, int m, double tf, double tb, Schedule schedule,
                    int v) {
  if (p < 1 || m < 1) throw input_error(str("timeline needs pp >= 1 and micro-batches >= 1"));
  if (static_cast<int64_t>(p) * m > 4096) {
    throw input_error(str("timeline of ", p, " stages x ", m, " micro-batches is too large to draw"),
                      "draw a smaller case: lower --global-batch (the timeline shows the plan's p and m)");
  }
  if (schedule == Schedule::kInterleaved) {
    if (v < 1) throw input_error(str("timeline: virtual stages must be >= 1, got ", v));
    if (m % p != 0) {
      throw input_error(str("timeline: interleaved schedule needs micro-batches m = ", m,
                            " to be a multiple of pp = ", p));
    }
    // The interleaved panel has 2·p·m·v boxes; this keeps the whole file near 10 MB at most.
    if (static_cast<int64_t>(p) * m * v > 16384) {
      throw input_error(str("interleaved timeline of ", p, " devices x ", m, " micro-batches x ",
                            v, " chunks is too large to draw"),
                        "draw a smaller case: lower --global-batch or --virtual-stages");
    }
  } else {
    v = 1;  // chunks only exist under interleaving
  }
  if (std::filesystem::exists(path)) {
    throw input_error(str("--timeline: '", path, "' already exists; weft does not overwrite it"),
                      "remove it or choose another name");
  }
  const std::string svg = timeline_svg(p, m, tf, tb, schedule, v);
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
