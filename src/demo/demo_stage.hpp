// The stage bookkeeping of `weft demo`: runs each stage once, times it, prints a
// header and a closing line, records it in RUN_DIR/stages.json (so a --resume run
// skips what finished), and keeps the list of stages with their outcome for the
// report. Main thread only. A stage that this build lacks is recorded as
// "not available in this build" — never faked.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace weft::demo {

enum class StageStatus { kDone, kSkipped, kNotAvailable, kFailed };
const char* stage_status_name(StageStatus s);  // "done", "done earlier", "not available in this build", "failed"

struct StageRecord {
  std::string name;     // "pretrain"
  std::string title;    // "Pretraining (2 MPI processes)"
  StageStatus status = StageStatus::kDone;
  double seconds = 0;   // of the run that did it (kept across --resume)
  std::string note;     // one line for the report (e.g. the final loss, why not available)
};

class StageRunner {
 public:
  // Reads RUN_DIR/stages.json when `resume`; stages listed there as done are skipped.
  StageRunner(std::string run_dir, bool resume, int total_stages);

  // Runs `body` unless done earlier (or `rerun`). body returns the note. An exception
  // is recorded as failed (stages.json is written) and rethrown.
  void run(const std::string& name, const std::string& title,
           const std::function<std::string()>& body, bool rerun = false);
  // As run(), but a failure is recorded (its message as the note), printed, and
  // reported by returning false, so the stages that do not depend on it go on.
  bool run_optional(const std::string& name, const std::string& title,
                    const std::function<std::string()>& body);
  // Records a stage this build cannot run, with the reason.
  void not_available(const std::string& name, const std::string& title, const std::string& why);

  bool done(const std::string& name) const;  // done now or earlier
  const std::vector<StageRecord>& records() const { return records_; }
  double total_seconds() const;

 private:
  void header(const std::string& title);
  void save() const;
  std::string run_dir_;
  int total_ = 0;
  int index_ = 0;
  std::vector<StageRecord> earlier_;  // from stages.json (resume)
  std::vector<StageRecord> records_;
};

}  // namespace weft::demo
