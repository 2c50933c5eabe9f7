// `weft demo`: the whole pipeline with sensible defaults on the King James Bible —
// hardware report → tokenizer → shards → pretraining (local MPI processes or thread
// ranks) → chat data → SFT → reward model → PPO / DPO → eval table → report.md with
// plots → the `weft chat` / `weft serve` lines for the result. Stages this build does
// not have are reported as "not available in this build". Main thread only (forks
// ETL workers, may start mpirun).
#pragma once

#include <string>

namespace weft::demo {

struct DemoOptions {
  std::string out = "runs/demo";
  bool quick = false;      // ≤ 3-minute smoke version (small model, few steps, part of the KJV)
  int ranks = 2;           // data-parallel ranks for pretraining
  bool overwrite = false;  // delete an existing RUN_DIR first
  bool resume = false;     // continue an existing RUN_DIR, skipping finished stages
  bool no_mpi = false;     // thread ranks even when mpirun is available
  int threads = 0;         // threads in all (0 = the machine's logical CPUs)
  double scale = 1.0;      // multiplies the training steps (e.g. 0.5 on a busy machine)
  bool progress = true;
};

// Returns the process exit code. Throws weft::Error on bad options or a failed stage
// (RUN_DIR keeps what finished; --resume continues).
int demo_run(const DemoOptions& options);

}  // namespace weft::demo
