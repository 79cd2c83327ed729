# SPDX-License-Identifier: MPL-2.0
# What `cmake --install` puts in place, in three components: runtime (the shared library),
# development (headers, the .so link, the static library, the CMake package and volley.pc)
# and tools (the volley command, when VOLLEY_CLI builds it). `cpack -G DEB` makes one
# package of each: libvolley, libvolley-dev and volley-tools.
include_guard(GLOBAL)
include(CMakePackageConfigHelpers)

install(TARGETS volley_shared EXPORT volleyTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development)
install(TARGETS volley_static EXPORT volleyTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
install(DIRECTORY ${VOLLEY_ROOT}/include/volley DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development
  FILES_MATCHING PATTERN "*.hpp")

set(volley_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/volley)
install(EXPORT volleyTargets NAMESPACE volley:: DESTINATION ${volley_cmake_dir} COMPONENT development)
configure_package_config_file(${VOLLEY_ROOT}/cmake/volleyConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/volleyConfig.cmake INSTALL_DESTINATION ${volley_cmake_dir})
# While the major version is 0 a minor release may break the API: only the same minor matches.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(volley_compat SameMinorVersion)
else()
  set(volley_compat SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/volleyConfigVersion.cmake
  COMPATIBILITY ${volley_compat})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/volleyConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/volleyConfigVersion.cmake
  DESTINATION ${volley_cmake_dir} COMPONENT development)

file(RELATIVE_PATH volley_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" volley_pc_to_prefix "${volley_pc_to_prefix}")
set(volley_pc_rdma "")
foreach(lib ${VOLLEY_RDMA_LIBS}) # rdma://: what a static link needs besides
  string(APPEND volley_pc_rdma " -l${lib}")
endforeach()
configure_file(${VOLLEY_ROOT}/cmake/volley.pc.in ${CMAKE_CURRENT_BINARY_DIR}/volley.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/volley.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT development)

set(CPACK_PACKAGE_NAME libvolley)
set(CPACK_PACKAGE_VENDOR "volley")
set(CPACK_PACKAGE_CONTACT "volley maintainers <maintainers@users.noreply.b-seed-7e359a2f.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 messaging library in the ZeroMQ style (ZMTP 3.1, inproc, ipc, tcp)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
if(TARGET volley_cli)
  list(APPEND CPACK_COMPONENTS_ALL tools)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libvolley)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libvolley-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "libvolley (= ${PROJECT_VERSION})")
# The tool's only library beyond libc and libstdc++ (which libvolley depends on) is libvolley,
# which dpkg-shlibdeps cannot look up before it is installed: name it instead.
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME volley-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "libvolley (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "volley: the shared library")
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION "volley: headers, static library, CMake package and pkg-config file")
set(CPACK_COMPONENT_TOOLS_DESCRIPTION "volley: the volley command (send, receive and monitor from a shell)")
include(CPack)
