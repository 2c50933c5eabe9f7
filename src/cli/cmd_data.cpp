// `weft data`: the group of data-building commands. Its subcommands (`weft data
// chat`, `weft data prepare`, ...) register themselves from their own files with
// WEFT_DATA_COMMAND (cli/data_registry.hpp). Main thread only.
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

std::function<int()> setup_data(CLI::App& app) {
  return weft::cli::setup_subcommands(app, weft::cli::data_registry());
}

WEFT_COMMAND("data", "Build training data: token shards, chat conversations and preference pairs",
             20, setup_data);

}  // namespace
