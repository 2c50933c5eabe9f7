// Fallback for builds without MPI (WEFT_MPI=OFF or Open MPI not found): the real
// query is in mpi_version_mpi.cpp, which only MPI builds compile.
#include "sys/mpi_version.hpp"

#if !defined(WEFT_HAVE_MPI)
namespace weft::sys {

MpiVersion mpi_library_version() { return MpiVersion{false, "not built", std::nullopt}; }

}  // namespace weft::sys
#endif
