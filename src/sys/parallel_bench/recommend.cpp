// The recommendation of `weft bench parallel`: one line per scenario and a verdict,
// each quoting the measured numbers it rests on. Pure function of the report.
#include <signal.h>

#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "sys/parallel_bench/parallel_bench.hpp"
#include "sys/parallel_bench/workers.hpp"

namespace weft::sys::pbench {
namespace {

std::string fmt(double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
  return buf;
}

const TransferRow* find_transfer(const Report& r, const std::string& key) {
  for (const auto& row : r.sharing.rows)
    if (row.transport == key && row.available && row.gbps > 0) return &row;
  return nullptr;
}

std::string pct(double part, double whole) { return fmt(100.0 * part / whole, 0) + "%"; }

}  // namespace

std::vector<Recommendation> recommend(const Report& r) {
  std::vector<Recommendation> out;

  // Start-up.
  bool threads_start_faster = false;
  if (!r.startup.rows.empty()) {
    const StartupRow& one = r.startup.rows.front();
    threads_start_faster = one.process_us > one.thread_us;
    out.push_back({"startup", threads_start_faster ? "threads" : "either",
                   str("processes cost ", fmt(one.process_us - one.thread_us, 0),
                       " us more to start than threads (fork+wait ", fmt(one.process_us, 0),
                       " us vs spawn+join ", fmt(one.thread_us, 0),
                       " us for one worker): fine for ranks started once per run, "
                       "too dear to fork per small task")});
  }

  // CPU-bound scaling.
  if (!r.cpu.rows.empty()) {
    const CpuRow& last = r.cpu.rows.back();
    const double t = last.threads.speedup, p = last.processes.speedup;
    const bool close = std::fabs(t - p) <= 0.1 * std::max(t, p);
    out.push_back({"cpu", close ? "either" : (t > p ? "threads" : "processes"),
                   str("CPU-bound work scales alike: with ", last.workers, " workers threads reach ",
                       fmt(t, 2), "x (", fmt(100 * last.threads.efficiency, 0),
                       "% efficiency), processes ", fmt(p, 2), "x (",
                       fmt(100 * last.processes.efficiency, 0), "%)")});
  }

  // Memory bandwidth.
  if (!r.memory.rows.empty()) {
    double best_t = 0, best_p = 0;
    int at_t = 1, at_p = 1;
    for (const auto& row : r.memory.rows) {
      if (row.thread_gbps > best_t) best_t = row.thread_gbps, at_t = row.workers;
      if (row.process_gbps > best_p) best_p = row.process_gbps, at_p = row.workers;
    }
    const double one = r.memory.rows.front().thread_gbps;
    const bool close = std::fabs(best_t - best_p) <= 0.1 * std::max(best_t, best_p);
    out.push_back({"memory", close ? "either" : (best_t > best_p ? "threads" : "processes"),
                   str("bandwidth-bound work is limited by memory, not by the kind of worker: best ",
                       fmt(best_t, 1), " GB/s with ", at_t, " threads, ", fmt(best_p, 1), " GB/s with ",
                       at_p, " processes; one worker already gets ", fmt(one, 1), " GB/s (",
                       pct(one, std::max(best_t, best_p)), " of the best)")});
  }

  // Sharing a buffer.
  const TransferRow* thr = find_transfer(r, "thread_memcpy");
  const TransferRow* shm = find_transfer(r, "process_shm");
  const TransferRow* pipe = find_transfer(r, "process_pipe");
  const TransferRow* mpi = find_transfer(r, "process_mpi");
  double shm_share = 0;
  if (thr != nullptr) {
    std::string line = str("moving ", r.sharing.bytes >> 20, " MiB to another worker: threads copy it at ",
                           fmt(thr->gbps, 1), " GB/s (or use it in place, no copy)");
    if (shm != nullptr) {
      shm_share = shm->gbps / thr->gbps;
      line += str("; shm between processes reaches ", pct(shm->gbps, thr->gbps), " of that (",
                  fmt(shm->gbps, 1), " GB/s)");
    }
    if (pipe != nullptr) line += str(", a pipe ", pct(pipe->gbps, thr->gbps));
    if (mpi != nullptr) line += str(", MPI ", pct(mpi->gbps, thr->gbps));
    else line += ", MPI not measured (run under mpirun -np 2)";
    out.push_back({"sharing", "threads", line});
  }

  // Latency: the best thread transport against the best process transport.
  std::string best_t_key, best_p_key;
  double best_t = -1, best_p = -1;
  for (const auto& row : r.latency.rows) {
    if (!row.available || row.points.empty()) continue;
    const double us = row.points.front().one_way_us;
    const bool thread = row.between == "threads";
    double& best = thread ? best_t : best_p;
    if (best < 0 || us < best) {
      best = us;
      (thread ? best_t_key : best_p_key) = row.transport;
    }
  }
  bool threads_talk_faster = false;
  if (best_t > 0 && best_p > 0) {
    threads_talk_faster = best_t < best_p;
    std::string line = str("a small message takes ", fmt(best_t, 2), " us one way between threads (",
                           best_t_key, ") vs ", fmt(best_p, 2), " us between processes (", best_p_key, ")");
    std::string all;
    for (const auto& row : r.latency.rows)
      if (row.available && !row.points.empty())
        all += str(all.empty() ? "" : ", ", row.transport, " ", fmt(row.points.front().one_way_us, 1));
    line += str("; all, in us: ", all);
    const bool close = std::fabs(best_t - best_p) <= 0.2 * std::max(best_t, best_p);
    out.push_back({"latency", close ? "either" : (threads_talk_faster ? "threads" : "processes"), line});
  }

  // Crash isolation.
  const ThreadPoolCrash& tc = r.crash.thread_pool;
  const ProcessPoolCrash& pc = r.crash.process_pool;
  const bool thread_pool_died = tc.child_signaled && !tc.results_delivered;
  const bool process_pool_isolated =
      pc.killed_by_sigsegv == 1 && pc.completed_ok == pc.workers - 1 && pc.workers >= 2;
  out.push_back({"crash", process_pool_isolated ? "processes" : "either",
                 str("a segfault in 1 of ", tc.workers, " threads ",
                     thread_pool_died ? str("killed the whole process (", signal_name(tc.child_signal),
                                            "), no results delivered")
                                      : std::string("did not take the pool down (unexpected)"),
                     "; in a pool of ", pc.workers, " processes ", pc.killed_by_sigsegv,
                     " worker died of SIGSEGV and ", pc.completed_ok, " returned verified results")});

  // Verdict.
  const bool threads_inside = threads_start_faster || threads_talk_faster;
  std::string choice = process_pool_isolated && threads_inside ? "both"
                       : process_pool_isolated                 ? "processes"
                       : threads_inside                        ? "threads"
                                                               : "either";
  std::string text;
  if (choice == "both") {
    text = str("both, as weft does: processes across ranks (a crash stays in its rank; shm reaches ",
               fmt(100 * shm_share, 0), "% of thread copy bandwidth; start-up is paid once), threads "
               "inside a rank for fine-grained work (",
               fmt(best_t, 2), " us vs ", fmt(best_p, 2), " us per small message; data shared in place)");
  } else {
    text = str(choice, ": see the lines above");
  }
  out.push_back({"verdict", choice, text});
  return out;
}

}  // namespace weft::sys::pbench
