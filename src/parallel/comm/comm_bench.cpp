// All-reduce micro-benchmark over a Communicator. See comm_bench.hpp.
#include "parallel/comm/comm_bench.hpp"

#include <algorithm>
#include <cstring>

#include "core/aligned_buffer.hpp"
#include "core/timer.hpp"

namespace weft::comm {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Rank r sends x[i] = r + (i % 1024): the sum is n(n−1)/2 + n(i % 1024), exact.
void check_result(const Communicator& comm, const float* recv, std::size_t count) {
  const int n = comm.size();
  for (std::size_t i = 0; i < count; ++i) {
    const double want = n * (n - 1) / 2.0 + double(n) * double(i % 1024);
    if (recv[i] != want)
      throw comm_error(str("bench all_reduce of ", count * 4, " bytes on ", comm.backend(),
                           ": element ", i, " is ", recv[i], ", expected ", want));
  }
}

}  // namespace

std::vector<CommBenchRow> bench_all_reduce(Communicator& comm, std::size_t max_bytes,
                                           double seconds_per_size) {
  const int n = comm.size();
  std::vector<CommBenchRow> rows;
  for (std::size_t bytes = 4; bytes <= max_bytes; bytes *= 4) {
    const std::size_t count = bytes / 4;
    AlignedBuffer<float> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i) send[i] = float(comm.rank()) + float(i % 1024);
    comm.iall_reduce(send.data(), recv.data(), count, DType::kF32, ReduceOp::kSum, "bench check")
        .wait();
    check_result(comm, recv.data(), count);

    // Repetitions: rank 0 decides from the median of three timed calls, so every
    // rank runs as many.
    std::vector<double> probe;
    for (int rep = 0; rep < 3; ++rep) {
      Stopwatch watch;
      comm.iall_reduce(send.data(), recv.data(), count, DType::kF32, ReduceOp::kSum, "bench")
          .wait();
      probe.push_back(watch.seconds());
    }
    std::vector<std::int64_t> reps{std::clamp<std::int64_t>(
        static_cast<std::int64_t>(seconds_per_size / std::max(median(probe), 1e-7)), 5, 2000)};
    comm.broadcast(std::span(reps), 0, "bench reps");
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(reps[0]));
    for (std::int64_t rep = 0; rep < reps[0]; ++rep) {
      Stopwatch watch;
      comm.iall_reduce(send.data(), recv.data(), count, DType::kF32, ReduceOp::kSum, "bench")
          .wait();
      times.push_back(watch.seconds());
    }
    check_result(comm, recv.data(), count);

    // Baseline: memcpy of the same size (median of a few).
    std::vector<double> copies;
    for (int rep = 0; rep < 5; ++rep) {
      Stopwatch watch;
      std::memcpy(recv.data(), send.data(), bytes);
      copies.push_back(watch.seconds());
    }
    std::vector<double> row{median(times), median(copies)};
    comm.broadcast(std::span(row), 0, "bench result");
    CommBenchRow out;
    out.bytes = bytes;
    out.reps = static_cast<int>(reps[0]);
    out.median_us = row[0] * 1e6;
    out.algbw_gbps = row[0] > 0 ? double(bytes) / row[0] / 1e9 : 0;
    out.busbw_gbps = out.algbw_gbps * (n > 1 ? 2.0 * (n - 1) / n : 1.0);
    out.memcpy_gbps = row[1] > 0 ? double(bytes) / row[1] / 1e9 : 0;
    rows.push_back(out);
  }
  return rows;
}

CommFit fit_all_reduce(const std::vector<CommBenchRow>& rows) {
  CommFit fit;
  if (rows.empty()) return fit;
  fit.alpha_us = rows.front().median_us;
  fit.busbw_gbps = rows.back().busbw_gbps;
  return fit;
}

}  // namespace weft::comm
