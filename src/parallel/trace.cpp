// Chrome-trace recorder and its one-file gather. See trace.hpp.
#include "parallel/trace.hpp"

#include <algorithm>
#include <chrono>
#include <span>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace weft::parallel {

double Tracer::now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Tracer::add(std::string name, const char* cat, TraceLane lane, double t0_us, double t1_us,
                 int step, int micro) {
  spans_.push_back({std::move(name), cat, lane, t0_us, t1_us, step, micro});
}

void Tracer::write(comm::Communicator& world, const std::string& path,
                   const std::string& process_name) {
  // This rank's events as JSON text; ranks gather the texts (padded to the longest).
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"ph", "M"},
                    {"name", "process_name"},
                    {"pid", rank_},
                    {"tid", 0},
                    {"args", {{"name", process_name}}}});
  events.push_back({{"ph", "M"},
                    {"name", "process_sort_index"},
                    {"pid", rank_},
                    {"tid", 0},
                    {"args", {{"sort_index", rank_}}}});
  for (int lane = 0; lane < 2; ++lane)
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", rank_},
                      {"tid", lane},
                      {"args", {{"name", lane == 0 ? "compute" : "communication"}}}});
  for (const Span& s : spans_) {
    nlohmann::json e = {{"ph", "X"},
                        {"name", s.name},
                        {"cat", s.cat},
                        {"pid", rank_},
                        {"tid", static_cast<int>(s.lane)},
                        {"ts", s.t0},
                        {"dur", std::max(0.0, s.t1 - s.t0)}};
    if (s.step >= 0) e["args"]["step"] = s.step + 1;
    if (s.micro >= 0) e["args"]["micro"] = s.micro;
    events.push_back(std::move(e));
  }
  const std::string text = events.dump();
  const int n = world.size();
  std::int64_t mine = static_cast<std::int64_t>(text.size());
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(n));
  world.all_gather(std::span<const std::int64_t>(&mine, 1), std::span<std::int64_t>(sizes),
                   "trace: sizes");
  const std::size_t longest =
      static_cast<std::size_t>(*std::max_element(sizes.begin(), sizes.end()));
  std::vector<std::uint8_t> padded(longest, ' ');
  std::copy(text.begin(), text.end(), padded.begin());
  std::vector<std::uint8_t> all(longest * static_cast<std::size_t>(n));
  world.all_gather(std::span<const std::uint8_t>(padded), std::span<std::uint8_t>(all),
                   "trace: events");
  if (world.rank() != 0) return;
  // Merge, with time zero at the earliest span of any rank.
  nlohmann::json merged = nlohmann::json::array();
  double t_min = 1e300;
  for (int r = 0; r < n; ++r) {
    const auto* at = all.data() + static_cast<std::size_t>(r) * longest;
    nlohmann::json part = nlohmann::json::parse(at, at + sizes[static_cast<std::size_t>(r)]);
    for (auto& e : part) {
      if (e["ph"] == "X") t_min = std::min(t_min, e["ts"].get<double>());
      merged.push_back(std::move(e));
    }
  }
  for (auto& e : merged)
    if (e["ph"] == "X") e["ts"] = e["ts"].get<double>() - t_min;
  const nlohmann::json doc = {{"traceEvents", std::move(merged)}, {"displayTimeUnit", "ms"}};
  const std::string out = doc.dump(1);
  file_write_atomic(path, out.data(), out.size(), /*durable=*/false);
}

}  // namespace weft::parallel
