// How `weft bench <name>` finds its subcommands: each cli/cmd_bench_*.cpp registers
// itself with WEFT_BENCH_COMMAND(...) (same shape as WEFT_COMMAND), and
// cmd_bench.cpp adds them all under `weft bench`. Registration runs during static
// initialisation; setup runs once, on the main thread.
#pragma once

#include <vector>

#include "cli/command_registry.hpp"

namespace weft::cli {

std::vector<CommandSpec>& bench_registry();

struct BenchRegistrar {
  BenchRegistrar(std::string name, std::string description, int order, CommandSetup setup);
};

}  // namespace weft::cli

#define WEFT_BENCH_COMMAND(name, description, order, setup)  \
  static ::weft::cli::BenchRegistrar WEFT_CLI_CONCAT(        \
      weft_bench_registrar_, __LINE__)(name, description, order, setup)
