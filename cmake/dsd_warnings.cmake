# The single warnings definition for dsd's own code (never generated code).
# Link `dsd::warnings` PRIVATE into every target built from our sources.
add_library(dsd_warnings INTERFACE)
add_library(dsd::warnings ALIAS dsd_warnings)
target_compile_options(dsd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough
  -Wconversion -Wsign-conversion)

# Tests may drop the two conversion warnings, and only those.
add_library(dsd_test_warnings INTERFACE)
add_library(dsd::test_warnings ALIAS dsd_test_warnings)
target_compile_options(dsd_test_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wimplicit-fallthrough)

# GCC 12 reports -Wrestrict false positives inside std::string's operator+
# at -O2/-O3 (GCC bug 105329, fixed in 13); with -Werror they break Release
# builds of ordinary `"[" + std::to_string(i) + "]"`. Off for GCC 12 only.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
   CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12 AND
   CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(dsd_warnings INTERFACE -Wno-restrict)
  target_compile_options(dsd_test_warnings INTERFACE -Wno-restrict)
endif()
