// SeenKeys: Insert says whether a key came before, whether the list is
// short (scanned) or long (past kScanUpTo keys, hashed).
#include "server/convert/internal/seen_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsd::convert::internal {
namespace {

TEST(SeenKeysTest, FlagsARepeatInAShortList) {
  SeenKeys<std::string_view> seen;
  EXPECT_FALSE(seen.Insert("n1"));
  EXPECT_FALSE(seen.Insert("n2"));
  EXPECT_TRUE(seen.Insert("n1"));
  EXPECT_TRUE(seen.Insert("n2"));
  EXPECT_FALSE(seen.Insert("n3"));
}

TEST(SeenKeysTest, PairsRepeatOnlyWhenBothPartsDo) {
  SeenKeys<std::pair<std::string_view, int>> seen;  // taint key, effect
  EXPECT_FALSE(seen.Insert({"gpu", 1}));
  EXPECT_FALSE(seen.Insert({"gpu", 3}));
  EXPECT_FALSE(seen.Insert({"spot", 1}));
  EXPECT_TRUE(seen.Insert({"gpu", 3}));
}

// Across the switch from scanning to hashing, every key inserted before is
// still found and no new key is taken for a repeat.
TEST(SeenKeysTest, LongListsKeepEveryKeyAcrossTheSwitchToHashing) {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("node-" + std::to_string(i));
  SeenKeys<std::string_view> seen;
  for (const std::string& k : keys) EXPECT_FALSE(seen.Insert(k)) << k;
  for (const std::string& k : keys) EXPECT_TRUE(seen.Insert(k)) << k;
  EXPECT_FALSE(seen.Insert("node-1000"));

  SeenKeys<std::pair<std::string_view, int>> pairs;
  for (const std::string& k : keys) EXPECT_FALSE(pairs.Insert({k, 1})) << k;
  for (const std::string& k : keys) EXPECT_FALSE(pairs.Insert({k, 2})) << k;
  for (const std::string& k : keys) EXPECT_TRUE(pairs.Insert({k, 1})) << k;
}

}  // namespace
}  // namespace dsd::convert::internal
