// Ring collective costs (see comm_model.hpp).
#include "plan/comm_model.hpp"

namespace weft::plan {

double comm_allreduce_s(int n, double bytes, const LinkSpec& link) {
  if (n <= 1) return 0.0;
  const double k = static_cast<double>(n - 1);
  return 2.0 * k / n * bytes / link.bandwidth + 2.0 * k * link.latency;
}

double comm_allgather_s(int n, double bytes, const LinkSpec& link) {
  if (n <= 1) return 0.0;
  const double k = static_cast<double>(n - 1);
  return k / n * bytes / link.bandwidth + k * link.latency;
}

double comm_reduce_scatter_s(int n, double bytes, const LinkSpec& link) {
  return comm_allgather_s(n, bytes, link);
}

double comm_p2p_s(double bytes, const LinkSpec& link) {
  return link.latency + bytes / link.bandwidth;
}

}  // namespace weft::plan
