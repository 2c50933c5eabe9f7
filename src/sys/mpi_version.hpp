// The MPI library weft was built with, asked without initialising MPI
// (MPI_Get_library_version and MPI_Get_version may be called before MPI_Init).
// Defined in mpi_version_mpi.cpp in MPI builds, in mpi_version.cpp otherwise. Any thread.
#pragma once

#include <optional>
#include <string>

namespace weft::sys {

struct MpiVersion {
  bool built = false;                   // weft was built with MPI
  std::string library;                  // first line of MPI_Get_library_version, or "not built"
  std::optional<std::string> standard;  // MPI standard version, e.g. "3.1"
};

MpiVersion mpi_library_version();

}  // namespace weft::sys
