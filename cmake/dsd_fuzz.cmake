# DSD_FUZZ=ON (the `fuzz` preset, clang only) builds every target with
# libFuzzer's coverage instrumentation plus AddressSanitizer and
# UndefinedBehaviorSanitizer; fuzz/ then adds the libFuzzer programs. Debian's
# gRPC, protobuf, yaml-cpp and Abseil are not instrumented: the fuzzer is
# guided by dsd's code, which is where the parsers under test live.
option(DSD_FUZZ "Build the libFuzzer targets (clang; fuzz/)" OFF)
if(DSD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DSD_FUZZ needs clang (cmake --preset fuzz)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
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
