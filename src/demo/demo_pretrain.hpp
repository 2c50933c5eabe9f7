// Pretraining inside `weft demo`: as N local MPI processes (`mpirun -np N weft train
// ...` as a child process) when this build has MPI and mpirun is on the PATH, else as
// N thread ranks in this process (train::pretrain on a worker thread). Either way the
// calling thread draws a progress bar from RUN_DIR/metrics.jsonl, which rank 0
// appends to after every step. Main thread only.
#pragma once

#include <string>

#include "train/pretrain.hpp"

namespace weft::demo {

struct DemoPretrainResult {
  std::string launcher;  // "mpirun -np 2" or "2 thread ranks"
  std::string command;   // the equivalent command line, for the report
  double final_loss = 0;
  double final_val_loss = 0;  // 0 when no validation ran
};

// Where mpirun is, or "" when MPI is not built in or mpirun is not on the PATH.
std::string demo_find_mpirun();

// Runs o (o.out is the run directory; o.ranks the rank count). `use_mpirun`: the
// path from demo_find_mpirun(), or "" for thread ranks. The child's output goes to
// o.out/train.log. Throws weft::Error when training fails (the log's tail included).
DemoPretrainResult demo_pretrain(const train::PretrainOptions& o, const std::string& use_mpirun,
                                 bool progress);

}  // namespace weft::demo
