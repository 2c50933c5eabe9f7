// SVG line plots (see svg_plot.hpp). Layout: a fixed margin for tick labels, data
// mapped linearly into the inner box, "nice" tick steps of 1/2/5 × 10^k.
#include "demo/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace weft::demo {
namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

double nice_step(double span, int target_ticks) {
  const double raw = span / std::max(1, target_ticks);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

}  // namespace

std::string svg_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  const double W = o.width, H = o.height;
  const double left = 64, right = 16, top = 32, bottom = 44;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const PlotSeries& s : series)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        x0 = std::min(x0, s.x[i]);
        x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]);
        y1 = std::max(y1, s.y[i]);
      }
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W) + "\" height=\"" + num(H) +
         "\" viewBox=\"0 0 " + num(W) + " " + num(H) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" fill=\"white\"/>\n";
  svg += "<text x=\"" + num(W / 2) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">" +
         xml_escape(o.title) + "</text>\n";
  if (!std::isfinite(x0)) {
    svg += "<text x=\"" + num(W / 2) + "\" y=\"" + num(H / 2) +
           "\" text-anchor=\"middle\">no data</text>\n</svg>\n";
    return svg;
  }
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const double pw = W - left - right, ph = H - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return top + (1.0 - (y - y0) / (y1 - y0)) * ph; };

  // Axes box, ticks and grid.
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) +
         "\" height=\"" + num(ph) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  const double xs = nice_step(x1 - x0, 6), ys = nice_step(y1 - y0, 5);
  for (double t = std::ceil(x0 / xs) * xs; t <= x1 + 1e-9 * xs; t += xs)
    svg += "<line x1=\"" + num(px(t)) + "\" y1=\"" + num(top + ph) + "\" x2=\"" + num(px(t)) +
           "\" y2=\"" + num(top + ph + 4) + "\" stroke=\"#444\"/><text x=\"" + num(px(t)) +
           "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\">" + tick_label(t) + "</text>\n";
  for (double t = std::ceil(y0 / ys) * ys; t <= y1 + 1e-9 * ys; t += ys)
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(t)) + "\" x2=\"" + num(left + pw) +
           "\" y2=\"" + num(py(t)) + "\" stroke=\"#ddd\"/><text x=\"" + num(left - 6) + "\" y=\"" +
           num(py(t) + 4) + "\" text-anchor=\"end\">" + tick_label(t) + "</text>\n";
  svg += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(H - 8) + "\" text-anchor=\"middle\">" +
         xml_escape(o.x_label) + "</text>\n";
  svg += "<text x=\"14\" y=\"" + num(top + ph / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
         num(top + ph / 2) + ")\">" + xml_escape(o.y_label) + "</text>\n";

  // Series and legend.
  int k = 0;
  for (const PlotSeries& s : series) {
    std::string pts;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        pts += (pts.empty() ? "" : " ") + num(px(s.x[i])) + "," + num(py(s.y[i]));
    if (pts.empty()) continue;
    const char* color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
           "\" stroke-width=\"1.5\" points=\"" + pts + "\"/>\n";
    const double ly = top + 14 + 14 * k;
    svg += "<line x1=\"" + num(left + pw - 130) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" +
           num(left + pw - 112) + "\" y2=\"" + num(ly - 4) + "\" stroke=\"" + color +
           "\" stroke-width=\"2\"/><text x=\"" + num(left + pw - 106) + "\" y=\"" + num(ly) + "\">" +
           xml_escape(s.name) + "</text>\n";
    ++k;
  }
  svg += "</svg>\n";
  return svg;
}

PlotSeries metrics_series(const std::string& path, const std::string& key,
                          const std::string& x_key) {
  std::ifstream in(path);
  if (!in) throw io_error_errno("cannot open", path);
  PlotSeries s;
  s.name = key;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw input_error(str(path, ":", lineno, ": not JSON (", e.what(), ")"));
    }
    if (!j.is_object() || !j.contains(key) || !j.contains(x_key)) continue;
    if (!j[key].is_number() || !j[x_key].is_number()) continue;
    s.x.push_back(j[x_key].get<double>());
    s.y.push_back(j[key].get<double>());
  }
  return s;
}

}  // namespace weft::demo
