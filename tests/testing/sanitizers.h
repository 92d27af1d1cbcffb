// Which sanitizer runtime a test runs under, for the few tests that need
// glibc's own allocator. ThreadSanitizer builds undefine
// __SANITIZE_THREAD__ (cmake/dsd_fuzz.cmake: Debian's protobuf headers
// change layout under it), so its runtime is looked for instead.
#ifndef DSD_TESTS_TESTING_SANITIZERS_H_
#define DSD_TESTS_TESTING_SANITIZERS_H_

#include <dlfcn.h>

namespace dsd::testing {

// True under AddressSanitizer: GCC defines __SANITIZE_ADDRESS__, clang 14
// only answers __has_feature.
inline bool UnderAddressSanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return false;
}

// True under AddressSanitizer or ThreadSanitizer, whose allocators are
// not glibc's (mallinfo2 reads 0; freed memory is kept by design).
inline bool UnderSanitizerAllocator() {
  return UnderAddressSanitizer() ||
         dlsym(RTLD_DEFAULT, "__tsan_init") != nullptr;
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_SANITIZERS_H_
