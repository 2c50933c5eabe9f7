// Collective micro-benchmark over a Communicator: closed-form check, timing, α–β
// fit. See comm_bench.hpp.
#include "parallel/comm/comm_bench.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "core/aligned_buffer.hpp"
#include "core/timer.hpp"

namespace weft::comm {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Element values: small integers, so every sum is exact in float whatever the order.
float value(int rank, std::size_t i) {
  return float(rank) + float(i % 1024);
}

// One size of one operation: buffers, the operation, and its closed-form check.
struct Case {
  Communicator& comm;
  CommBenchOp op;
  std::size_t count = 0;  // elements per rank's send (all_reduce/p2p: the whole buffer)
  std::size_t bytes = 0;  // M (see CommBenchRow)
  AlignedBuffer<float> send, recv;

  Case(Communicator& c, CommBenchOp o, std::size_t m) : comm(c), op(o) {
    const std::size_t n = static_cast<std::size_t>(c.size());
    if (op == CommBenchOp::kAllGather || op == CommBenchOp::kReduceScatter) {
      count = std::max<std::size_t>(1, (m / 4 + n - 1) / n);  // per-rank piece
      bytes = count * n * 4;
    } else {
      count = std::max<std::size_t>(1, m / 4);
      bytes = count * 4;
    }
    const std::size_t send_n = op == CommBenchOp::kReduceScatter ? count * n : count;
    const std::size_t recv_n = op == CommBenchOp::kAllGather ? count * n : send_n;
    send = AlignedBuffer<float>(send_n);
    recv = AlignedBuffer<float>(op == CommBenchOp::kReduceScatter ? count : recv_n);
    for (std::size_t i = 0; i < send_n; ++i) send[i] = value(c.rank(), i);
  }

  void run(std::string_view ctx) {
    const int r = comm.rank();
    switch (op) {
      case CommBenchOp::kAllReduce:
        comm.iall_reduce(send.data(), recv.data(), count, DType::kF32, ReduceOp::kSum, ctx).wait();
        return;
      case CommBenchOp::kAllGather:
        comm.iall_gather(send.data(), recv.data(), count, DType::kF32, ctx).wait();
        return;
      case CommBenchOp::kReduceScatter:
        comm.ireduce_scatter(send.data(), recv.data(), count, DType::kF32, ReduceOp::kSum, ctx)
            .wait();
        return;
      case CommBenchOp::kSendRecv:
        // Rank 0 sends, rank 1 echoes: one round trip = two messages.
        if (r == 0) {
          comm.isend(send.data(), count, DType::kF32, 1, 7, ctx).wait();
          comm.irecv(recv.data(), count, DType::kF32, 1, 7, ctx).wait();
        } else if (r == 1) {
          comm.irecv(recv.data(), count, DType::kF32, 0, 7, ctx).wait();
          comm.isend(recv.data(), count, DType::kF32, 0, 7, ctx).wait();
        }
        return;
    }
  }

  double want(std::size_t i) const {
    const int n = comm.size();
    switch (op) {
      case CommBenchOp::kAllReduce:
        return n * (n - 1) / 2.0 + double(n) * double(i % 1024);
      case CommBenchOp::kAllGather:
        return value(static_cast<int>(i / count), i % count);
      case CommBenchOp::kReduceScatter: {
        const std::size_t j = std::size_t(comm.rank()) * count + i;
        return n * (n - 1) / 2.0 + double(n) * double(j % 1024);
      }
      case CommBenchOp::kSendRecv:
        return value(0, i);  // rank 1 receives rank 0's data, rank 0 gets it back
    }
    return 0;
  }

  void check() const {
    if (op == CommBenchOp::kSendRecv && comm.rank() > 1) return;
    for (std::size_t i = 0; i < recv.size(); ++i)
      if (recv[i] != want(i))
        throw comm_error(str("bench ", comm_bench_op_name(op), " of ", bytes, " bytes on ",
                             comm.backend(), " rank ", comm.rank(), ": element ", i, " is ",
                             recv[i], ", expected ", want(i)));
  }
};

}  // namespace

std::string_view comm_bench_op_name(CommBenchOp op) {
  switch (op) {
    case CommBenchOp::kAllReduce:
      return "all_reduce";
    case CommBenchOp::kAllGather:
      return "all_gather";
    case CommBenchOp::kReduceScatter:
      return "reduce_scatter";
    case CommBenchOp::kSendRecv:
      return "send_recv";
  }
  return "?";
}

