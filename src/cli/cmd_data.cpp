// `weft data`: the group of data-building commands. Its subcommands (`weft data
// chat`, `weft data prepare`, ...) register themselves from their own files with
// WEFT_DATA_COMMAND (cli/data_registry.hpp). Main thread only.
#include <algorithm>
#include <map>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/data_registry.hpp"

namespace weft::cli {

std::vector<CommandSpec>& data_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

DataRegistrar::DataRegistrar(std::string name, std::string description, int order,
                             CommandSetup setup) {
  data_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
}

}  // namespace weft::cli

namespace {

// Adds every registered data subcommand; runs the one the user named.
std::function<int()> setup_data(CLI::App& app) {
  app.require_subcommand(1);
  auto specs = weft::cli::data_registry();
  std::sort(specs.begin(), specs.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
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

WEFT_COMMAND("data", "Build training data: token shards, chat conversations and preference pairs",
             20, setup_data);

}  // namespace
