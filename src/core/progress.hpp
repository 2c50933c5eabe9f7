// A one-line progress bar for long stages: done/total in bytes or items, rate and
// ETA. On a terminal it redraws in place (at most ~10 times a second); when stderr
// is not a TTY it stays quiet except for one summary line at finish(), so logs
// and CI output stay readable. One owner thread calls update(); not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/timer.hpp"

namespace weft {

enum class ProgressUnit { kItems, kBytes };

class ProgressBar {
 public:
  // total = 0 means unknown (no percentage or ETA). `quiet` forces silence.
  ProgressBar(std::string label, std::uint64_t total, ProgressUnit unit = ProgressUnit::kItems,
              bool quiet = false);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void add(std::uint64_t delta) { set(done_ + delta); }
  // Extra text shown after the rate (e.g. "1.2M tokens, 250k tok/s"); drawn at the next set().
  void set_note(std::string note) { note_ = std::move(note); }
  void set(std::uint64_t done);
  // Prints the final line (also when not a TTY). Called by the destructor if needed.
  void finish();

  // The text of the bar as it would be drawn now (for tests and logs).
  std::string render(double elapsed_seconds) const;

 private:
  std::string label_;
  std::string note_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  ProgressUnit unit_;
  bool tty_;
  bool finished_ = false;
  Stopwatch watch_;
  double last_draw_ = -1.0;
};

// "1.5 MB", "12.0 GB" (decimal units, as tools like curl and wget print rates).
std::string format_bytes(double bytes);
// "3.2k", "1.25M" for item counts.
std::string format_count(double count);
// "42s", "3m05s", "2h01m".
std::string format_duration(double seconds);

}  // namespace weft
