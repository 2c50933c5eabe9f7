// MPI builds only: the MPI library and standard versions, both callable before
// MPI_Init, so `weft hw` never starts MPI (see mpi_version.hpp).
// Only MPI's C API: Open MPI's mpi.h otherwise drags in its deprecated C++
// bindings, which need libmpi_cxx at link time.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "sys/hw_text.hpp"
#include "sys/mpi_version.hpp"

namespace weft::sys {

MpiVersion mpi_library_version() {
  MpiVersion out;
  out.built = true;
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(text, &length) == MPI_SUCCESS) {
    // `length` may count a terminating NUL: stop at the first one.
    const size_t limit = static_cast<size_t>(length > 0 ? length : 0);
    std::string_view all(text, strnlen(text, std::min(limit, sizeof(text))));
    out.library = std::string(trim(all.substr(0, all.find('\n'))));
  }
  if (out.library.empty()) out.library = "unknown MPI";
  int major = 0, minor = 0;
  if (MPI_Get_version(&major, &minor) == MPI_SUCCESS) out.standard = str(major, ".", minor);
  return out;
}

}  // namespace weft::sys
