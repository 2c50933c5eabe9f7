// Pipeline timelines: the simulated schedules against the paper's closed forms
// (makespan (m+p−1)(t_f+t_b), in-flight micro-batches) and the SVG parsed back:
// 2·m boxes per stage, no overlap on a row, GPipe all-forward-first, 1F1B interleaved.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/timeline.hpp"

namespace weft::plan {
namespace {

struct Box {
  std::string schedule, kind;
  int stage, mb;
  double x, w;
};

std::vector<Box> parse_boxes(const std::string& svg) {
  const std::regex rect(
      "<rect class=\"op (fwd|bwd)\" data-schedule=\"([a-z0-9]+)\" data-stage=\"([0-9]+)\" "
      "data-mb=\"([0-9]+)\" x=\"([0-9.e+-]+)\" y=\"[0-9.e+-]+\" width=\"([0-9.e+-]+)\"");
  std::vector<Box> boxes;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    boxes.push_back({m[2], m[1], std::stoi(m[3]), std::stoi(m[4]), std::stod(m[5]), std::stod(m[6])});
  }
  return boxes;
}

TEST(PlanTimeline, MakespanIsMPlusPMinusOneSlots) {
  for (int p : {1, 2, 4, 7}) {
    for (int m : {1, 3, 8, 16}) {
      for (Schedule s : {Schedule::kGPipe, Schedule::k1F1B}) {
        const auto ops = timeline_simulate(s, p, m, 1.0, 2.0);
        EXPECT_EQ(ops.size(), static_cast<size_t>(2 * p * m));
        EXPECT_DOUBLE_EQ(timeline_makespan(ops), (m + p - 1) * 3.0)
            << schedule_name(s) << " p=" << p << " m=" << m;
      }
    }
  }
}

// Largest number of micro-batches whose forward is done and backward not yet, per stage.
int max_in_flight(const std::vector<TimelineOp>& ops, int stage) {
  std::vector<std::pair<double, int>> events;
  for (const auto& op : ops) {
    if (op.stage != stage) continue;
    events.push_back({op.forward ? op.start : op.end, op.forward ? +1 : -1});
  }
  std::sort(events.begin(), events.end(), [](auto a, auto b) {
    return a.first < b.first || (a.first == b.first && a.second < b.second);
  });
  int cur = 0, best = 0;
  for (auto& e : events) best = std::max(best, cur += e.second);
  return best;
}

TEST(PlanTimeline, OneF1BBoundsActivationsGPipeDoesNot) {
  const int p = 4, m = 8;
  const auto gpipe = timeline_simulate(Schedule::kGPipe, p, m, 1, 2);
  const auto ofob = timeline_simulate(Schedule::k1F1B, p, m, 1, 2);
  EXPECT_EQ(max_in_flight(gpipe, 0), m);
  for (int s = 0; s < p; ++s) EXPECT_EQ(max_in_flight(ofob, s), p - s) << "stage " << s;
}

TEST(PlanTimeline, SvgHasTwoMBoxesPerStageWithoutOverlapInScheduleOrder) {
  const int p = 4, m = 6;
  const auto boxes = parse_boxes(timeline_svg(p, m, 1.0, 2.0));
  ASSERT_EQ(boxes.size(), static_cast<size_t>(2 * 2 * p * m));
  for (const std::string sched : {"gpipe", "1f1b"}) {
    for (int s = 0; s < p; ++s) {
      std::vector<Box> row;
      for (const auto& b : boxes) {
        if (b.schedule == sched && b.stage == s) row.push_back(b);
      }
      ASSERT_EQ(row.size(), static_cast<size_t>(2 * m)) << sched << " stage " << s;
      std::sort(row.begin(), row.end(), [](const Box& a, const Box& b) { return a.x < b.x; });
      for (size_t i = 1; i < row.size(); ++i) {
        EXPECT_GE(row[i].x + 1e-4, row[i - 1].x + row[i - 1].w) << sched << " stage " << s;
      }
      if (sched == "gpipe") {
        for (int i = 0; i < m; ++i) EXPECT_EQ(row[static_cast<size_t>(i)].kind, "fwd");
      } else {
        // 1F1B: p − s − 1 warm-up forwards, then the first backward comes within two boxes.
        const int warmup = std::min(p - s - 1, m);
        for (int i = 0; i < warmup; ++i) EXPECT_EQ(row[static_cast<size_t>(i)].kind, "fwd");
        EXPECT_EQ(row[static_cast<size_t>(warmup + 1)].kind, "bwd") << "stage " << s;
      }
      // Backward of micro-batch i never precedes its forward on the same stage.
      std::map<int, double> fwd_end;
      for (const auto& b : row) {
        if (b.kind == "fwd") fwd_end[b.mb] = b.x + b.w;
        else EXPECT_GE(b.x + 1e-4, fwd_end.at(b.mb));
      }
    }
  }
}

TEST(PlanTimeline, WriteRefusesToOverwrite) {
  const auto dir = std::filesystem::temp_directory_path() / "weft_plan_timeline_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.svg").string();
  timeline_write(path, 2, 3, 1, 2);
  std::ifstream in(path);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(parse_boxes(svg).size(), 2u * 2 * 2 * 3);
  EXPECT_THROW(timeline_write(path, 2, 3, 1, 2), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace weft::plan
