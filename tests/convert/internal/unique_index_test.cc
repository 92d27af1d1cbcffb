// UniqueIndex: Insert refuses an object whose key an earlier one had, Find
// returns the index of the object with a key, for plain and namespaced
// keys, announced ahead (Announce/AnnounceKey) or not.
#include "server/convert/internal/unique_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsd::convert::internal {
namespace {

TEST(UniqueIndexTest, RefusesARepeatedKeyAndFindsEveryOther) {
  const std::vector<std::string> names = {"n1", "n2", "n1", "n3", "n2"};
  auto index = MakeUniqueIndex(
      static_cast<int>(names.size()),
      [&names](uint32_t i) -> std::string_view { return names[i]; });
  EXPECT_TRUE(index.Insert(0));
  EXPECT_TRUE(index.Insert(1));
  EXPECT_FALSE(index.Insert(2));  // n1 again
  EXPECT_TRUE(index.Insert(3));
  EXPECT_FALSE(index.Insert(4));  // n2 again
  EXPECT_EQ(index.Find(std::string_view("n1")), 0);
  EXPECT_EQ(index.Find(std::string_view("n2")), 1);
  EXPECT_EQ(index.Find(std::string_view("n3")), 3);
  EXPECT_EQ(index.Find(std::string_view("n4")), -1);
}

TEST(UniqueIndexTest, NamespacedKeysRepeatOnlyWhenBothPartsDo) {
  using NamespacedName = std::pair<std::string_view, std::string_view>;
  const std::vector<NamespacedName> pods = {
      {"default", "web"}, {"kube-system", "web"}, {"default", "web"}};
  auto index = MakeUniqueIndex(
      static_cast<int>(pods.size()),
      [&pods](uint32_t i) -> NamespacedName { return pods[i]; });
  // Announced before the key is readable through key_of, as the driver
  // does for a pod still being read.
  const uint64_t hash = index.AnnounceKey(pods[0]);
  EXPECT_TRUE(index.Insert(0, hash));
  EXPECT_TRUE(index.Insert(1));
  EXPECT_FALSE(index.Insert(2));
  EXPECT_EQ(index.Find(NamespacedName("kube-system", "web")), 1);
  EXPECT_EQ(index.Find(NamespacedName("other", "web")), -1);
}

// A table sized for n objects holds n distinct keys (half empty at most,
// never rehashed) and still refuses each of them again.
TEST(UniqueIndexTest, HoldsAsManyKeysAsItWasSizedFor) {
  std::vector<std::string> uids;
  for (int i = 0; i < 5000; ++i) uids.push_back("uid-" + std::to_string(i));
  for (int i = 0; i < 5000; ++i) uids.push_back("uid-" + std::to_string(i));
  auto index = MakeUniqueIndex(
      static_cast<int>(uids.size()),
      [&uids](uint32_t i) -> std::string_view { return uids[i]; });
  for (int i = 0; i < 5000; ++i) EXPECT_TRUE(index.Insert(i)) << i;
  for (int i = 5000; i < 10000; ++i) EXPECT_FALSE(index.Insert(i)) << i;
  EXPECT_EQ(index.Find(std::string_view("uid-4999")), 4999);
}

// A table sized for no object (nodes and DaemonSets are streamed before
// their count is known) doubles as keys arrive: it holds 20,000 distinct
// keys, plain and namespaced, refuses each again and finds every one.
TEST(UniqueIndexTest, GrowsPastTheSizeItWasMadeFor) {
  std::vector<std::string> names;
  for (int i = 0; i < 20000; ++i) names.push_back("node-" + std::to_string(i));
  for (int i = 0; i < 100; ++i) names.push_back("node-" + std::to_string(i));
  auto index = MakeUniqueIndex(
      0, [&names](uint32_t i) -> std::string_view { return names[i]; });
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(index.Insert(i)) << i;
  for (int i = 20000; i < 20100; ++i) EXPECT_FALSE(index.Insert(i)) << i;
  for (int i = 0; i < 20000; i += 997) {
    EXPECT_EQ(index.Find(std::string_view(names[i])), i);
  }
  EXPECT_EQ(index.Find(std::string_view("node-20000")), -1);

  using NamespacedName = std::pair<std::string_view, std::string_view>;
  std::vector<NamespacedName> keys;
  for (int i = 0; i < 3000; ++i) {
    keys.emplace_back(i % 2 == 0 ? "default" : "kube-system", names[i / 2]);
  }
  auto namespaced = MakeUniqueIndex(
      1, [&keys](uint32_t i) -> NamespacedName { return keys[i]; });
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(namespaced.Insert(i)) << i;
  keys.emplace_back("kube-system", names[1499 / 2]);
  EXPECT_FALSE(namespaced.Insert(3000));
  EXPECT_EQ(namespaced.Find(NamespacedName("default", names[700])), 1400);
}

}  // namespace
}  // namespace dsd::convert::internal
