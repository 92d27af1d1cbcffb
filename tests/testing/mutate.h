// Random corruption of serialized requests, for the tests that check what
// the server makes of bytes that are not quite a request. Header-only.
#ifndef DSD_TESTS_TESTING_MUTATE_H_
#define DSD_TESTS_TESTING_MUTATE_H_

#include <random>
#include <string>

namespace dsd::testing {

// `bytes` (not empty) with one to three bytes replaced by random values.
inline std::string Mutate(std::string bytes, std::mt19937& random) {
  const int changes = 1 + static_cast<int>(random() % 3);
  for (int c = 0; c < changes; ++c) {
    bytes[random() % bytes.size()] = static_cast<char>(random() % 256);
  }
  return bytes;
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_MUTATE_H_
