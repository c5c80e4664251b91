# Installs headers (C++, C and the Fortran module's source), the libraries, the program and a
# relocatable CMake package (shrink::shrink, shrink::shrink_c, and shrink::dist when MPI was found).
include(CMakePackageConfigHelpers)
set(SHRINK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Shrink)

set(_shrink_installed shrink shrink_c)
if(SHRINK_WITH_MPI)
  list(APPEND _shrink_installed shrink_dist)
endif()
install(TARGETS ${_shrink_installed} EXPORT ShrinkTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(SHRINK_WITH_MPI)
  install(DIRECTORY include/shrink DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
else()
  install(DIRECTORY include/shrink DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN dist.hpp EXCLUDE)
endif()
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/shrink/build_config.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shrink)
install(EXPORT ShrinkTargets NAMESPACE shrink:: DESTINATION ${SHRINK_CMAKE_DIR})

configure_package_config_file(cmake/ShrinkConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfig.cmake INSTALL_DESTINATION ${SHRINK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfigVersion.cmake
        DESTINATION ${SHRINK_CMAKE_DIR})
