# SPDX-License-Identifier: MPL-2.0
# Helpers that keep the per-directory CMakeLists short: warnings and
# sanitizers for every volley target, one call per layer and per test binary.
include_guard(GLOBAL)

set(VOLLEY_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)

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

# volley_test(<name> SOURCES <files...> LABELS <labels...>)
# A doctest binary linked to volley_testing; each TEST_CASE becomes a ctest test.
function(volley_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE volley_testing)
  volley_flags(${name})
  doctest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT 120)
endfunction()
