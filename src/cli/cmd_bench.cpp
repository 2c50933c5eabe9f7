// `weft bench`: the group of measurements of this machine. Its subcommands
// (`weft bench parallel`, later `weft bench comm`, ...) register themselves from
// their own files with WEFT_BENCH_COMMAND (cli/bench_registry.hpp).
#include "cli/bench_registry.hpp"
#include "cli/command_registry.hpp"

namespace weft::cli {

std::vector<CommandSpec>& bench_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

BenchRegistrar::BenchRegistrar(std::string name, std::string description, int order, CommandSetup setup) {
  bench_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
}

}  // namespace weft::cli

namespace {

std::function<int()> setup_bench(CLI::App& app) {
  return weft::cli::setup_subcommands(app, weft::cli::bench_registry());
}

WEFT_COMMAND("bench", "Measure this machine: threads vs processes (and more bench subcommands)", 200,
             setup_bench);

}  // namespace
