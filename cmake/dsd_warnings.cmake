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
