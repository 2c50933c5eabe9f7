// Pretraining stage of `weft demo` (see demo_pretrain.hpp): mpirun child process or
// thread ranks, with a progress bar fed by metrics.jsonl.
#include "demo/demo_pretrain.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"

extern char** environ;

namespace weft::demo {
namespace {

namespace fs = std::filesystem;

// Steps logged so far and the last loss / val_loss seen.
struct MetricsState {
  int steps = 0;
  double loss = 0, val_loss = 0;
};

MetricsState read_metrics(const std::string& path) {
  MetricsState s;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '}') continue;  // a line being written
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      ++s.steps;
      if (j.contains("loss")) s.loss = j["loss"].get<double>();
      if (j.contains("val_loss")) s.val_loss = j["val_loss"].get<double>();
    } catch (const nlohmann::json::exception&) {
    }
  }
  return s;
}

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

// Polls metrics.jsonl while `running()` holds; returns the last state.
template <class Running>
MetricsState watch(const train::PretrainOptions& o, bool progress, Running running) {
  const std::string metrics = o.out + "/metrics.jsonl";
  ProgressBar bar("pretrain", static_cast<std::uint64_t>(o.steps), ProgressUnit::kItems, !progress);
  MetricsState s;
  while (running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    s = read_metrics(metrics);
    bar.set_note(str("loss ", s.loss));
    bar.set(static_cast<std::uint64_t>(s.steps));
  }
  s = read_metrics(metrics);
  bar.set_note(str("loss ", s.loss));
  bar.set(static_cast<std::uint64_t>(s.steps));
  bar.finish();
  return s;
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
  MetricsState s;
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
    posix_spawn_file_actions_addclose(&fa, 0);
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
    s = watch(o, progress, [&] {
      if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
      return !exited;
    });
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw Error(ErrorKind::kRuntime,
                  str("pretraining under mpirun failed (", log, "):\n", tail_of(log, 1500)),
                  "run `weft demo --ranks 1` to train in this process instead");
  } else {
    r.launcher = o.ranks > 1 ? str(o.ranks, " thread ranks in this process") : "1 rank";
    r.command = "weft" + tail + (o.ranks > 1 ? str(" --ranks ", o.ranks, " --ranks-as threads") : "");
    std::exception_ptr error;
    std::atomic<bool> done{false};
    std::thread worker([&] {
      try {
        train::PretrainOptions q = o;
        q.quiet = true;
        q.overwrite = true;
        train::pretrain(q);
      } catch (...) {
        error = std::current_exception();
      }
      done.store(true);
    });
    s = watch(o, progress, [&] { return !done.load(); });
    worker.join();
    if (error) std::rethrow_exception(error);
  }
  r.final_loss = s.loss;
  r.final_val_loss = s.val_loss;
  return r;
}

}  // namespace weft::demo
