// α–β cost of ring collectives and point-to-point messages (Thakur et al. 2005;
// Patarasuk & Yuan 2009): time = latency terms · α + bytes moved per rank / β.
// Pure functions; any thread. Message sizes `bytes` are the full (unsharded) buffer.
#pragma once

#include "plan/hardware.hpp"

namespace weft::plan {

// Ring all-reduce over n ranks: 2(n−1)/n · M/β + 2(n−1)·α. Zero when n == 1.
double comm_allreduce_s(int n, double bytes, const LinkSpec& link);
// Ring all-gather or reduce-scatter: (n−1)/n · M/β + (n−1)·α. Zero when n == 1.
double comm_allgather_s(int n, double bytes, const LinkSpec& link);
double comm_reduce_scatter_s(int n, double bytes, const LinkSpec& link);
// One point-to-point message: α + M/β.
double comm_p2p_s(double bytes, const LinkSpec& link);

}  // namespace weft::plan
