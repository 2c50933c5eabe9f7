// `weft demo`: the main job — the whole pipeline on the King James Bible with
// sensible defaults (demo/demo_pipeline.hpp). Parsing only. Main thread.
#include <memory>

#include "cli/command_registry.hpp"
#include "demo/demo_pipeline.hpp"

namespace {

WEFT_COMMAND("demo",
             "The main job: tokenizer → shards → pretraining → SFT → RM → PPO → eval → chat, in minutes",
             10, [](CLI::App& app) -> std::function<int()> {
               auto o = std::make_shared<weft::demo::DemoOptions>();
               app.add_option("--out,-o", o->out, "run directory (report.md, models, plots)")
                   ->capture_default_str();
               app.add_flag("--quick", o->quick, "a ≤ 3-minute smoke version (tiny model, few steps)");
               app.add_option("--ranks", o->ranks, "data-parallel ranks for pretraining")
                   ->capture_default_str();
               app.add_flag("--overwrite", o->overwrite, "delete an earlier demo run in --out first");
               app.add_flag("--resume", o->resume, "continue a run in --out, skipping finished stages");
               app.add_flag("--no-mpi", o->no_mpi, "thread ranks even when mpirun is available");
               app.add_option("--threads", o->threads, "threads in all (0 = all logical CPUs)")
                   ->capture_default_str();
               app.add_option("--scale", o->scale, "multiply every training stage's steps by this")
                   ->capture_default_str();
               app.add_flag(
                   "--no-progress", [o](std::int64_t) { o->progress = false; }, "no progress bars");
               return [o] { return weft::demo::demo_run(*o); };
             });

}  // namespace
