// Small statistics for benchmark repeats. Pure functions; any thread.
#pragma once

#include <algorithm>
#include <vector>

namespace weft::sys::pbench {

// Median of the values (mean of the middle two for an even count); 0 when empty.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace weft::sys::pbench
