# DSD_FUZZ=ON (clang only, with DSD_SANITIZE) builds the libFuzzer programs
# (fuzz/). DSD_FUZZ_COVERAGE (on by default) adds libFuzzer's coverage
# instrumentation to every target, which guides the fuzzer. Two presets:
#  - `fuzz` (-O1, coverage, only the fuzzers): make fuzz's long runs;
#  - `asan` (-O0, every test too, no coverage): make test runs each fuzzer
#    30 s to keep it building and running. Coverage would cost a quarter
#    more compile time there, which CI's 30 minutes cannot spare; without
#    it libFuzzer still mutates the corpus through every check, blindly.
# Debian's gRPC, protobuf, yaml-cpp and Abseil are not instrumented: the
# fuzzer is guided by dsd's code, which is where the parsers under test
# live.
option(DSD_FUZZ "Build the libFuzzer targets (clang; fuzz/)" OFF)
option(DSD_FUZZ_COVERAGE "Coverage instrumentation for DSD_FUZZ" ON)
if(DSD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DSD_FUZZ needs clang (cmake --preset asan or fuzz)")
  endif()
  if(NOT DSD_SANITIZE)
    message(FATAL_ERROR "DSD_FUZZ needs DSD_SANITIZE (ASan + UBSan)")
  endif()
  if(DSD_FUZZ_COVERAGE)
    add_compile_options(-fsanitize=fuzzer-no-link)
  endif()
endif()

# DSD_TSAN=ON (the `tsan` preset): ThreadSanitizer on every target.
# Debian's protobuf and Abseil were built without it, and their headers
# change class layouts under it (protobuf's MapFieldBase gains two
# counters when __SANITIZE_THREAD__ is defined): code compiled with the
# macro then disagrees with the libraries and crashes in protobuf maps.
# Undefining it keeps the headers as the libraries were built; our code is
# instrumented all the same.
option(DSD_TSAN "Build with -fsanitize=thread" OFF)
if(DSD_TSAN)
  add_compile_options(-fsanitize=thread -U__SANITIZE_THREAD__
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
