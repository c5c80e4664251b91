# The seam between algorithms and kernels, checked on the source tree (run by ctest as `seam`):
#   - the kernel layer (kernels/) stands below host/: it includes nothing from host/ and no algorithm
#     or I/O header of the public API (only the views, the context and the error types);
#   - the kernel declarations (kernels/ops/) do not even include the context: they forward-declare it;
#   - algorithms and the program (host/lasso, host/nn, tools/) reach the CUDA twins only through the
#     one dispatch in host/core: no SHRINK_WITH_CUDA and no kernels::cuda:: there.
# Usage: cmake -DSOURCE_DIR=<repo> -P tests/seam/check.cmake
set(failures "")
function(scan dir pattern why)
  file(GLOB_RECURSE files "${SOURCE_DIR}/${dir}/*.hpp" "${SOURCE_DIR}/${dir}/*.cpp" "${SOURCE_DIR}/${dir}/*.cu"
       "${SOURCE_DIR}/${dir}/*.cuh" "${SOURCE_DIR}/${dir}/*.inl")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" hits REGEX "${pattern}")
    foreach(h IN LISTS hits)
      file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
      string(STRIP "${h}" h)
      list(APPEND failures "${rel}: ${h}  (${why})")
    endforeach()
  endforeach()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()

scan(kernels "#include \"host/" "the kernel layer includes nothing from host/")
scan(kernels "#include \"shrink/(lasso|batch_lasso|nn|sae|io|ops|generate|stats|shrink)\\.hpp\""
     "kernels include no algorithm or API header beyond the views, the context and the errors")
scan(kernels/ops "#include \"shrink/context\\.hpp\"" "kernel declarations forward-declare the Context")
foreach(dir host/lasso host/nn tools)
  scan(${dir} "SHRINK_WITH_CUDA" "backend #ifs live behind the one dispatch in host/core")
  scan(${dir} "kernels::cuda::" "algorithms reach the CUDA twins only through the dispatch")
endforeach()

list(LENGTH failures count)
if(count GREATER 0)
  list(JOIN failures "\n  " text)
  message(FATAL_ERROR "the kernel seam is broken in ${count} place(s):\n  ${text}")
endif()
message(STATUS "seam: kernels/ stands below host/, and one door leads to the CUDA twins")
