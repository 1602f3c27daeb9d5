# Helpers shared by every module's CMakeLists.txt.

# cairn_library(NAME SOURCES ... DEPS ...): the module's library target `cairn_<NAME>`.
function(cairn_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(cairn_${name} STATIC ${ARG_SOURCES})
  target_include_directories(cairn_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cairn_${name} PUBLIC ${ARG_DEPS})
endfunction()

# cairn_test(NAME SOURCES ... DEPS ... [LABELS ...]): a GoogleTest binary registered with ctest.
function(cairn_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cairn_testing GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES LABELS "${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# cairn_benchmark(NAME SOURCES ... DEPS ...): a Google Benchmark binary (not a test).
function(cairn_benchmark name)
  if(NOT CAIRN_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
endfunction()

# cairn_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target, built only with CAIRN_FUZZ on clang.
function(cairn_fuzzer name)
  if(NOT CAIRN_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# cairn_module(NAME DEPS ... [TEST_DEPS ...]): the conventional module of STYLE.md in the current
# directory. foo.cc files form the library `cairn_<NAME>`; every foo_test.cc goes into one test
# binary `<NAME>_test` (ctest label `unit`); each foo_benchmark.cc becomes a benchmark binary
# `<NAME>_foo_benchmark`; each foo_fuzzer.cc a libFuzzer target `<NAME>_foo_fuzzer`.
# Files are found by name (CONFIGURE_DEPENDS), so adding a file needs no CMake edit.
function(cairn_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB all_cc CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(lib_srcs)
  set(test_srcs)
  set(bench_srcs)
  set(fuzz_srcs)
  foreach(f IN LISTS all_cc)
    if(f MATCHES "_test\\.cc$")
      list(APPEND test_srcs ${f})
    elseif(f MATCHES "_benchmark\\.cc$")
      list(APPEND bench_srcs ${f})
    elseif(f MATCHES "_fuzzer\\.cc$")
      list(APPEND fuzz_srcs ${f})
    else()
      list(APPEND lib_srcs ${f})
    endif()
  endforeach()
  cairn_library(${name} SOURCES ${lib_srcs} DEPS ${ARG_DEPS})
  if(test_srcs)
    cairn_test(${name}_test SOURCES ${test_srcs} DEPS cairn_${name} ${ARG_TEST_DEPS})
  endif()
  foreach(f IN LISTS bench_srcs)
    get_filename_component(stem ${f} NAME_WE)
    cairn_benchmark(${name}_${stem} SOURCES ${f} DEPS cairn_${name} ${ARG_TEST_DEPS})
  endforeach()
  foreach(f IN LISTS fuzz_srcs)
    get_filename_component(stem ${f} NAME_WE)
    cairn_fuzzer(${name}_${stem} SOURCES ${f} DEPS cairn_${name} cairn_testing_headers)
  endforeach()
endfunction()

# cairn_header_check(): compiles every header under src/cairn on its own (a generated .cc that
# includes only it), so that each header is self-contained: it includes what it uses.
function(cairn_header_check)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}/src
       ${PROJECT_SOURCE_DIR}/src/cairn/*.h)
  set(srcs)
  foreach(h IN LISTS headers)
    string(MAKE_C_IDENTIFIER ${h} id)
    set(cc ${PROJECT_BINARY_DIR}/header_check/${id}.cc)
    file(CONFIGURE OUTPUT ${cc} CONTENT "#include \"${h}\"  // must compile alone\n")
    list(APPEND srcs ${cc})
  endforeach()
  add_library(cairn_header_check OBJECT ${srcs})
  target_include_directories(cairn_header_check PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # Headers of the testing module and of the CLI use these third-party headers.
  target_link_libraries(cairn_header_check PRIVATE GTest::gmock CLI11::CLI11 OpenSSL::Crypto)
endfunction()
