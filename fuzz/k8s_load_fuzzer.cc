// libFuzzer: Kubernetes JSON and YAML text through client/k8s's
// SnapshotLoader (fuzz/checks.h, CheckK8sLoad).
#include <cstddef>
#include <cstdint>

#include "fuzz/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsd::fuzz::CheckK8sLoad(data, size);
  return 0;
}
