// Progress bar rendering. See progress.hpp.
#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace weft {

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (std::fabs(bytes) >= 1000.0 && u < 5) {
    bytes /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

std::string format_count(double count) {
  const char* units[] = {"", "k", "M", "G", "T"};
  int u = 0;
  while (std::fabs(count) >= 1000.0 && u < 4) {
    count /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", count, units[u]);
  return buf;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total, ProgressUnit unit, bool quiet)
    : label_(std::move(label)), total_(total), unit_(unit), tty_(!quiet && isatty(2) == 1) {
  finished_ = quiet;
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::set(std::uint64_t done) {
  done_ = done;
  if (!tty_ || finished_) return;
  const double now = watch_.seconds();
  if (last_draw_ >= 0 && now - last_draw_ < 0.1 && done_ < total_) return;
  last_draw_ = now;
  const std::string line = "\r" + render(now) + "\x1b[K";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  const std::string line = (tty_ ? "\r" : "") + render(watch_.seconds()) + (tty_ ? "\x1b[K\n" : "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string ProgressBar::render(double elapsed) const {
  auto amount = [&](double v) {
    return unit_ == ProgressUnit::kBytes ? format_bytes(v) : format_count(v);
  };
  std::string out = label_ + " ";
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    out += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3.0f%% ", frac * 100.0);
    out += pct;
    out += amount(static_cast<double>(done_)) + "/" + amount(static_cast<double>(total_));
  } else {
    out += amount(static_cast<double>(done_));
  }
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  out += "  " + amount(rate) + "/s";
  if (!note_.empty()) out += "  " + note_;
  if (total_ > 0 && done_ < total_ && rate > 0) {
    out += "  ETA " + format_duration(static_cast<double>(total_ - done_) / rate);
  } else {
    out += "  " + format_duration(elapsed);
  }
  return out;
}

}  // namespace weft