std::vector<CommBenchRow> bench_collective(Communicator& comm, CommBenchOp op,
                                           std::size_t min_bytes, std::size_t max_bytes,
                                           double seconds_per_size) {
  const int n = comm.size();
  if (op == CommBenchOp::kSendRecv && n < 2)
    throw config_error("bench send_recv needs at least 2 ranks");
  std::vector<CommBenchRow> rows;
  for (std::size_t m = std::max<std::size_t>(min_bytes, 4); m <= max_bytes; m *= 4) {
    Case c(comm, op, m);
    c.run("bench check");
    c.check();

    // Repetitions: rank 0 decides from the median of three timed calls, so every
    // rank runs as many.
    std::vector<double> probe;
    for (int rep = 0; rep < 3; ++rep) {
      Stopwatch watch;
      c.run("bench probe");
      probe.push_back(watch.seconds());
    }
    std::vector<std::int64_t> reps{std::clamp<std::int64_t>(
        static_cast<std::int64_t>(seconds_per_size / std::max(median(probe), 1e-7)), 3, 2000)};
    comm.broadcast(std::span(reps), 0, "bench reps");
    std::vector<double> times, cpu;
    times.reserve(static_cast<std::size_t>(reps[0]));
    for (std::int64_t rep = 0; rep < reps[0]; ++rep) {
      const double c0 = thread_cpu_seconds();
      Stopwatch watch;
      c.run("bench");
      times.push_back(watch.seconds());
      cpu.push_back(thread_cpu_seconds() - c0);
    }
    c.check();

    // Baseline: memcpy of M bytes (median of a few).
    AlignedBuffer<std::byte> a(c.bytes), b(c.bytes);
    std::memset(a.data(), 1, c.bytes);
    std::vector<double> copies;
    for (int rep = 0; rep < 5; ++rep) {
      Stopwatch watch;
      std::memcpy(b.data(), a.data(), c.bytes);
      copies.push_back(watch.seconds());
    }
    const double half = op == CommBenchOp::kSendRecv ? 0.5 : 1.0;  // one way of a round trip
    std::vector<double> row{median(times) * half, median(cpu) * half, median(copies)};
    comm.broadcast(std::span(row), 0, "bench result");
    CommBenchRow out;
    out.op = op;
    out.ranks = n;
    out.bytes = c.bytes;
    out.reps = static_cast<int>(reps[0]);
    out.median_us = row[0] * 1e6;
    out.cpu_us = row[1] * 1e6;
    out.algbw_gbps = row[0] > 0 ? double(c.bytes) / row[0] / 1e9 : 0;
    double a_coef = 0, b_coef = 0;
    comm_ring_coefficients(out, &a_coef, &b_coef);
    out.busbw_gbps = out.algbw_gbps * (b_coef > 0 ? b_coef / double(c.bytes) : 1.0);
    out.memcpy_gbps = row[2] > 0 ? double(c.bytes) / row[2] / 1e9 : 0;
    rows.push_back(out);
  }
  return rows;
}

std::vector<CommBenchRow> bench_all_reduce(Communicator& comm, std::size_t max_bytes,
                                           double seconds_per_size) {
  return bench_collective(comm, CommBenchOp::kAllReduce, 4, max_bytes, seconds_per_size);
}

void comm_ring_coefficients(const CommBenchRow& row, double* a, double* b) {
  const double n = row.ranks, m = double(row.bytes);
  switch (row.op) {
    case CommBenchOp::kAllReduce:
      *a = 2 * (n - 1);
      *b = 2 * (n - 1) / n * m;
      return;
    case CommBenchOp::kAllGather:
    case CommBenchOp::kReduceScatter:
      *a = n - 1;
      *b = (n - 1) / n * m;
      return;
    case CommBenchOp::kSendRecv:
      *a = 1;
      *b = m;
      return;
  }
}

CommFit fit_alpha_beta(const std::vector<CommBenchRow>& rows) {
  // Rows scaled by 1/t: minimise Σ(u·α + v·β − 1)² with u = a/t, v = b/t.
  double uu = 0, uv = 0, vv = 0, u1 = 0, v1 = 0;
  CommFit fit;
  for (const CommBenchRow& r : rows) {
    double a = 0, b = 0;
    comm_ring_coefficients(r, &a, &b);
    const double t = r.median_us * 1e-6;
    if (t <= 0 || (a == 0 && b == 0)) continue;
    const double u = a / t, v = b / t;
    uu += u * u;
    uv += u * v;
    vv += v * v;
    u1 += u;
    v1 += v;
    ++fit.points;
  }
  if (fit.points == 0) return fit;
  const double det = uu * vv - uv * uv;
  double alpha = det > 0 ? (u1 * vv - v1 * uv) / det : -1;
  double beta = det > 0 ? (v1 * uu - u1 * uv) / det : -1;
  if (alpha < 0 || beta < 0) {  // clamp one, refit the other alone
    const double beta_only = vv > 0 ? v1 / vv : 0, alpha_only = uu > 0 ? u1 / uu : 0;
    if (alpha < 0 && beta >= 0) {
      alpha = 0;
      beta = beta_only;
    } else if (beta < 0 && alpha >= 0) {
      beta = 0;
      alpha = alpha_only;
    } else {
      alpha = std::max(alpha_only, 0.0);
      beta = 0;
    }
  }
  fit.alpha_s = alpha;
  fit.beta_s_per_byte = beta;
  double se = 0;
  for (const CommBenchRow& r : rows) {
    double a = 0, b = 0;
    comm_ring_coefficients(r, &a, &b);
    const double t = r.median_us * 1e-6;
    if (t <= 0) continue;
    const double e = (a * alpha + b * beta - t) / t;
    se += e * e;
  }
  fit.rel_rms = std::sqrt(se / fit.points);
  return fit;
}

}  // namespace weft::comm
