// The synthetic cluster of `dsdctl load`: deterministic bytes, accepted by
// the server's validation, and pod counts and states that match the spec
// (checked against an independent count of eligible DaemonSet-node pairs).
#include "client/synthetic/synthetic_cluster.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "server/service/scheduler_service.h"
#include "tests/testing/param_name.h"
#include "tests/testing/status_matchers.h"

namespace dsd::client {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;

struct SpecCase {
  std::string name;
  SyntheticClusterSpec spec;
};

SyntheticClusterSpec Spec(int nodes, int daemon_sets) {
  SyntheticClusterSpec spec;
  spec.nodes = nodes;
  spec.daemon_sets = daemon_sets;
  return spec;
}

std::vector<SpecCase> Cases() {
  std::vector<SpecCase> cases;
  cases.push_back({"Default", SyntheticClusterSpec()});
  cases.push_back({"Small", Spec(50, 4)});
  SyntheticClusterSpec churn = Spec(400, 20);
  churn.missing_per_mille = 100;
  churn.outdated_per_mille = 200;
  churn.failed_per_mille = 50;
  churn.not_ready_per_mille = 150;
  churn.seed = 7;
  cases.push_back({"HeavyChurn", churn});
  SyntheticClusterSpec selective = Spec(600, 30);
  selective.pods_per_node = 10;  // forces rack-selective DaemonSets
  selective.unlabelled_every = 3;
  cases.push_back({"RackSelective", selective});
  SyntheticClusterSpec flat = Spec(300, 8);
  flat.pods_per_node = 0;
  flat.unlabelled_every = 0;
  flat.control_plane_nodes = 0;
  cases.push_back({"NoTargetNoTaints", flat});
  SyntheticClusterSpec all_missing = Spec(20, 3);
  all_missing.missing_per_mille = 1000;
  all_missing.outdated_per_mille = 0;
  all_missing.failed_per_mille = 0;
  all_missing.not_ready_per_mille = 0;
  cases.push_back({"NoPods", all_missing});
  cases.push_back({"Empty", Spec(0, 0)});
  return cases;
}

void PrintTo(const SpecCase& c, std::ostream* os) { *os << c.name; }

class SyntheticClusterTest : public ::testing::TestWithParam<SpecCase> {};

TEST_P(SyntheticClusterTest, SameSpecGivesIdenticalBytes) {
  const std::string a =
      MakeSyntheticDecideRequest(GetParam().spec).SerializeAsString();
  const std::string b =
      MakeSyntheticDecideRequest(GetParam().spec).SerializeAsString();
  EXPECT_EQ(a, b);
}

TEST_P(SyntheticClusterTest, PassesServerValidationAndDecides) {
  const v1::DecideRequest request = MakeSyntheticDecideRequest(GetParam().spec);
  service::SchedulerService service({}, [] { return absl::Now(); });
  v1::ValidateRequest validate;
  *validate.mutable_snapshot() = request.snapshot();
  const auto validated = service.Validate(validate, {});
  ASSERT_THAT(validated, IsOk());
  EXPECT_EQ(validated->violations_size(), 0)
      << validated->violations(0).field() << ": "
      << validated->violations(0).description();
  const auto decided = service.Decide(request, {});
  ASSERT_THAT(decided, IsOk());
  EXPECT_EQ(decided->daemon_sets_size(), GetParam().spec.daemon_sets);
  EXPECT_EQ(decided->evaluated_at().seconds(), kSyntheticNowUnixSeconds);
}

bool HasLabel(const v1::Node& node, const v1::Label& want) {
  for (const v1::Label& l : node.labels()) {
    if (l.key() == want.key() && l.value() == want.value()) return true;
  }
  return false;
}

// (DaemonSet, node) pairs where a daemon pod belongs, counted here from
// the request alone: nodeSelector labels present, every NoSchedule taint
// tolerated by a key match (the generator's only taint and toleration).
int64_t EligiblePairs(const v1::Snapshot& s) {
  int64_t pairs = 0;
  for (const v1::DaemonSet& ds : s.daemon_sets()) {
    for (const v1::Node& node : s.nodes()) {
      bool fits = true;
      for (const v1::Label& want : ds.template_().node_selector()) {
        fits = fits && HasLabel(node, want);
      }
      for (const v1::Taint& taint : node.taints()) {
        bool tolerated = false;
        for (const v1::Toleration& t : ds.template_().tolerations()) {
          tolerated = tolerated || t.key() == taint.key();
        }
        fits = fits && tolerated;
      }
      pairs += fits ? 1 : 0;
    }
  }
  return pairs;
}

// Every state is a binomial draw over the eligible pairs; 5 standard
// deviations (plus one for tiny counts) make a wrong mix fail, never
// rounding. The draw is deterministic, so this cannot flake.
void ExpectCount(const std::string& what, int64_t got, int64_t pairs,
                 int per_mille) {
  const double p = per_mille / 1000.0;
  const double expected = static_cast<double>(pairs) * p;
  const double tolerance =
      5 * std::sqrt(static_cast<double>(pairs) * p * (1 - p)) + 1;
  EXPECT_NEAR(static_cast<double>(got), expected, tolerance) << what;
}

TEST_P(SyntheticClusterTest, PodCountsAndStatesMatchTheSpec) {
  const SyntheticClusterSpec& spec = GetParam().spec;
  const v1::DecideRequest request = MakeSyntheticDecideRequest(spec);
  const v1::Snapshot& s = request.snapshot();
  ASSERT_EQ(s.nodes_size(), spec.nodes);
  ASSERT_EQ(s.daemon_sets_size(), spec.daemon_sets);

  std::map<std::string, const v1::DaemonSet*> by_uid;
  for (const v1::DaemonSet& ds : s.daemon_sets()) by_uid[ds.uid()] = &ds;
  int64_t outdated = 0, failed = 0, not_ready = 0, running = 0;
  for (const v1::Pod& pod : s.pods()) {
    ASSERT_TRUE(by_uid.count(pod.controller_uid())) << pod.name();
    const v1::DaemonSet& ds = *by_uid[pod.controller_uid()];
    std::string hash;
    for (const v1::Label& l : pod.labels()) {
      if (l.key() == "controller-revision-hash") hash = l.value();
    }
    if (hash != ds.current_revision_hash()) {
      ++outdated;
    } else if (pod.phase() == v1::POD_PHASE_FAILED) {
      ++failed;
    } else if (!pod.ready()) {
      ++not_ready;
    } else {
      ++running;
    }
  }
  const int64_t pairs = EligiblePairs(s);
  const int running_per_mille =
      1000 - spec.missing_per_mille - spec.outdated_per_mille -
      spec.failed_per_mille - spec.not_ready_per_mille;
  ExpectCount("missing", pairs - s.pods_size(), pairs, spec.missing_per_mille);
  ExpectCount("outdated", outdated, pairs, spec.outdated_per_mille);
  ExpectCount("failed", failed, pairs, spec.failed_per_mille);
  ExpectCount("not ready", not_ready, pairs, spec.not_ready_per_mille);
  ExpectCount("running", running, pairs, running_per_mille);
}

INSTANTIATE_TEST_SUITE_P(Specs, SyntheticClusterTest,
                         ::testing::ValuesIn(Cases()),
                         dsd::testing::ParamName<SpecCase>);

TEST(SyntheticClusterSeedTest, AnotherSeedGivesOtherBytes) {
  SyntheticClusterSpec a = Spec(100, 5);
  SyntheticClusterSpec b = a;
  b.seed = a.seed + 1;
  EXPECT_NE(MakeSyntheticDecideRequest(a).SerializeAsString(),
            MakeSyntheticDecideRequest(b).SerializeAsString());
}

// The performance report's size: 5,000 nodes x 50 DaemonSets with the
// default mix is about 150,000 pods (within 3%), and still valid.
TEST(SyntheticClusterTargetTest, DefaultMixGivesAbout150kPodsAt5000x50) {
  const SyntheticClusterSpec spec = Spec(5000, 50);
  const v1::DecideRequest request = MakeSyntheticDecideRequest(spec);
  EXPECT_NEAR(request.snapshot().pods_size(), 150'000, 4'500);
  EXPECT_GT(SyntheticRackSelectiveCount(spec), 0);
  service::SchedulerService service({}, [] { return absl::Now(); });
  v1::ValidateRequest validate;
  *validate.mutable_snapshot() = request.snapshot();
  const auto validated = service.Validate(validate, {});
  ASSERT_THAT(validated, IsOk());
  EXPECT_EQ(validated->violations_size(), 0);
}

TEST(SyntheticClusterTargetTest, TargetHoldsThePodsPerNode) {
  for (const double target : {5.0, 12.0, 20.0, 33.3}) {
    SCOPED_TRACE(target);
    SyntheticClusterSpec spec = Spec(2000, 40);
    spec.pods_per_node = target;
    const auto pods = MakeSyntheticDecideRequest(spec).snapshot().pods_size();
    // The count moves in steps of one DaemonSet turning rack-selective: at
    // most 9/10 of the nodes' pairs, of which 98% get a pod. Half a step,
    // plus the binomial spread of the missing pods.
    const double expected = target * spec.nodes;
    const double half_step = 0.5 * 0.9 * 0.98 * spec.nodes;
    EXPECT_NEAR(pods, expected, half_step + 5 * std::sqrt(expected * 0.02));
  }
}

TEST(SyntheticClusterTargetTest, TargetDoesNotBindWithFewDaemonSets) {
  const SyntheticClusterSpec spec;  // 1000 nodes x 10 DaemonSets
  EXPECT_EQ(SyntheticRackSelectiveCount(spec), 0);
  for (int d = 0; d < spec.daemon_sets; ++d) {
    EXPECT_FALSE(SyntheticIsRackSelective(spec, d));
  }
}

TEST(SyntheticClusterTargetTest, RackSelectiveDaemonSetsAreSpreadEvenly) {
  SyntheticClusterSpec spec = Spec(1000, 50);
  spec.pods_per_node = 30;
  const int selective = SyntheticRackSelectiveCount(spec);
  int seen = 0, first_half = 0;
  for (int d = 0; d < spec.daemon_sets; ++d) {
    if (!SyntheticIsRackSelective(spec, d)) continue;
    ++seen;
    first_half += d < spec.daemon_sets / 2 ? 1 : 0;
  }
  EXPECT_EQ(seen, selective);
  EXPECT_NEAR(first_half, selective / 2.0, 2);
}

TEST(SyntheticClusterSpecTest, RejectsOutOfRangeSpecs) {
  struct Row {
    const char* name;
    void (*mutate)(SyntheticClusterSpec&);
    const char* flag;
  };
  const Row rows[] = {
      {"negative nodes", [](SyntheticClusterSpec& s) { s.nodes = -1; },
       "--nodes"},
      {"negative daemonsets",
       [](SyntheticClusterSpec& s) { s.daemon_sets = -1; }, "--daemonsets"},
      {"too many pairs",
       [](SyntheticClusterSpec& s) {
         s.nodes = 100'000;
         s.daemon_sets = 51;
       },
       "5,000,000"},
      {"mix over 1000",
       [](SyntheticClusterSpec& s) { s.outdated_per_mille = 990; }, "<= 1000"},
      {"negative mix", [](SyntheticClusterSpec& s) { s.failed_per_mille = -1; },
       ">= 0"},
      {"negative target", [](SyntheticClusterSpec& s) { s.pods_per_node = -1; },
       "--pods_per_node"},
      {"too many control-plane nodes",
       [](SyntheticClusterSpec& s) { s.control_plane_nodes = s.nodes + 1; },
       "--control_plane_nodes"},
  };
  EXPECT_TRUE(ValidateSyntheticClusterSpec({}).ok());
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    SyntheticClusterSpec spec;
    row.mutate(spec);
    const absl::Status status = ValidateSyntheticClusterSpec(spec);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                                 ::testing::HasSubstr(row.flag)));
  }
}

}  // namespace
}  // namespace dsd::client
