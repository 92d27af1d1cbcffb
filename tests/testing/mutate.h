// Random corruption of serialized requests, for the tests that check what
// the server makes of bytes that are not quite a request. Header-only;
// for GoogleTest tests.
#ifndef DSD_TESTS_TESTING_MUTATE_H_
#define DSD_TESTS_TESTING_MUTATE_H_

#include <gtest/gtest.h>

#include <cstdint>
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

// Calls `check` on every `step`-th prefix of `good` (truncated bytes) and
// on `mutations` corruptions of it (Mutate, seeded with `seed`), each under
// a trace naming it.
template <typename Check>
void ForPrefixesAndMutations(const std::string& good, size_t step,
                             int mutations, uint32_t seed, Check check) {
  for (size_t n = 0; n < good.size(); n += step) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    check(good.substr(0, n));
  }
  std::mt19937 random(seed);
  for (int i = 0; i < mutations; ++i) {
    SCOPED_TRACE("mutation " + std::to_string(i));
    check(Mutate(good, random));
  }
}

// For readers checked against protobuf's parser: calls `expect_agreement`
// on every prefix of `good` and on `mutations` corruptions of it (as
// ForPrefixesAndMutations), and counts how many of those inputs protobuf
// accepts (`accepts`) and rejects, so that a test can ask for enough of
// both.
struct Verdicts {
  int accepted = 0;
  int rejected = 0;
};
template <typename Accepts, typename ExpectAgreement>
Verdicts AgreementOnPrefixesAndMutations(const std::string& good, int mutations,
                                         uint32_t seed, Accepts accepts,
                                         ExpectAgreement expect_agreement) {
  Verdicts verdicts;
  ForPrefixesAndMutations(
      good, 1, mutations, seed, [&](const std::string& bytes) {
        expect_agreement(bytes);
        (accepts(bytes) ? verdicts.accepted : verdicts.rejected) += 1;
      });
  return verdicts;
}

// Each row of an encoding table ({name, bytes, protobuf_accepts}) under a
// trace of its name: protobuf's verdict first (the table must be right
// about it), then `expect_agreement`.
template <typename Rows, typename Accepts, typename ExpectAgreement>
void ForEachEncoding(const Rows& rows, Accepts accepts,
                     ExpectAgreement expect_agreement) {
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    ASSERT_EQ(accepts(row.bytes), row.protobuf_accepts)
        << "protobuf's verdict differs from the table";
    expect_agreement(row.bytes);
  }
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_MUTATE_H_
