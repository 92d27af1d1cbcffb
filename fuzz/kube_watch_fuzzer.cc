// libFuzzer: Kubernetes watch stream lines through client/kube's event
// decoder and the reflector's store path (fuzz/checks.h,
// CheckKubeWatchLines).
#include <cstddef>
#include <cstdint>

#include "fuzz/checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dsd::fuzz::CheckKubeWatchLines(data, size);
  return 0;
}
