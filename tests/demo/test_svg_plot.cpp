// The SVG plot writer: the document parses as XML (Python's xml.etree, an
// independent parser) and each series' polyline holds one point per finite input
// point; metrics_series picks the right lines of a metrics.jsonl.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "demo/svg_plot.hpp"

namespace {

using namespace weft::demo;

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = pclose(pipe);
  return out;
}

TEST(DemoSvgPlot, ValidXmlWithOnePolylinePointPerFinitePoint) {
  PlotSeries a{"train <loss> & co", {}, {}}, b{"val", {0, 10, 20}, {3.0, NAN, 2.0}};
  for (int i = 0; i < 37; ++i) {
    a.x.push_back(i);
    a.y.push_back(5.0 * std::exp(-0.1 * i));
  }
  PlotSeries empty{"empty", {}, {}};
  const std::string svg = svg_line_plot({a, b, empty}, {"loss \"curves\"", "step", "loss"});
  const std::string path = testing::TempDir() + "/plot_test.svg";
  std::ofstream(path) << svg;
  // Prints the point count of every polyline, one per line.
  const std::string py =
      "import sys, xml.etree.ElementTree as ET\n"
      "r = ET.parse(sys.argv[1]).getroot()\n"
      "assert r.tag == '{http://www.w3.org/2000/svg}svg', r.tag\n"
      "for p in r.iter('{http://www.w3.org/2000/svg}polyline'):\n"
      "    pts = p.get('points').split()\n"
      "    assert all(len(q.split(',')) == 2 and all(float(v) == float(v) for v in q.split(',')) for q in pts)\n"
      "    print(len(pts))\n";
  std::ofstream(testing::TempDir() + "/plot_check.py") << py;
  int status = -1;
  const std::string out = run_command(
      "python3 " + testing::TempDir() + "/plot_check.py " + path + " 2>&1", &status);
  if (status != 0 && out.find("not found") != std::string::npos) GTEST_SKIP() << "no python3";
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(out, "37\n2\n");  // the empty series draws nothing; the NaN point is skipped
  EXPECT_NE(svg.find("train &lt;loss&gt; &amp; co"), std::string::npos);
}

TEST(DemoSvgPlot, NoDataStillValid) {
  const std::string svg = svg_line_plot({}, {"t", "x", "y"});
  EXPECT_NE(svg.find("no data"), std::string::npos);
  EXPECT_EQ(svg.find("<polyline"), std::string::npos);
}

TEST(DemoSvgPlot, MetricsSeriesSkipsLinesWithoutTheKey) {
  const std::string path = testing::TempDir() + "/metrics_test.jsonl";
  std::ofstream(path) << "{\"step\":1,\"loss\":4.5}\n{\"step\":2,\"loss\":4.0,\"val_loss\":4.2}\n"
                         "\n{\"step\":3,\"loss\":3.5}\n";
  const PlotSeries loss = metrics_series(path, "loss");
  const PlotSeries val = metrics_series(path, "val_loss");
  EXPECT_EQ(loss.x, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(loss.y, (std::vector<double>{4.5, 4.0, 3.5}));
  EXPECT_EQ(val.x, (std::vector<double>{2}));
  std::ofstream(path) << "{\"step\":1}\nnot json\n";
  EXPECT_THROW(metrics_series(path, "loss"), std::exception);
}

}  // namespace
