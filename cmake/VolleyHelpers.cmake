# SPDX-License-Identifier: MPL-2.0
# Helpers that keep the per-directory CMakeLists short: warnings and
# sanitizers for every volley target, one call per layer and per test binary.
include_guard(GLOBAL)

set(VOLLEY_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)
include(GNUInstallDirs)

# volley_flags(<target>): warnings (errors under VOLLEY_WERROR) and sanitizers.
function(volley_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(VOLLEY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(VOLLEY_SANITIZER)
  add_compile_options(-fsanitize=${VOLLEY_SANITIZER} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${VOLLEY_SANITIZER})
endif()

# volley_layer(<name> INCLUDES <dirs...> SOURCES <files...> [DEPENDS <layers...>])
# An OBJECT library for one layer. Its include path is its own folder, src/ and
# include/: a layer sees the core and the public API, never a sibling layer.
function(volley_layer name)
  cmake_parse_arguments(L "" "" "INCLUDES;SOURCES;DEPENDS" ${ARGN})
  add_library(${name} OBJECT ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${VOLLEY_ROOT}/include PRIVATE ${L_INCLUDES})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(${name} PRIVATE Threads::Threads ${L_DEPENDS})
  volley_flags(${name})
endfunction()

# volley_library(<target> SHARED|STATIC EXPORT_NAME <name>)
# libvolley assembled from the layers' objects, named volley::<name> in the build tree and
# in the installed package. The shared one's SONAME carries the major version (major.minor
# while the major is 0, when a minor release may break the ABI).
function(volley_library target kind)
  cmake_parse_arguments(L "" "EXPORT_NAME" "" ${ARGN})
  add_library(${target} ${kind}
    $<TARGET_OBJECTS:volley_core> $<TARGET_OBJECTS:volley_patterns> $<TARGET_OBJECTS:volley_transports>)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${VOLLEY_ROOT}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC Threads::Threads)
  if(VOLLEY_RDMA_LIBS) # rdma://: the static library's users link them too
    if(kind STREQUAL "SHARED")
      target_link_libraries(${target} PRIVATE ${VOLLEY_RDMA_LIBS})
    else()
      target_link_libraries(${target} PUBLIC ${VOLLEY_RDMA_LIBS})
    endif()
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME volley EXPORT_NAME ${L_EXPORT_NAME})
  if(kind STREQUAL "SHARED")
    if(PROJECT_VERSION_MAJOR EQUAL 0)
      set(soversion ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
    else()
      set(soversion ${PROJECT_VERSION_MAJOR})
    endif()
    set_target_properties(${target} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${soversion})
    # Only the public API is exported (volley.map says what that is).
    target_link_options(${target} PRIVATE -Wl,--version-script=${VOLLEY_ROOT}/cmake/volley.map)
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${VOLLEY_ROOT}/cmake/volley.map)
    if(NOT VOLLEY_SANITIZER) # sanitizer runtimes resolve at load time
      target_link_options(${target} PRIVATE -Wl,--no-undefined)
    endif()
  endif()
  add_library(volley::${L_EXPORT_NAME} ALIAS ${target})
endfunction()

# volley_test(<name> SOURCES <files...> LABELS <labels...>)
# A doctest binary linked to volley_testing; each TEST_CASE becomes a ctest test.
function(volley_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE volley_testing)
  volley_flags(${name})
  doctest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT 120)
endfunction()
