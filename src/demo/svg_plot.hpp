// A small SVG line-plot writer (no dependencies) for loss and reward curves, and a
// reader that pulls one metric out of a metrics.jsonl file. Pure functions returning
// strings/vectors owned by the caller; any thread.
#pragma once

#include <string>
#include <vector>

namespace weft::demo {

struct PlotSeries {
  std::string name;       // legend text
  std::vector<double> x;  // same length as y; non-finite points are skipped
  std::vector<double> y;
};

struct PlotOptions {
  std::string title;
  std::string x_label = "step";
  std::string y_label;
  int width = 640;
  int height = 360;
};

// A complete standalone SVG document: axes with ticks, one <polyline> per series that
// has at least one finite point (its `points` attribute holds one "x,y" pair per
// finite point), a legend. Text is XML-escaped. Empty input → a plot saying "no data".
std::string svg_line_plot(const std::vector<PlotSeries>& series, const PlotOptions& options);

// The (x_key, key) pairs of every line of a metrics.jsonl that has both as numbers
// (lines without them are skipped: e.g. val_loss appears only on validation steps).
// Throws weft::Error naming the file and line for a line that is not JSON.
PlotSeries metrics_series(const std::string& path, const std::string& key,
                          const std::string& x_key = "step");

}  // namespace weft::demo
