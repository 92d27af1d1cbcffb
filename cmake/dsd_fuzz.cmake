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
option(DSD_TSAN "Build with -fsanitize=thread" OFF)
if(DSD_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
