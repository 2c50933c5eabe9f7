// Pipeline timelines: the simulated schedules against the papers' closed forms (makespan
// (m+p−1)(t_f+t_b), interleaved m(t_f+t_b) + (p−1)(t_f+t_b)/v, in-flight activations),
// every dependency and device order checked op by op, and the SVG parsed back: 2·m boxes
// per stage (2·m·v per device interleaved), no overlap on a row, GPipe all-forward-first.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "plan/memory_model.hpp"
#include "plan/model_spec.hpp"
#include "plan/timeline.hpp"

namespace weft::plan {
namespace {

struct Box {
  std::string schedule, kind;
  int stage, mb;
  double x, w;
  int chunk;
};

std::vector<Box> parse_boxes(const std::string& svg) {
  const std::regex rect(
      "<rect class=\"op (fwd|bwd)\" data-schedule=\"([a-z0-9]+)\" data-stage=\"([0-9]+)\" "
      "data-mb=\"([0-9]+)\" x=\"([0-9.e+-]+)\" y=\"[0-9.e+-]+\" width=\"([0-9.e+-]+)\"[^>]*? "
      "data-chunk=\"([0-9]+)\"");
  std::vector<Box> boxes;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    boxes.push_back({m[2], m[1], std::stoi(m[3]), std::stoi(m[4]), std::stod(m[5]), std::stod(m[6]),
                     std::stoi(m[7])});
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

std::filesystem::path unique_dir(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("weft_plan_timeline_" + name + "_" + std::to_string(getpid()));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(PlanTimeline, WriteRefusesToOverwrite) {
  const auto dir = unique_dir("overwrite");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.svg").string();
  timeline_write(path, 2, 3, 1, 2);
  EXPECT_EQ(parse_boxes(read_text(path)).size(), 2u * 2 * 2 * 3);
  EXPECT_THROW(timeline_write(path, 2, 3, 1, 2), Error);
  std::filesystem::remove_all(dir);
}

// ---- Interleaved 1F1B (Narayanan et al. 2021 §2.2.2; Megatron-LM's order) ----

// Every op respects its dependencies (forward i of virtual stage q after forward i of q−1;
// backward i of q after forward i of q and backward i of q+1), takes t/v, a device runs
// one op at a time, and each device runs exactly m·v forwards and m·v backwards, each
// (virtual stage, micro-batch) once per direction.
void expect_valid(const std::vector<TimelineOp>& ops, int p, int m, int v, double tf, double tb) {
  const int q_count = p * v;
  std::map<std::tuple<int, int, bool>, const TimelineOp*> by;
  for (const auto& op : ops) {
    ASSERT_TRUE(op.stage >= 0 && op.stage < p && op.chunk >= 0 && op.chunk < v &&
                op.micro_batch >= 0 && op.micro_batch < m);
    const bool fresh = by.insert({{op.chunk * p + op.stage, op.micro_batch, op.forward}, &op}).second;
    EXPECT_TRUE(fresh) << "op repeated: device " << op.stage << " chunk " << op.chunk << " mb "
                       << op.micro_batch;
    EXPECT_NEAR(op.end - op.start, (op.forward ? tf : tb) / v, 1e-12);
  }
  ASSERT_EQ(by.size(), static_cast<size_t>(2 * q_count * m));
  for (const auto& [key, op] : by) {
    const auto [q, i, fwd] = key;
    std::vector<std::tuple<int, int, bool>> deps;
    if (fwd && q > 0) deps.push_back({q - 1, i, true});
    if (!fwd) deps.push_back({q, i, true});
    if (!fwd && q < q_count - 1) deps.push_back({q + 1, i, false});
    for (const auto& d : deps) {
      EXPECT_GE(op->start + 1e-9, by.at(d)->end) << "q " << q << " mb " << i << " fwd " << fwd;
    }
  }
  for (int s = 0; s < p; ++s) {
    std::vector<const TimelineOp*> row;
    for (const auto& op : ops) {
      if (op.stage == s) row.push_back(&op);
    }
    std::sort(row.begin(), row.end(), [](auto a, auto b) { return a->start < b->start; });
    const auto fwd = std::count_if(row.begin(), row.end(), [](auto o) { return o->forward; });
    EXPECT_EQ(fwd, m * v) << "device " << s;
    EXPECT_EQ(static_cast<int>(row.size()) - fwd, m * v) << "device " << s;
    for (size_t k = 1; k < row.size(); ++k) {
      EXPECT_GE(row[k]->start + 1e-9, row[k - 1]->end) << "overlap on device " << s;
    }
  }
}

TEST(PlanTimelineInterleaved, MakespanIsMSlotsPlusBubbleOverV) {
  // Closed form: m·(t_f+t_b) of work per device plus a bubble (p−1)·(t_f+t_b)/v.
  const std::pair<double, double> times[] = {{1, 2}, {1, 3}, {2, 3}};
  for (int p : {2, 3, 4, 8}) {
    for (int v : {2, 3, 4}) {
      for (int groups : {1, 2, 3}) {  // m = p is Megatron's all-forwards-first case
        const int m = groups * p;
        for (const auto& [tf, tb] : times) {
          const auto ops = timeline_simulate(Schedule::kInterleaved, p, m, tf, tb, v);
          const double want = m * (tf + tb) + (p - 1) * (tf + tb) / v;
          EXPECT_NEAR(timeline_makespan(ops), want, 1e-9 * want)
              << "p=" << p << " v=" << v << " m=" << m << " tf=" << tf << " tb=" << tb;
          expect_valid(ops, p, m, v, tf, tb);
        }
      }
    }
  }
}

TEST(PlanTimelineInterleaved, OtherSchedulesAreValidToo) {
  for (int p : {1, 3, 4}) {
    for (int m : {1, 5, 8}) {
      expect_valid(timeline_simulate(Schedule::kGPipe, p, m, 1, 2), p, m, 1, 1, 2);
      expect_valid(timeline_simulate(Schedule::k1F1B, p, m, 1, 2), p, m, 1, 1, 2);
    }
  }
}

// Device order written out by hand from Megatron-LM's rule (p = 4, v = 2, m = 8):
// forwards go in groups of p micro-batches per chunk, backwards mirror the chunks.
std::vector<std::string> device_sequence(const std::vector<TimelineOp>& ops, int s, size_t n) {
  std::vector<const TimelineOp*> row;
  for (const auto& op : ops) {
    if (op.stage == s) row.push_back(&op);
  }
  std::sort(row.begin(), row.end(), [](auto a, auto b) { return a->start < b->start; });
  std::vector<std::string> out;
  for (size_t k = 0; k < n && k < row.size(); ++k) {
    out.push_back(std::string(row[k]->forward ? "F" : "B") + std::to_string(row[k]->micro_batch) +
                  "c" + std::to_string(row[k]->chunk));
  }
  return out;
}

TEST(PlanTimelineInterleaved, DeviceOrderIsMegatrons) {
  const auto ops = timeline_simulate(Schedule::kInterleaved, 4, 8, 1, 2, 2);
  // Device 0: (4−0−1)·2 + (2−1)·4 = 10 warm-up forwards, then 1F1B.
  const std::vector<std::string> d0 = {"F0c0", "F1c0", "F2c0", "F3c0", "F0c1", "F1c1",
                                       "F2c1", "F3c1", "F4c0", "F5c0", "F6c0", "B0c1",
                                       "F7c0", "B1c1", "F4c1", "B2c1"};
  EXPECT_EQ(device_sequence(ops, 0, d0.size()), d0);
  // Device 3 (last): 4 warm-up forwards; its chunk-1 backward follows each chunk-1 forward.
  const std::vector<std::string> d3 = {"F0c0", "F1c0", "F2c0", "F3c0", "F0c1", "B0c1", "F1c1",
                                       "B1c1", "F2c1", "B2c1", "F3c1", "B3c1", "F4c0", "B0c0"};
  EXPECT_EQ(device_sequence(ops, 3, d3.size()), d3);
}

TEST(PlanTimelineInterleaved, InFlightChunksPeakAtWarmupPlusOne) {
  // Device s holds w_s + 1 chunk activations at most: its w_s = (p−s−1)·2 + (v−1)·p warm-up
  // forwards, plus the first steady-state forward, which runs before the first backward;
  // after that every forward is paired with a backward. Capped at m·v; for m = p Megatron
  // runs all m·v forwards first. E.g. p = 4, v = 2, m = 8, device 0: 11 chunks = p·v + p − 1,
  // i.e. 5.5 stages' worth against 1F1B's 4 (interleaving trades memory for bubble).
  const int cases[][3] = {{4, 2, 8}, {4, 2, 12}, {3, 3, 6}, {8, 2, 16}, {4, 4, 8}, {4, 2, 4}};
  for (const auto& c : cases) {
    const int p = c[0], v = c[1], m = c[2];
    const auto ops = timeline_simulate(Schedule::kInterleaved, p, m, 1, 2, v);
    for (int s = 0; s < p; ++s) {
      const int warmup = m == p ? m * v : std::min((p - s - 1) * 2 + (v - 1) * p, m * v);
      EXPECT_EQ(max_in_flight(ops, s), std::min(warmup + 1, m * v))
          << "p=" << p << " v=" << v << " m=" << m << " device " << s;
    }
  }
  EXPECT_EQ(max_in_flight(timeline_simulate(Schedule::kInterleaved, 4, 8, 1, 2, 2), 0), 11);
}

// The memory model (memory_model.cpp) counts the first stage's activations from its own
// closed form; the simulated schedule must hold exactly that many stage-loads on device 0.
TEST(PlanTimelineInterleaved, MemoryModelHoldsTheSimulatedPeak) {
  RunSpec run;
  run.model = model_preset("gpt3-1.3b");  // 24 layers
  const int cases[][4] = {  // schedule (0 1F1B, 1 GPipe, 2 interleaved), p, v, m
      {2, 4, 2, 8}, {2, 4, 3, 4}, {2, 3, 2, 6}, {2, 8, 3, 16}, {2, 4, 2, 12},
      {0, 4, 1, 8}, {0, 8, 1, 3}, {1, 4, 1, 8}};
  for (const auto& c : cases) {
    const Schedule sched = c[0] == 0 ? Schedule::k1F1B : c[0] == 1 ? Schedule::kGPipe
                                                                    : Schedule::kInterleaved;
    const int p = c[1], v = c[2], m = c[3];
    Layout& l = run.layout;
    l.pp = p;
    l.virtual_stages = v;
    l.schedule = sched;
    l.global_batch = m;
    const MemoryReport r = memory_estimate(run);
    const double per_stage_load =
        activation_bytes_per_layer(run.model, l) * static_cast<double>(run.model.layers / p);
    const int peak = max_in_flight(timeline_simulate(sched, p, m, 1, 2, v), 0);  // chunks
    EXPECT_NEAR(r.activations / per_stage_load, static_cast<double>(peak) / v, 1e-9)
        << schedule_name(sched) << " p=" << p << " v=" << v << " m=" << m;
  }
}

TEST(PlanTimelineInterleaved, OneChunkIsPlain1F1B) {
  for (int p : {1, 2, 4, 7}) {
    for (int m : {1, 3, 8, 16}) {
      const auto a = timeline_simulate(Schedule::kInterleaved, p, m, 1, 2, 1);
      const auto b = timeline_simulate(Schedule::k1F1B, p, m, 1, 2);
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].chunk, 0);
        EXPECT_TRUE(a[k].stage == b[k].stage && a[k].micro_batch == b[k].micro_batch &&
                    a[k].forward == b[k].forward && a[k].start == b[k].start &&
                    a[k].end == b[k].end)
            << "p=" << p << " m=" << m << " op " << k;
      }
    }
  }
}

TEST(PlanTimelineInterleaved, SvgAddsAThirdPanelWithChunks) {
  const int p = 4, m = 8, v = 2;
  const auto boxes = parse_boxes(timeline_svg(p, m, 1.0, 2.0, Schedule::kInterleaved, v));
  ASSERT_EQ(boxes.size(), static_cast<size_t>(2 * 2 * p * m + 2 * p * m * v));
  double x0 = 1e30, end_1f1b = 0, end_inter = 0;
  for (const auto& b : boxes) {
    x0 = std::min(x0, b.x);
    if (b.schedule == "1f1b") end_1f1b = std::max(end_1f1b, b.x + b.w);
    if (b.schedule == "interleaved") end_inter = std::max(end_inter, b.x + b.w);
    if (b.schedule != "interleaved") {
      EXPECT_EQ(b.chunk, 0);
    }
  }
  // Drawn lengths keep the closed forms' ratio (m + (p−1)/v) / (m + p − 1).
  EXPECT_NEAR((end_inter - x0) / (end_1f1b - x0), (m + (p - 1.0) / v) / (m + p - 1.0), 1e-6);
  for (int s = 0; s < p; ++s) {
    std::vector<Box> row;
    std::set<std::tuple<std::string, int, int>> seen;
    for (const auto& b : boxes) {
      if (b.schedule != "interleaved" || b.stage != s) continue;
      row.push_back(b);
      EXPECT_TRUE(b.chunk >= 0 && b.chunk < v);
      EXPECT_TRUE(seen.insert({b.kind, b.mb, b.chunk}).second);
    }
    ASSERT_EQ(row.size(), static_cast<size_t>(2 * m * v)) << "device " << s;
    std::sort(row.begin(), row.end(), [](const Box& a, const Box& b) { return a.x < b.x; });
    for (size_t i = 1; i < row.size(); ++i) {
      EXPECT_GE(row[i].x + 1e-4, row[i - 1].x + row[i - 1].w) << "device " << s;
    }
  }
  // Without interleaving the picture keeps its two panels.
  EXPECT_EQ(parse_boxes(timeline_svg(p, m, 1.0, 2.0)).size(), static_cast<size_t>(2 * 2 * p * m));
}

TEST(PlanTimelineInterleaved, WriteRefusesMNotAMultipleOfP) {
  const auto dir = unique_dir("interleaved_m");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "t.svg").string();
  try {
    timeline_write(path, 4, 6, 1, 2, Schedule::kInterleaved, 2);
    ADD_FAILURE() << "m = 6 on p = 4 was drawn";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiple of pp"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  timeline_write(path, 4, 8, 1, 2, Schedule::kInterleaved, 2);
  EXPECT_EQ(parse_boxes(read_text(path)).size(), static_cast<size_t>(2 * 2 * 4 * 8 + 2 * 4 * 8 * 2));
  std::filesystem::remove_all(dir);
}

int run_weft(const std::string& args) {
  return std::system((std::string(WEFT_EXE) + " " + args + " > /dev/null 2>&1").c_str());
}

TEST(PlanTimelineInterleaved, CliDrawsTheLayoutsSchedule) {
  const auto dir = unique_dir("cli");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // gpt3-1.3b: 24 layers = pp·v·3; m = 16 / (dp·b) = 8, a multiple of pp = 4.
  const std::string base = "plan --preset gpt3-1.3b --gpus 8 --global-batch 16 --schedule interleaved ";
  const std::string plan = (dir / "plan.svg").string(), search = (dir / "search.svg").string();
  ASSERT_EQ(run_weft(base + "--pp 4 --dp 2 --virtual-stages 3 --timeline " + plan), 0);
  std::map<std::string, int> count;
  int max_chunk = 0;
  for (const auto& b : parse_boxes(read_text(plan))) {
    ++count[b.schedule];
    max_chunk = std::max(max_chunk, b.chunk);
  }
  EXPECT_EQ(count["gpipe"], 2 * 4 * 8);
  EXPECT_EQ(count["1f1b"], 2 * 4 * 8);
  EXPECT_EQ(count["interleaved"], 2 * 4 * 8 * 3);
  EXPECT_EQ(max_chunk, 2);
  // --search keeps the base's schedule and v, so its best layout is drawn interleaved too.
  ASSERT_EQ(run_weft(base + "--virtual-stages 2 --search --timeline " + search), 0);
  int interleaved = 0;
  for (const auto& b : parse_boxes(read_text(search))) interleaved += b.schedule == "interleaved";
  EXPECT_GT(interleaved, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace weft::plan
