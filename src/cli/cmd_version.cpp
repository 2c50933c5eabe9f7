// `weft version`: build facts (version, compiler, backends) for bug reports.
#include <cstdio>

#include "cli/command_registry.hpp"
#include "core/build_info.hpp"

namespace {

WEFT_COMMAND("version", "Print weft's version and the backends it was built with", 900,
             [](CLI::App&) -> std::function<int()> {
               return [] {
                 std::printf("weft %s (%s, %s) mpi=%s cuda=%s\n", weft::build::kVersion,
                             weft::build::kBuildType, weft::build::kCompilerId,
                             weft::build::kHaveMpi ? "yes" : "no",
                             weft::build::kHaveCuda ? "yes" : "no");
                 return 0;
               };
             });

}  // namespace
