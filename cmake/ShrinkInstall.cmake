# Installs headers (C++, C and the Fortran module's source), the libraries, the program and a
# relocatable CMake package (shrink::shrink, shrink::shrink_c).
include(CMakePackageConfigHelpers)
set(SHRINK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Shrink)

install(TARGETS shrink shrink_c EXPORT ShrinkTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/shrink DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/shrink/build_config.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shrink)
install(EXPORT ShrinkTargets NAMESPACE shrink:: DESTINATION ${SHRINK_CMAKE_DIR})

configure_package_config_file(cmake/ShrinkConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfig.cmake INSTALL_DESTINATION ${SHRINK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ShrinkConfigVersion.cmake
        DESTINATION ${SHRINK_CMAKE_DIR})
