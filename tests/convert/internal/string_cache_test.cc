// StringCache: an equal string seen before replaces the view; a string
// passes its check once, and a failing one is never remembered.
#include "server/convert/internal/string_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace dsd::convert::internal {
namespace {

std::string_view Identity(std::string_view s) { return s; }

TEST(StringCacheTest, CanonicalReplacesAnEqualStringByTheFirstOne) {
  StringCache cache;
  const std::string first = "kubernetes.io/hostname";
  const std::string second = first;  // equal, elsewhere in memory
  std::string_view a = first;
  std::string_view b = second;
  cache.Canonical(a, Identity);
  cache.Canonical(b, Identity);
  EXPECT_EQ(a.data(), first.data());
  EXPECT_EQ(b.data(), first.data());
  EXPECT_EQ(b, "kubernetes.io/hostname");
}

TEST(StringCacheTest, CanonicalKeepsWhatItRemembers) {
  StringCache cache;
  const std::string kept = "abc";
  const std::string input = "abc";
  std::string_view s = input;
  cache.Canonical(
      s, [&kept](std::string_view) -> std::string_view { return kept; });
  EXPECT_EQ(s.data(), kept.data());
  const std::string again = "abc";
  std::string_view t = again;
  cache.Canonical(t, Identity);
  EXPECT_EQ(t.data(), kept.data());
}

TEST(StringCacheTest, DifferentStringsStayThemselves) {
  StringCache cache;
  const std::string x = "zone-a";
  const std::string y = "zone-b";
  std::string_view a = x;
  std::string_view b = y;
  cache.Canonical(a, Identity);
  cache.Canonical(b, Identity);
  EXPECT_EQ(a.data(), x.data());
  EXPECT_EQ(b.data(), y.data());
}

TEST(StringCacheTest, ValidChecksAStringOnceAndNeverRemembersAFailure) {
  StringCache cache;
  int checks = 0;
  const auto check = [&checks](std::string_view s) {
    ++checks;
    return s != "bad";
  };
  const std::string good1 = "good";
  const std::string good2 = "good";
  std::string_view a = good1;
  std::string_view b = good2;
  EXPECT_TRUE(cache.Valid(a, check, Identity));
  EXPECT_TRUE(cache.Valid(b, check, Identity));
  EXPECT_EQ(checks, 1);  // the second is equal to one that passed
  EXPECT_EQ(b.data(), good1.data());

  std::string_view bad = "bad";
  EXPECT_FALSE(cache.Valid(bad, check, Identity));
  EXPECT_FALSE(cache.Valid(bad, check, Identity));
  EXPECT_EQ(checks, 3);  // a failure is checked every time
}

TEST(StringCacheTest, EmptyStringsAreCheckedAndNotCached) {
  StringCache cache;
  int checks = 0;
  const auto reject_empty = [&checks](std::string_view s) {
    ++checks;
    return !s.empty();
  };
  std::string_view empty;
  EXPECT_FALSE(cache.Valid(empty, reject_empty, Identity));
  EXPECT_FALSE(cache.Valid(empty, reject_empty, Identity));
  EXPECT_EQ(checks, 2);
  cache.Canonical(empty, Identity);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace dsd::convert::internal
