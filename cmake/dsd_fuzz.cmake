# DSD_FUZZ=ON (clang only, with DSD_SANITIZE) adds libFuzzer's coverage
# instrumentation to every target, and fuzz/ adds the libFuzzer programs.
# Two presets use it: `asan` (-O0; make test builds the tests and the
# fuzzers in one tree and runs each fuzzer briefly) and `fuzz` (-O1, only
# the fuzzers: make fuzz's long runs). The coverage is not optional:
# without it libFuzzer finds no interesting input and exits with an error.
# Debian's gRPC, protobuf, yaml-cpp and Abseil are not instrumented: the
# fuzzer is guided by dsd's code, which is where the parsers under test
# live.
option(DSD_FUZZ "Build the libFuzzer targets (clang; fuzz/)" OFF)
if(DSD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DSD_FUZZ needs clang (cmake --preset asan or fuzz)")
  endif()
  if(NOT DSD_SANITIZE)
    message(FATAL_ERROR "DSD_FUZZ needs DSD_SANITIZE (ASan + UBSan)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# DSD_TSAN=ON (the `tsan` preset, clang): ThreadSanitizer on every target.
# Debian's protobuf and Abseil were built without it, and their headers
# change class layouts under it (protobuf's MapFieldBase gains two
# counters when __SANITIZE_THREAD__ is defined): code compiled with the
# macro then disagrees with the libraries and crashes in protobuf maps.
# clang does not define it (only __has_feature, which that header does not
# ask); GCC does, and undefining it keeps the headers as the libraries
# were built. Our code is instrumented all the same.
option(DSD_TSAN "Build with -fsanitize=thread" OFF)
if(DSD_TSAN)
  add_compile_options(-fsanitize=thread -U__SANITIZE_THREAD__
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
