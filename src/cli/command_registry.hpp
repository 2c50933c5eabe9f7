// How `weft <command>` finds its subcommands: each cli/cmd_*.cpp registers itself
// with WEFT_COMMAND(...), so adding a command touches no shared file. Registration
// runs during static initialisation of the executable (cli/ is not in the library,
// so nothing is dropped by the linker). Parsing only: each command calls into the
// library layers to do its work.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace weft::cli {

// Adds the subcommand's options to `app`; returns the function that runs it and
// returns the process exit code. Runs once, on the main thread.
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct CommandSpec {
  std::string name;
  std::string description;
  int order;  // position in `weft --help` (lower first)
  CommandSetup setup;
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, int order, CommandSetup setup);
};

// Adds `specs` as subcommands of `app` (sorted by order, one required) and returns the
// function that runs the one the user named. Used by `weft` itself and by command
// groups such as `weft bench` and `weft data`.
std::function<int()> setup_subcommands(CLI::App& app, std::vector<CommandSpec> specs);

}  // namespace weft::cli

#define WEFT_CLI_CONCAT_(a, b) a##b
#define WEFT_CLI_CONCAT(a, b) WEFT_CLI_CONCAT_(a, b)
#define WEFT_COMMAND(name, description, order, setup)        \
  static ::weft::cli::CommandRegistrar WEFT_CLI_CONCAT(      \
      weft_command_registrar_, __LINE__)(name, description, order, setup)
