// libFuzzer: Kubernetes List pages through client/kube's page decoder
// (simdjson) against the nlohmann path it replaces (fuzz/checks.h,
// CheckKubeListPage).
#include <cstddef>
#include <cstdint>

#include "fuzz/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsd::fuzz::CheckKubeListPage(data, size);
  return 0;
}
