// Layout rule (see layout_advice.hpp): one rank per memory domain (NUMA node, else
// socket) so each rank's memory stays local, and one thread per physical core in
// it: BLAS gains nothing from SMT siblings, which share the core's FMA units.
#include "sys/layout_advice.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace weft::sys {

namespace {

std::string launch_line(int ranks, int threads, const char* domain) {
  if (ranks == 1) return str("OMP_NUM_THREADS=", threads, " weft <command>");
  return str("OMP_NUM_THREADS=", threads, " mpirun -np ", ranks, " --map-by ", domain,
             " --bind-to ", domain, " weft <command>");
}

}  // namespace

LayoutAdvice recommend_layout(const LayoutInputs& in) {
  LayoutAdvice out;
  const bool affinity_limited =
      in.usable_cpus && in.logical_cpus && *in.usable_cpus < *in.logical_cpus;
  if (affinity_limited) {
    // Inside a cpuset (container, batch job): we cannot tell which cores we got,
    // so assume SMT pairs are whole and stay in one process.
    const int tpc = std::max(1, in.threads_per_core.value_or(1));
    out.threads_per_rank = std::max(1, *in.usable_cpus / tpc);
    out.reason = str("this process may use only ", *in.usable_cpus, " of ", *in.logical_cpus,
                     " CPUs, so 1 rank with one thread per core it was given");
    out.launch = launch_line(1, out.threads_per_rank, "");
    return out;
  }
  if (!in.physical_cores) {
    const int cpus = std::max(1, in.usable_cpus.value_or(in.logical_cpus.value_or(1)));
    out.threads_per_rank = cpus;
    out.reason = str("core topology unknown, so 1 rank with one thread per logical CPU (", cpus,
                     ")");
    out.launch = launch_line(1, cpus, "");
    return out;
  }
  const int cores = *in.physical_cores;
  const char* domain = "";
  const char* domain_name = "";
  if (in.numa_nodes && *in.numa_nodes > 1 && cores % *in.numa_nodes == 0) {
    out.ranks = *in.numa_nodes;
    domain = "numa";
    domain_name = "NUMA node";
  } else if (in.sockets && *in.sockets > 1 && cores % *in.sockets == 0) {
    out.ranks = *in.sockets;
    domain = "socket";
    domain_name = "socket";
  }
  out.threads_per_rank = cores / out.ranks;
  const bool smt = in.threads_per_core && *in.threads_per_core > 1;
  const std::string smt_note = smt ? "; SMT siblings left idle (BLAS gains nothing from them)" : "";
  if (out.ranks > 1) {
    out.reason = str("1 rank per ", domain_name, " keeps each rank's memory local; ",
                     out.threads_per_rank, " threads = its physical cores", smt_note);
  } else {
    out.reason = str("one memory domain, so threads in 1 rank share it best; ", out.threads_per_rank,
                     " threads = physical cores", smt_note);
  }
  out.launch = launch_line(out.ranks, out.threads_per_rank, domain);
  return out;
}

}  // namespace weft::sys
