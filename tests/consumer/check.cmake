# Run by ctest: install the build tree into WORK_DIR/prefix, move it (the package must be
# relocatable), then build and run the consumer project against it.
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/staging"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
file(RENAME "${WORK_DIR}/staging" "${WORK_DIR}/moved")
set(want_cuda OFF)
if(WITH_CUDA)
  set(want_cuda ON)
endif()
set(want_mpi OFF)
if(WITH_MPI)
  set(want_mpi ON)
endif()
set(want_fortran OFF)
if(WITH_FORTRAN)
  set(want_fortran ON)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${WORK_DIR}/build"
                        "-DCMAKE_PREFIX_PATH=${WORK_DIR}/moved" -DWANT_CUDA=${want_cuda}
                        -DWANT_FORTRAN=${want_fortran} -DWANT_MPI=${want_mpi} "-DEXAMPLES_DIR=${EXAMPLES_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the consumer failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the consumer failed (${rc})")
endif()
execute_process(COMMAND "${WORK_DIR}/build/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "consumer printed: ${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the consumer returned ${rc}")
endif()
# The C example (strict C11) runs; the Fortran one, when a Fortran compiler is here, prints the same
# answer to the last bit (formats differ only in case and padding).
execute_process(COMMAND "${WORK_DIR}/build/consumer_c" RESULT_VARIABLE rc OUTPUT_VARIABLE c_out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the C consumer returned ${rc}:\n${c_out}")
endif()
function(normalized text out)
  string(TOLOWER "${text}" t)
  string(REGEX REPLACE "[ \t]+" " " t "${t}")
  string(REGEX REPLACE "(^|\n) " "\\1" t "${t}")
  string(STRIP "${t}" t)
  set(${out} "${t}" PARENT_SCOPE)
endfunction()
if(WITH_FORTRAN)
  execute_process(COMMAND "${WORK_DIR}/build/consumer_f" RESULT_VARIABLE rc OUTPUT_VARIABLE f_out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the Fortran consumer returned ${rc}:\n${f_out}")
  endif()
  normalized("${c_out}" c_norm)
  normalized("${f_out}" f_norm)
  if(NOT c_norm STREQUAL f_norm)
    message(FATAL_ERROR "the Fortran answer differs from the C one:\nC:\n${c_norm}\nFortran:\n${f_norm}")
  endif()
  message(STATUS "C and Fortran agree on ${c_norm}")
endif()

# A build without MPI must refuse the MPI component.
if(NOT WITH_MPI)
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${WORK_DIR}/build-mpi"
                          "-DCMAKE_PREFIX_PATH=${WORK_DIR}/moved" -DWANT_MPI=ON
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(Shrink COMPONENTS MPI) succeeded on a build without MPI")
  endif()
endif()

# A build without CUDA must refuse the CUDA component.
if(NOT WITH_CUDA)
  execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${WORK_DIR}/build-cuda"
                          "-DCMAKE_PREFIX_PATH=${WORK_DIR}/moved" -DWANT_CUDA=ON
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(Shrink COMPONENTS CUDA) succeeded on a build without CUDA")
  endif()
endif()
