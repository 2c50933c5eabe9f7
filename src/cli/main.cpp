// `weft`: the one executable. Builds the CLI from the registered commands, runs the
// chosen one, and turns weft::Error into a message and an exit code (the only
// place besides the HTTP server where errors are caught).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "cli/command_registry.hpp"
#include "core/build_info.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

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
  app.fallthrough();
  const std::function<int()> run = weft::cli::setup_subcommands(app, weft::cli::command_registry());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    return run();
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
