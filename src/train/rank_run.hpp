// How every training stage (`weft train`, `weft sft`, `weft reward`) runs as data-
// parallel ranks: one launch decision (single rank, thread ranks, or this process as
// one rank of an mpirun job), the start-up check that all ranks run the same job, and
// the DataParallel hooks for a rank's model. Call rank_run from the main thread; the
// job runs on each rank's thread and owns everything it builds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "model/gpt_model.hpp"
#include "parallel/comm/communicator.hpp"
#include "parallel/data_parallel.hpp"

namespace weft::train {

struct RankRunOptions {
  int ranks = 1;                // thread ranks (--ranks-as threads) or 0/N under mpirun
  std::string ranks_as;         // "threads", "mpi", or "" (mpi when launched by mpirun)
  double comm_timeout_s = 300;  // deadline of every collective
};

// Runs job(nullptr) once for a single-rank run, else job(&communicator) on every rank
// (threads or MPI, as `weft train` decides) and returns when all are done.
void rank_run(const RankRunOptions& o, const std::function<void(comm::Communicator*)>& job);

// First 60 bits of SHA-256 of `text`: what every rank must agree on.
std::int64_t run_fingerprint_of(const std::string& text);

// All ranks exchange their fingerprints; a mismatch is a config error on every rank.
void check_same_run(comm::Communicator& c, std::int64_t mine);

// The DP hooks for `m` on communicator c (nullptr when c is nullptr: single rank).
std::unique_ptr<parallel::DataParallel> make_data_parallel(comm::Communicator* c,
                                                           model::GptModel& m, int zero,
                                                           double bucket_mb, bool poison);

}  // namespace weft::train
