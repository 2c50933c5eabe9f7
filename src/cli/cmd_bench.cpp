// `weft bench`: the group of measurements of this machine. Its subcommands
// (`weft bench parallel`, later `weft bench comm`, ...) register themselves from
// their own files with WEFT_BENCH_COMMAND (cli/bench_registry.hpp).
#include <algorithm>
#include <map>
#include <memory>

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

// Adds every registered bench subcommand; runs the one the user named.
std::function<int()> setup_bench(CLI::App& app) {
  app.require_subcommand(1);
  auto specs = weft::cli::bench_registry();
  std::sort(specs.begin(), specs.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  auto runners = std::make_shared<std::map<CLI::App*, std::function<int()>>>();
  for (auto& spec : specs) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    (*runners)[sub] = spec.setup(*sub);
  }
  return [runners] {
    for (auto& [sub, run] : *runners)
      if (sub->parsed()) return run();
    return 1;
  };
}

WEFT_COMMAND("bench", "Measure this machine: threads vs processes (and more bench subcommands)", 200,
             setup_bench);

}  // namespace
