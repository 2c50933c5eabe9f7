// Launch and start-up checks shared by the training stages. See rank_run.hpp.
#include "train/rank_run.hpp"

#include <chrono>
#include <vector>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "parallel/comm/launch.hpp"
#include "parallel/comm/mpi_runtime.hpp"

namespace weft::train {

void rank_run(const RankRunOptions& o, const std::function<void(comm::Communicator*)>& job) {
  const bool mpi = o.ranks_as == "mpi" || (o.ranks_as.empty() && comm::MpiRuntime::built() &&
                                           comm::MpiRuntime::launched());
  if (!mpi && o.ranks <= 1 && o.ranks_as != "threads") {
    job(nullptr);
    return;
  }
  comm::Options copt;
  copt.timeout = std::chrono::milliseconds(static_cast<long long>(o.comm_timeout_s * 1000));
  const comm::RanksAs as =
      mpi ? comm::RanksAs::kMpi
          : comm::parse_ranks_as(o.ranks_as.empty() ? "threads" : o.ranks_as);
  comm::run_ranks(as, mpi ? (o.ranks > 1 ? o.ranks : 0) : o.ranks, copt,
                  [&](comm::Communicator& c) { job(&c); });
}

std::int64_t run_fingerprint_of(const std::string& text) {
  const std::string hex = sha256_hex(text);
  return static_cast<std::int64_t>(std::stoull(hex.substr(0, 15), nullptr, 16));
}

void check_same_run(comm::Communicator& c, std::int64_t mine) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(c.size()));
  c.all_gather(std::span<const std::int64_t>(&mine, 1), std::span<std::int64_t>(all),
               "start: config/data hash");
  for (int r = 1; r < c.size(); ++r)
    if (all[static_cast<std::size_t>(r)] != all[0])
      throw config_error(str("rank ", r, " runs a different job than rank 0: the hash of config "
                             "+ training shards differs (", all[static_cast<std::size_t>(r)],
                             " vs ", all[0], ")"),
                         "launch every rank with the same arguments and the same data");
}

std::unique_ptr<parallel::DataParallel> make_data_parallel(comm::Communicator* c,
                                                           model::GptModel& m, int zero,
                                                           double bucket_mb, bool poison) {
  if (c == nullptr) return nullptr;
  parallel::DataParallelOptions dpo;
  dpo.zero = zero;
  dpo.bucket_bytes = static_cast<std::size_t>(bucket_mb * (1 << 20));
  dpo.poison_released = poison;
  return std::make_unique<parallel::DataParallel>(*c, m, dpo);
}

}  // namespace weft::train
