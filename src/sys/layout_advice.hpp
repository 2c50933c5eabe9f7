// The recommended local training layout (ranks × threads per rank) for a machine,
// with a one-line reason and a launch line. Pure function of a few CPU facts, so
// tests check it on fixture machines. Any thread.
#pragma once

#include <optional>
#include <string>

namespace weft::sys {

struct LayoutInputs {
  std::optional<int> sockets;
  std::optional<int> physical_cores;
  std::optional<int> logical_cpus;
  std::optional<int> threads_per_core;
  std::optional<int> numa_nodes;
  std::optional<int> usable_cpus;  // affinity mask of this process (live only)
};

struct LayoutAdvice {
  int ranks = 1;
  int threads_per_rank = 1;
  std::string reason;  // one line
  std::string launch;  // e.g. "OMP_NUM_THREADS=16 mpirun -np 8 --map-by numa --bind-to numa weft ..."
};

LayoutAdvice recommend_layout(const LayoutInputs& in);

}  // namespace weft::sys
