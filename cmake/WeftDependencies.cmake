# Finds weft's dependencies (Debian packages, see scripts/setup.sh) and gathers them
# into one interface target, weft_deps, that weft_lib links publicly.
add_library(weft_deps INTERFACE)

find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 content hashes
target_link_libraries(weft_deps INTERFACE Threads::Threads OpenMP::OpenMP_CXX nlohmann_json::nlohmann_json OpenSSL::Crypto ${CMAKE_DL_LIBS})

# BLAS: the OpenMP build of OpenBLAS, so BLAS and weft's loops share one thread pool.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(WEFT_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-openmp openblas REQUIRED)
target_link_libraries(weft_deps INTERFACE BLAS::BLAS)
target_include_directories(weft_deps INTERFACE ${WEFT_CBLAS_INCLUDE})

# oneDNN (libdnnl-dev), optional: the bf16 matmuls (kernels/cpu/matmul_bf16). Without it
# --precision bf16 falls back to fp32 with a notice.
find_package(dnnl CONFIG QUIET)
if(dnnl_FOUND)
  target_link_libraries(weft_deps INTERFACE DNNL::dnnl)
  target_compile_definitions(weft_deps INTERFACE WEFT_HAVE_DNNL=1)
  message(STATUS "weft: oneDNN ${dnnl_VERSION} found (bf16 matmuls)")
else()
  message(STATUS "weft: oneDNN not found; bf16 matmuls fall back to fp32")
endif()

# MPI: AUTO means "when Open MPI is found".
set(WEFT_HAVE_MPI OFF)
if(NOT WEFT_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS C)
  if(MPI_C_FOUND)
    set(WEFT_HAVE_MPI ON)
    target_link_libraries(weft_deps INTERFACE MPI::MPI_C)
    target_compile_definitions(weft_deps INTERFACE WEFT_HAVE_MPI=1 OMPI_SKIP_MPICXX=1)
  elseif(WEFT_MPI STREQUAL "ON")
    message(FATAL_ERROR "WEFT_MPI=ON but MPI was not found. HINT: apt-get install libopenmpi-dev openmpi-bin")
  endif()
endif()

# CUDA: AUTO means "when nvcc and the toolkit are found". This build targets
# sm_80/86/90 by default and must compile with CUDA 12.x as well as 13.
set(WEFT_HAVE_CUDA OFF)
if(NOT WEFT_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(WEFT_NVCC nvcc PATHS /usr/local/cuda/bin)
    if(WEFT_NVCC)
      set(CMAKE_CUDA_COMPILER ${WEFT_NVCC})
    endif()
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 86 90)
    endif()
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(CUDAToolkit_FOUND)
      set(WEFT_HAVE_CUDA ON)
      target_link_libraries(weft_deps INTERFACE CUDA::cudart CUDA::cublas CUDA::cublasLt)
      target_compile_definitions(weft_deps INTERFACE WEFT_HAVE_CUDA=1)
    endif()
  endif()
  if(NOT WEFT_HAVE_CUDA AND WEFT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "WEFT_CUDA=ON but nvcc / the CUDA toolkit was not found. HINT: install the CUDA toolkit or configure with -DWEFT_CUDA=OFF")
  endif()
endif()

# NCCL (multi-GPU collectives), with CUDA. The unique id goes out over another
# Communicator (MPI across processes, or threads in one). Sources named *_nccl.cpp
# build only when it is found.
set(WEFT_HAVE_NCCL OFF)
if(WEFT_HAVE_CUDA)
  find_path(WEFT_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(WEFT_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(WEFT_NCCL_INCLUDE AND WEFT_NCCL_LIBRARY)
    set(WEFT_HAVE_NCCL ON)
    target_include_directories(weft_deps INTERFACE ${WEFT_NCCL_INCLUDE})
    target_link_libraries(weft_deps INTERFACE ${WEFT_NCCL_LIBRARY})
    target_compile_definitions(weft_deps INTERFACE WEFT_HAVE_NCCL=1)
  endif()
endif()

# Data pipeline: remote shards over HTTP range requests (libcurl).
find_package(CURL REQUIRED)
target_link_libraries(weft_deps INTERFACE CURL::libcurl)

# cpp-httplib (weft serve). Debian ships it as a compiled library whose header is built
# with OpenSSL/zlib/brotli support; those defines change struct layouts (Request has an
# SSL* member), so they come from its pkg-config file. weft itself serves plain HTTP.
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEFT_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(weft_deps INTERFACE PkgConfig::WEFT_HTTPLIB)
