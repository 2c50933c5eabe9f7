// sgemm peak measurement. See peak_flops.hpp.
#include "train/peak_flops.hpp"

#include <algorithm>
#include <vector>

#include "core/aligned_buffer.hpp"
#include "core/rng.hpp"
#include "core/timer.hpp"
#include "kernels/cpu/matmul.hpp"

namespace weft::train {

double measure_sgemm_gflops(int n, int reps) {
  const std::size_t nn = static_cast<std::size_t>(n) * n;
  AlignedBuffer<float> a(nn, false), b(nn, false), c(nn, false);
  Rng rng(1);
  for (std::size_t i = 0; i < nn; ++i) {
    a[i] = rng.uniform() - 0.5f;
    b[i] = rng.uniform() - 0.5f;
  }
  cpu::matmul_forward(c.data(), a.data(), b.data(), nullptr, n, n, n);  // warm-up
  std::vector<double> secs;
  for (int r = 0; r < reps; ++r) {
    Stopwatch w;
    cpu::matmul_forward(c.data(), a.data(), b.data(), nullptr, n, n, n);
    secs.push_back(w.seconds());
  }
  std::sort(secs.begin(), secs.end());
  return 2.0 * n * static_cast<double>(nn) / secs[secs.size() / 2] / 1e9;
}

}  // namespace weft::train
