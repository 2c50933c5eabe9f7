// The command registries and the one function that turns registered specs into
// CLI11 subcommands. See command_registry.hpp. Main thread only.
#include "cli/command_registry.hpp"

#include <algorithm>
#include <map>
#include <memory>

namespace weft::cli {

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

CommandRegistrar::CommandRegistrar(std::string name, std::string description, int order,
                                   CommandSetup setup) {
  command_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
}

std::function<int()> setup_subcommands(CLI::App& app, std::vector<CommandSpec> specs) {
  app.require_subcommand(1);
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

}  // namespace weft::cli
