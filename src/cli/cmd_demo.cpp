// `weft demo`: the main job. The full pipeline (tokenizer → shards → pretraining on
// local ranks → SFT → reward model → PPO → evaluation → chat) arrives with issue 9;
// until then the demo is the start of that story: know the machine (hardware report)
// and measure when threads beat processes on it.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/command_registry.hpp"
#include "sys/hw_report.hpp"
#include "sys/parallel_bench/parallel_bench.hpp"

namespace {

struct DemoArgs {
  bool full_bench = false;
};

int run_demo(const DemoArgs& args) {
  namespace pb = weft::sys::pbench;
  std::printf("weft demo — step 1 of the pipeline: what is this machine?\n\n");
  const weft::sys::HwReport hw = weft::sys::collect_hw_report();
  std::printf("%s\n", weft::sys::hw_report_table(hw).c_str());

  std::printf("weft demo — step 2: threads or processes, measured here%s\n\n",
              args.full_bench ? "" : " (quick run; --full-bench for the full one)");
  std::fflush(stdout);  // nothing buffered may be duplicated by the benchmark's fork()
  const int workers = std::max(2, hw.cpu.logical_cpus.value_or(2));
  const pb::RunResult run = pb::run_parallel_bench(pb::make_options(workers, !args.full_bench));
  if (run.mpi_rank_only) return 0;
  pb::print_report(run.report, stdout);

  std::printf(
      "\nStill to come in `weft demo` (docs/roadmap in the README): tokenizer training on the\n"
      "King James Bible, token shards, pretraining on several local ranks, SFT, a reward\n"
      "model, PPO, an evaluation table and a ready `weft chat` command line.\n");
  return 0;
}

WEFT_COMMAND("demo", "The main job: the whole pipeline on the default corpus (see README)", 10,
             [](CLI::App& app) -> std::function<int()> {
               auto args = std::make_shared<DemoArgs>();
               app.add_flag("--full-bench", args->full_bench,
                            "Run the full threads-vs-processes benchmark (about a minute)");
               return [args] { return run_demo(*args); };
             });

}  // namespace
