// Verdicts: an answer is remembered for one DaemonSet message and one node
// version, and for nothing else; age and capacity bound it.
#include "client/extender/verdicts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace dsd::extender {
namespace {

using Clock = Verdicts::Clock;
using std::chrono::seconds;

std::shared_ptr<const v1::DaemonSet> DaemonSet(const std::string& name) {
  auto ds = std::make_shared<v1::DaemonSet>();
  ds->set_namespace_("ns");
  ds->set_name(name);
  return ds;
}

Verdict Refused(const std::string& text) {
  return Verdict{std::make_shared<const std::string>("\"" + text + "\"")};
}

struct Case {
  const char* name;
  // What is asked after versions 1 (passed) and 2 (refused) of nodes were
  // remembered for DaemonSet `ds` at time 0 (capacity 3, max age 60 s).
  bool same_daemon_set;  // the very message, else an equal copy
  std::vector<uint64_t> ask;
  int seconds_later;
  std::vector<int> want;  // per asked: -1 unknown, 0 passed, 1 refused
};

const Case kCases[] = {
    {"both_known", true, {1, 2}, 10, {0, 1}},
    {"order_follows_the_ask", true, {2, 1, 2}, 10, {1, 0, 1}},
    {"another_node_version", true, {3, 1}, 10, {-1, 0}},
    {"version_0_is_no_node", true, {0}, 10, {-1}},
    {"an_equal_daemon_set_message_is_another_version",
     false,
     {1, 2},
     10,
     {-1, -1}},
    {"past_the_max_age", true, {1, 2}, 61, {-1, -1}},
    {"at_the_max_age", true, {1, 2}, 60, {0, 1}},
};

class VerdictsTest : public ::testing::TestWithParam<Case> {};

TEST_P(VerdictsTest, RemembersOneDaemonSetAndNodeVersion) {
  const Case& c = GetParam();
  Verdicts verdicts(3, seconds(60));
  const auto t0 = Clock::now();
  const auto ds = DaemonSet("agent");
  verdicts.Remember(ds, {1, 2}, {Verdict{}, Refused("no")}, t0);
  EXPECT_EQ(verdicts.size(), 2u);
  std::vector<std::shared_ptr<const std::string>> held;
  const auto known = verdicts.Find(c.same_daemon_set ? ds : DaemonSet("agent"),
                                   c.ask, t0 + seconds(c.seconds_later), held);
  ASSERT_EQ(known.size(), c.want.size());
  for (size_t i = 0; i < known.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(known[i].known, c.want[i] >= 0);
    if (c.want[i] == 0) {
      EXPECT_EQ(known[i].refusal, nullptr);
    }
    if (c.want[i] == 1) {
      ASSERT_NE(known[i].refusal, nullptr);
      EXPECT_EQ(*known[i].refusal, "\"no\"");
    }
  }
  // One refusal text, held once however often it was found.
  const bool refused = std::count(c.want.begin(), c.want.end(), 1) > 0;
  EXPECT_EQ(held.size(), refused ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Asks, VerdictsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.name);
                         });

TEST(VerdictsBoundsTest, ANewDaemonSetVersionReplacesTheOld) {
  Verdicts verdicts(10, seconds(60));
  const auto t0 = Clock::now();
  const auto old_ds = DaemonSet("agent");
  const auto new_ds = DaemonSet("agent");
  verdicts.Remember(old_ds, {1, 2}, {Verdict{}, Verdict{}}, t0);
  verdicts.Remember(new_ds, {1}, {Refused("changed")}, t0);
  EXPECT_EQ(verdicts.size(), 1u);
  std::vector<std::shared_ptr<const std::string>> held;
  EXPECT_FALSE(verdicts.Find(old_ds, {1}, t0, held)[0].known);
  EXPECT_TRUE(verdicts.Find(new_ds, {1}, t0, held)[0].known);
}

TEST(VerdictsBoundsTest, PastCapacityEverythingIsForgotten) {
  Verdicts verdicts(3, seconds(60));
  const auto t0 = Clock::now();
  const auto a = DaemonSet("a");
  const auto b = DaemonSet("b");
  verdicts.Remember(a, {1, 2}, {Verdict{}, Verdict{}}, t0);
  verdicts.Remember(b, {1, 2}, {Verdict{}, Verdict{}}, t0);  // 4 > 3
  EXPECT_EQ(verdicts.size(), 2u);
  std::vector<std::shared_ptr<const std::string>> held;
  EXPECT_FALSE(verdicts.Find(a, {1}, t0, held)[0].known);
  EXPECT_TRUE(verdicts.Find(b, {1}, t0, held)[0].known);
}

TEST(VerdictsBoundsTest, ZeroCapacityRemembersNothing) {
  Verdicts verdicts(0, seconds(60));
  const auto t0 = Clock::now();
  const auto a = DaemonSet("a");
  verdicts.Remember(a, {1}, {Verdict{}}, t0);
  std::vector<std::shared_ptr<const std::string>> held;
  EXPECT_FALSE(verdicts.Find(a, {1}, t0, held)[0].known);
  EXPECT_EQ(verdicts.size(), 0u);
}

}  // namespace
}  // namespace dsd::extender
