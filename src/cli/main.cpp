// `weft`: the one executable. Builds the CLI from the registered commands, runs the
// chosen one, and turns weft::Error into a message and an exit code (the only
// place besides the HTTP server where errors are caught).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>

#include "cli/command_registry.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace weft::cli {

std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}

CommandRegistrar::CommandRegistrar(std::string name, std::string description, int order,
                                   CommandSetup setup) {
  command_registry().push_back({std::move(name), std::move(description), order, std::move(setup)});
}

}  // namespace weft::cli

namespace {

// OpenMP spin-waiting wrecks timings on small VMs and when ranks share cores:
// wait passively unless the user chose otherwise. Must happen before the first
// parallel region, i.e. before anything else runs.
void default_environment() { setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0); }

}  // namespace

int main(int argc, char** argv) {
  default_environment();
  CLI::App app{"weft: train ChatGPT-like models end to end, from one laptop to a cluster", "weft"};
  app.set_version_flag("--version", std::string("weft ") + weft::build::kVersion);
  app.require_subcommand(1);
  app.fallthrough();

  auto specs = weft::cli::command_registry();
  std::sort(specs.begin(), specs.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (auto& spec : specs) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.description);
    runners[sub] = spec.setup(*sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
    return 1;
  } catch (const weft::Error& e) {
    weft::log_error(e.what());
    if (!e.hint().empty()) weft::log_error("HINT: ", e.hint());
    return weft::error_exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    weft::log_error("out of memory. HINT: use a smaller model, batch or sequence length");
    return 1;
  } catch (const std::exception& e) {
    weft::log_error(e.what());
    return 1;
  }
}
