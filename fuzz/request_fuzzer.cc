// libFuzzer: raw Decide/Explain/Validate/Filter request bytes through the
// service, with the wire reader checked against protobuf's parser
// (fuzz/checks.h, CheckServiceRequest).
#include <cstddef>
#include <cstdint>

#include "fuzz/checks.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  dsd::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsd::fuzz::CheckServiceRequest(data, size);
  return 0;
}
