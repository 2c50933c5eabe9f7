// Progress of in-process stages from their metrics.jsonl (see demo_watch.hpp).
#include "demo/demo_watch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/progress.hpp"

namespace weft::demo {

DemoWatchState demo_read_metrics(const std::string& path, const std::string& key) {
  DemoWatchState s;
  std::ifstream in(path);
  std::string line;
  const std::string val_key = "val_" + key;
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '}') continue;  // a line being written
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j.contains("step") && j["step"].is_number())  // step 0 = before training
        s.steps = std::max(s.steps, j["step"].get<int>());
      if (j.contains(key) && j[key].is_number()) s.value = j[key].get<double>();
      if (j.contains(val_key) && j[val_key].is_number()) s.val_value = j[val_key].get<double>();
    } catch (const nlohmann::json::exception&) {
    }
  }
  return s;
}

DemoWatchState demo_watch(const std::string& label, int total_steps, const std::string& metrics,
                          const std::string& key, bool progress,
                          const std::function<bool()>& running) {
  ProgressBar bar(label, static_cast<std::uint64_t>(std::max(0, total_steps)), ProgressUnit::kItems,
                  !progress);
  DemoWatchState s;
  auto draw = [&] {
    s = demo_read_metrics(metrics, key);
    bar.set_note(str(key, " ", s.value));
    bar.set(static_cast<std::uint64_t>(s.steps));
  };
  while (running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    draw();
  }
  draw();
  bar.finish();
  return s;
}

DemoWatchState demo_run_watched(const std::string& label, int total_steps,
                                const std::string& metrics, const std::string& key, bool progress,
                                const std::function<void()>& body) {
  std::filesystem::remove(metrics);  // an interrupted earlier try of this stage
  std::exception_ptr error;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
    done.store(true);
  });
  const DemoWatchState s =
      demo_watch(label, total_steps, metrics, key, progress, [&] { return !done.load(); });
  worker.join();
  if (error) std::rethrow_exception(error);
  return s;
}

}  // namespace weft::demo
