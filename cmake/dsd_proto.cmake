# dsd_proto_library(NAME <target> PROTOS <files relative to PROTO_ROOT> [GRPC])
# Generates C++ (and, with GRPC, gRPC service stubs) from proto/ with Debian's
# protoc and grpc_cpp_plugin. Generated code gets no project warnings and is
# included as SYSTEM headers, rooted at the build dir: "dsd/v1/dsd.pb.h".
function(dsd_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME;PROTO_ROOT" "PROTOS;DEPS" ${ARGN})
  set(out "${CMAKE_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${out}")
  set(abs)
  foreach(p IN LISTS ARG_PROTOS)
    list(APPEND abs "${ARG_PROTO_ROOT}/${p}")
  endforeach()
  add_library(${ARG_NAME} STATIC ${abs})
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  target_include_directories(${ARG_NAME} SYSTEM PUBLIC "${out}")
  set_target_properties(${ARG_NAME} PROPERTIES COMPILE_WARNING_AS_ERROR OFF)
  protobuf_generate(TARGET ${ARG_NAME} LANGUAGE cpp
    IMPORT_DIRS "${ARG_PROTO_ROOT}" PROTOC_OUT_DIR "${out}")
  if(ARG_GRPC)
    protobuf_generate(TARGET ${ARG_NAME} LANGUAGE grpc
      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
      IMPORT_DIRS "${ARG_PROTO_ROOT}" PROTOC_OUT_DIR "${out}")
    target_link_libraries(${ARG_NAME} PUBLIC gRPC::grpc++)
  endif()
endfunction()
