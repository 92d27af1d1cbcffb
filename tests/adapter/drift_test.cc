// client/adapter/drift.h: when a planned action becomes drift, stays, and
// resolves.
#include "client/adapter/drift.h"

#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace dsd::adapter {
namespace {

using std::chrono::seconds;

// A plan: "ns/ds create node" or "ns/ds delete pod node reason" per entry.
v1::DecideResponse Plan(const std::vector<std::string>& actions) {
  v1::DecideResponse r;
  for (const std::string& a : actions) {
    std::vector<std::string> w;
    for (size_t s = 0, e; s <= a.size(); s = e + 1) {
      e = a.find(' ', s);
      if (e == std::string::npos) e = a.size();
      w.push_back(a.substr(s, e - s));
    }
    const size_t slash = w[0].find('/');
    v1::DaemonSetPlan* plan = nullptr;
    for (v1::DaemonSetPlan& p : *r.mutable_daemon_sets()) {
      if (p.namespace_() + "/" + p.name() == w[0]) plan = &p;
    }
    if (plan == nullptr) {
      plan = r.add_daemon_sets();
      plan->set_namespace_(w[0].substr(0, slash));
      plan->set_name(w[0].substr(slash + 1));
    }
    if (w[1] == "create") {
      plan->add_create()->set_node(w[2]);
    } else {
      v1::PodDelete* d = plan->add_delete_();
      d->set_pod(w[2]);
      d->set_node(w[3]);
      v1::DeleteReason reason = v1::DELETE_REASON_UNSPECIFIED;
      EXPECT_TRUE(v1::DeleteReason_Parse(w[4], &reason));
      d->set_reason(reason);
    }
  }
  return r;
}

std::vector<std::string> Keys(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) out.push_back(a.Key());
  return out;
}

struct Step {
  int at;                         // seconds since the start
  std::vector<std::string> plan;  // replaces the plan (empty + !tick)
  bool tick = false;              // no new plan, only the clock
  std::vector<std::string> drift, started, resolved;
  // Non-empty: the plan answers a request for only these DaemonSets.
  std::vector<std::string> scope = {};
  std::string forget = "";  // non-empty: this DaemonSet was deleted
};

struct DriftCase {
  std::string name;
  int drift_after;
  std::vector<Step> steps;
};

// ctest lists each case by its name.
void PrintTo(const DriftCase& c, std::ostream* os) { *os << c.name; }

const DriftCase kCases[] = {
    {"ImmediateWithZero",
     0,
     {{0, {"d/a create n1"}, false, {"d/a create n1"}, {"d/a create n1"}, {}}}},
    {"PendingUntilDriftAfter",
     30,
     {{0, {"d/a create n1"}, false, {}, {}, {}},
      {29, {}, true, {}, {}, {}},
      {30, {}, true, {"d/a create n1"}, {"d/a create n1"}, {}},
      {31, {}, true, {"d/a create n1"}, {}, {}}}},
    {"SinceSurvivesNewPlans",
     30,
     {{0, {"d/a create n1"}, false, {}, {}, {}},
      {20, {"d/a create n1", "d/a create n2"}, false, {}, {}, {}},
      {30,
       {"d/a create n1", "d/a create n2"},
       false,
       {"d/a create n1"},
       {"d/a create n1"},
       {}}}},
    {"CarriedOutBeforeDriftIsNeverReported",
     30,
     {{0, {"d/a create n1"}, false, {}, {}, {}},
      {10, {}, false, {}, {}, {}},
      {40, {}, true, {}, {}, {}}}},
    {"ResolvedWhenGoneFromThePlan",
     0,
     {{0,
       {"d/a delete p1 n1 NodeAffinityMismatch"},
       false,
       {"d/a delete p1"},
       {"d/a delete p1"},
       {}},
      {5, {}, false, {}, {}, {"d/a delete p1"}}}},
    {"ReappearingStartsAgain",
     10,
     {{0, {"d/a create n1"}, false, {}, {}, {}},
      {5, {}, false, {}, {}, {}},
      {6, {"d/a create n1"}, false, {}, {}, {}},
      {15, {}, true, {}, {}, {}},
      {16, {}, true, {"d/a create n1"}, {"d/a create n1"}, {}}}},
    // A batch for d/b replaces only d/b's plan: d/a's drift stays.
    {"ScopedPlanKeepsOtherDaemonSets",
     0,
     {{0,
       {"d/a create n1", "d/b create n2"},
       false,
       {"d/a create n1", "d/b create n2"},
       {"d/a create n1", "d/b create n2"},
       {}},
      {5,
       {"d/b create n3"},
       false,
       {"d/a create n1", "d/b create n3"},
       {"d/b create n3"},
       {"d/b create n2"},
       {"d/b"}},
      // A DaemonSet in the request but not in the response plans nothing.
      {6, {}, false, {"d/a create n1"}, {}, {"d/b create n3"}, {"d/b"}}}},
    {"ForgetDropsADeletedDaemonSet",
     0,
     {{0,
       {"d/a create n1", "d/b create n2"},
       false,
       {"d/a create n1", "d/b create n2"},
       {"d/a create n1", "d/b create n2"},
       {}},
      {5, {}, false, {"d/b create n2"}, {}, {"d/a create n1"}, {}, "d/a"}}},
};

class DriftTest : public ::testing::TestWithParam<DriftCase> {};

TEST_P(DriftTest, Steps) {
  const DriftCase& c = GetParam();
  DriftTracker tracker(seconds(c.drift_after));
  const Clock::time_point t0 = Clock::now();
  for (const Step& s : c.steps) {
    SCOPED_TRACE("at " + std::to_string(s.at) + " s");
    const Clock::time_point now = t0 + seconds(s.at);
    const std::set<std::string> scope(s.scope.begin(), s.scope.end());
    const DriftChange change = !s.forget.empty() ? tracker.Forget(s.forget)
                               : s.tick          ? tracker.Tick(now)
                               : scope.empty()
                                   ? tracker.Update(Plan(s.plan), true, now)
                                   : tracker.Update(Plan(s.plan), scope, now);
    EXPECT_EQ(Keys(tracker.Drift(now)), s.drift);
    EXPECT_EQ(Keys(change.started), s.started);
    EXPECT_EQ(Keys(change.resolved), s.resolved);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DriftTest, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace dsd::adapter
