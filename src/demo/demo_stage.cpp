// Stage bookkeeping of `weft demo` (see demo_stage.hpp). stages.json is rewritten
// atomically after every stage, so an interrupted run resumes after the last one.
#include "demo/demo_stage.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/timer.hpp"

namespace weft::demo {

const char* stage_status_name(StageStatus s) {
  switch (s) {
    case StageStatus::kDone: return "done";
    case StageStatus::kSkipped: return "done earlier";
    case StageStatus::kNotAvailable: return "not available in this build";
    case StageStatus::kFailed: return "failed";
  }
  return "?";
}

StageRunner::StageRunner(std::string run_dir, bool resume, int total_stages)
    : run_dir_(std::move(run_dir)), total_(total_stages) {
  const std::string path = run_dir_ + "/stages.json";
  if (!resume || !std::filesystem::exists(path)) return;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
    for (const auto& s : j.at("stages")) {
      if (s.at("status").get<std::string>() != "done") continue;
      earlier_.push_back({s.at("name").get<std::string>(), s.at("title").get<std::string>(),
                          StageStatus::kSkipped, s.at("seconds").get<double>(),
                          s.at("note").get<std::string>()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw input_error(str(path, ": cannot read the stage list (", e.what(), ")"),
                      "start a new run with --overwrite");
  }
}

void StageRunner::header(const std::string& title) {
  ++index_;
  std::printf("\n== [%d/%d] %s\n", index_, total_, title.c_str());
  std::fflush(stdout);
}

void StageRunner::run(const std::string& name, const std::string& title,
                      const std::function<std::string()>& body, bool rerun) {
  for (const StageRecord& e : earlier_)
    if (e.name == name && !rerun) {
      header(title);
      std::printf("   done earlier (%s): %s\n", format_duration(e.seconds).c_str(), e.note.c_str());
      StageRecord r = e;
      r.title = title;
      records_.push_back(r);
      save();
      return;
    }
  header(title);
  Stopwatch watch;
  StageRecord r{name, title, StageStatus::kDone, 0, ""};
  try {
    r.note = body();
  } catch (...) {
    r.status = StageStatus::kFailed;
    r.seconds = watch.seconds();
    records_.push_back(r);
    save();
    throw;
  }
  r.seconds = watch.seconds();
  records_.push_back(r);
  save();
  std::printf("   %s in %s%s%s\n", name.c_str(), format_duration(r.seconds).c_str(),
              r.note.empty() ? "" : ": ", r.note.c_str());
  std::fflush(stdout);
}

bool StageRunner::run_optional(const std::string& name, const std::string& title,
                               const std::function<std::string()>& body) {
  try {
    run(name, title, body);
    return true;
  } catch (const std::exception& e) {
    StageRecord& r = records_.back();  // run() recorded the failure
    r.note = e.what();
    save();
    std::printf("   %s FAILED after %s: %s\n", name.c_str(), format_duration(r.seconds).c_str(),
                e.what());
    std::fflush(stdout);
    return false;
  }
}

void StageRunner::not_available(const std::string& name, const std::string& title,
                                const std::string& why) {
  header(title);
  std::printf("   not available in this build: %s\n", why.c_str());
  records_.push_back({name, title, StageStatus::kNotAvailable, 0, why});
  save();
}

bool StageRunner::done(const std::string& name) const {
  for (const StageRecord& r : records_)
    if (r.name == name) return r.status == StageStatus::kDone || r.status == StageStatus::kSkipped;
  return false;
}

double StageRunner::total_seconds() const {
  double s = 0;
  for (const StageRecord& r : records_) s += r.seconds;
  return s;
}

void StageRunner::save() const {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageRecord& r : records_) {
    const bool ok = r.status == StageStatus::kDone || r.status == StageStatus::kSkipped;
    stages.push_back({{"name", r.name},
                      {"title", r.title},
                      {"status", ok ? "done" : r.status == StageStatus::kFailed ? "failed" : "not available"},
                      {"seconds", r.seconds},
                      {"note", r.note}});
  }
  const std::string text = nlohmann::json{{"stages", stages}}.dump(2) + "\n";
  file_write_atomic(run_dir_ + "/stages.json", text.data(), text.size(), /*durable=*/false);
}

}  // namespace weft::demo
