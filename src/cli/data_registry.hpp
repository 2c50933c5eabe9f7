// How `weft data <name>` finds its subcommands: each cli/cmd_data_*.cpp registers
// itself with WEFT_DATA_COMMAND(...) (same shape as WEFT_COMMAND), and cmd_data.cpp
// adds them all under `weft data`. Registration runs during static initialisation;
// setup runs once, on the main thread.
#pragma once

#include <vector>

#include "cli/command_registry.hpp"

namespace weft::cli {

std::vector<CommandSpec>& data_registry();

struct DataRegistrar {
  DataRegistrar(std::string name, std::string description, int order, CommandSetup setup);
};

}  // namespace weft::cli

#define WEFT_DATA_COMMAND(name, description, order, setup)                           \
  static ::weft::cli::DataRegistrar WEFT_CLI_CONCAT(weft_data_registrar_, __LINE__)( \
      name, description, order, setup)
