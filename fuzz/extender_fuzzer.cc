// libFuzzer: kube-scheduler extender request bodies through dsd-extender's
// filter (fuzz/checks.h, CheckExtenderFilter).
#include <cstddef>
#include <cstdint>

#include "fuzz/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsd::fuzz::CheckExtenderFilter(data, size);
  return 0;
}
