// Pretraining stage of `weft demo` (see demo_pretrain.hpp): mpirun child process or
// thread ranks, with a progress bar fed by metrics.jsonl.
#include "demo/demo_pretrain.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "demo/demo_watch.hpp"

extern char** environ;

namespace weft::demo {
namespace {

namespace fs = std::filesystem;

std::string tail_of(const std::string& path, std::size_t bytes) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

std::vector<std::string> train_args(const train::PretrainOptions& o) {
  std::vector<std::string> a = {"train", "--model", o.model, "--vocab", std::to_string(o.vocab),
                                "--max-seq", std::to_string(o.max_seq), "--data", o.data,
                                "--batch", std::to_string(o.batch), "--seq", std::to_string(o.seq),
                                "--steps", std::to_string(o.steps), "--lr", str(o.lr),
                                "--warmup", std::to_string(o.warmup), "--weight-decay",
                                str(o.weight_decay), "--val-every", std::to_string(o.val_every),
                                "--val-batches", std::to_string(o.val_batches), "--seed",
                                std::to_string(o.seed), "--threads", std::to_string(o.threads),
                                "--peak-gflops", str(o.peak_gflops), "--out", o.out,
                                "--overwrite", "-q"};
  if (!o.val_data.empty()) {
    a.push_back("--val-data");
    a.push_back(o.val_data);
  }
  return a;
}

}  // namespace

std::string demo_find_mpirun() {
  if (!build::kHaveMpi) return "";
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / "mpirun";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

DemoPretrainResult demo_pretrain(const train::PretrainOptions& o, const std::string& mpirun,
                                 bool progress) {
  fs::create_directories(o.out);
  fs::remove(o.out + "/metrics.jsonl");  // a failed earlier try of this stage
  DemoPretrainResult r;
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::vector<std::string> targs = train_args(o);
  std::string tail;
  for (const std::string& a : targs) tail += " " + a;
  DemoWatchState s;
  if (!mpirun.empty()) {
    std::vector<std::string> argv = {mpirun, "-np", std::to_string(o.ranks), "--oversubscribe"};
    if (::geteuid() == 0) argv.push_back("--allow-run-as-root");
    // Each process uses its share of the cores (OMP threads) — set through --threads.
    argv.push_back(self);
    argv.insert(argv.end(), targs.begin(), targs.end());
    r.launcher = str("mpirun -np ", o.ranks, " (", o.ranks, " MPI processes)");
    r.command = "mpirun -np " + std::to_string(o.ranks) + " weft" + tail;
    const std::string log = o.out + "/train.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      errno = rc;
      throw io_error_errno("cannot start", mpirun);
    }
    int status = 0;
    bool exited = false;
    s = demo_watch("pretrain", o.steps, o.out + "/metrics.jsonl", "loss", progress, [&] {
      if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
      return !exited;
    });
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw Error(ErrorKind::kRuntime,
                  str("pretraining under mpirun failed (", log, "):\n", tail_of(log, 1500)),
                  "add --resume --no-mpi to train as thread ranks in this process instead");
  } else {
    r.launcher = o.ranks > 1 ? str(o.ranks, " thread ranks in this process") : "1 rank";
    r.command = "weft" + tail + (o.ranks > 1 ? str(" --ranks ", o.ranks, " --ranks-as threads") : "");
    s = demo_run_watched("pretrain", o.steps, o.out + "/metrics.jsonl", "loss", progress, [&] {
      train::PretrainOptions q = o;
      q.quiet = true;
      q.overwrite = true;
      train::pretrain(q);
    });
  }
  r.final_loss = s.value;
  r.final_val_loss = s.val_value;
  return r;
}

}  // namespace weft::demo
