# DSD_SANITIZE=ON builds everything with AddressSanitizer + UndefinedBehaviorSanitizer.
# Debian's gRPC/protobuf are not instrumented; that is fine for ASan and UBSan.
option(DSD_SANITIZE "Build with -fsanitize=address,undefined" OFF)
if(DSD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
