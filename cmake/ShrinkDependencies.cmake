# Every dependency comes from the system (scripts/bootstrap.sh installs the Debian packages).
find_package(OpenMP REQUIRED COMPONENTS CXX)
# Prefer OpenBLAS built on OpenMP (Debian: libopenblas-openmp-dev): it runs in the program's OpenMP
# thread pool. The pthread build keeps threads of its own that spin between calls against ours; on the
# 2-core CI machine that made an SAE training step 3.4x its GEMM time instead of 1.2x (docs/PERF.md).
# Both builds share the soname libopenblas.so.0, so the library records this directory in its RPATH.
set(SHRINK_OPENBLAS_OPENMP_DIR "/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp")
if(EXISTS "${SHRINK_OPENBLAS_OPENMP_DIR}/libopenblas.so")
  list(PREPEND CMAKE_LIBRARY_PATH "${SHRINK_OPENBLAS_OPENMP_DIR}")
  set(SHRINK_BLAS_RPATH "${SHRINK_OPENBLAS_OPENMP_DIR}")
endif()
set(BLA_VENDOR OpenBLAS)
find_package(BLAS)
if(NOT BLAS_FOUND)
  unset(BLA_VENDOR)
  find_package(BLAS REQUIRED)
endif()
# The Cholesky of the Lasso solvers' Newton step (OpenBLAS carries LAPACK, and BLA_VENDOR finds it there).
find_package(LAPACK REQUIRED)
find_package(ZLIB REQUIRED)  # SciPy's .npz (zip members, deflated)
# The program's parser and JSON: needed by the CLI (and so the tests and fuzzers), not by the library.
if(SHRINK_BUILD_CLI OR SHRINK_BUILD_TESTS OR SHRINK_FUZZ)
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(CLI11 REQUIRED)
endif()

# fast_float is header-only; Debian ships a CMake package, but fall back to a plain header search.
find_package(FastFloat QUIET)
add_library(shrink_fast_float INTERFACE)
if(TARGET FastFloat::fast_float)
  target_link_libraries(shrink_fast_float INTERFACE FastFloat::fast_float)
else()
  find_path(SHRINK_FAST_FLOAT_INCLUDE fast_float/fast_float.h REQUIRED)
  target_include_directories(shrink_fast_float INTERFACE ${SHRINK_FAST_FLOAT_INCLUDE})
endif()

if(SHRINK_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
endif()
# MPI for shrink::dist only: the core library never links it.
string(TOUPPER "${SHRINK_MPI}" _shrink_mpi)
set(SHRINK_WITH_MPI OFF)
if(_shrink_mpi STREQUAL "ON")
  find_package(MPI REQUIRED COMPONENTS CXX)
  set(SHRINK_WITH_MPI ON)
elseif(_shrink_mpi STREQUAL "AUTO")
  find_package(MPI QUIET COMPONENTS CXX)
  set(SHRINK_WITH_MPI ${MPI_CXX_FOUND})
elseif(NOT _shrink_mpi STREQUAL "OFF")
  message(FATAL_ERROR "SHRINK_MPI must be AUTO, ON or OFF, not '${SHRINK_MPI}'")
endif()
message(STATUS "Shrink: MPI (shrink::dist) ${SHRINK_WITH_MPI} (SHRINK_MPI=${SHRINK_MPI})")
if(SHRINK_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SHRINK_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
