// Scenario table for engine::Decide: every expectation comes from
// daemonset-semantics.md sections 2-6, 8 and 12 and from k8s-test-catalogue.md
// sections 0, A.1-A.5, A.7-A.10 and D (status from the input snapshot).
#include "server/engine/decide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/engine/eligibility.h"
#include "server/engine/types.h"
#include "tests/testing/apply_plan.h"
#include "tests/testing/builders.h"
#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

using ::dsd::testing::AddNodes;
using ::dsd::testing::At;
using ::dsd::testing::DaemonSetBuilder;
using ::dsd::testing::MakeRequirement;
using ::dsd::testing::MakeStatus;
using ::dsd::testing::MakeToleration;
using ::dsd::testing::NodeBuilder;
using ::dsd::testing::NodeRange;
using ::dsd::testing::PodBuilder;
using ::dsd::testing::StatusString;
using ::dsd::testing::T0;
using enum DeleteReason;

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// ---------------------------------------------------------------------------
// Expected outcome of one row.

struct Deletion {
  std::string pod;
  DeleteReason reason;
};

// The plan of one DaemonSet. Unset optionals and an empty `note` are not
// checked; creates and deletes always are (empty means "none").
struct ExpectedPlan {
  std::string daemon_set = "default/foo";  // namespace/name
  std::vector<std::string> creates = {};   // node names, any order
  std::vector<Deletion> deletes = {};      // any order
  std::optional<DaemonSetStatus> status = std::nullopt;
  std::optional<absl::Duration> requeue_after = std::nullopt;
  std::string note = {};  // some note contains this, ignoring case
  std::optional<bool> revision_unknown = std::nullopt;
};

// Which update strategies a row runs with (catalogue 0.3: "both" means
// OnDelete and RollingUpdate with maxUnavailable 1, the builder default).
enum class Runs { kBoth, kOnDelete, kAsBuilt };

struct DecideCase {
  std::string name;
  void (*build)(Snapshot&) = nullptr;
  Runs runs = Runs::kBoth;
  absl::Time now = T0();
  Options options = {};
  std::vector<ExpectedPlan> plans = {};  // in plan order
};

// `prefix` + i for i in [from, to), all with `reason`.
std::vector<Deletion> Dels(const std::string& prefix, int from, int to,
                           DeleteReason reason) {
  std::vector<Deletion> out;
  for (int i = from; i < to; ++i) {
    out.push_back({prefix + std::to_string(i), reason});
  }
  return out;
}

std::vector<Deletion> Cat(std::initializer_list<std::vector<Deletion>> parts) {
  std::vector<Deletion> out;
  for (const auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Snapshot helpers (catalogue 0.1 fixtures).

LabelPairs SimpleNodeLabel() { return {{"color", "blue"}, {"speed", "fast"}}; }

// newDaemonSet: selector and template labels simpleDaemonSetLabel.
DaemonSetBuilder SimpleDs(Snapshot& s, std::string name = "foo") {
  return DaemonSetBuilder(s, std::move(name))
      .SelectorLabels({{"name", "simple-daemon"}, {"type", "production"}});
}

// SimpleDs with nodeSelector simpleNodeLabel.
DaemonSetBuilder BlueFastDs(Snapshot& s) {
  return SimpleDs(s)
      .NodeSelector("color", "blue")
      .NodeSelector("speed", "fast");
}

// newUpdateSurge(1): RollingUpdate, maxUnavailable 0, maxSurge 1.
DaemonSetBuilder SurgeDs(Snapshot& s) {
  return SimpleDs(s)
      .MaxUnavailable(IntOrPercent{0, false})
      .MaxSurge(IntOrPercent{1, false});
}

DaemonSetBuilder SsdMonitor(Snapshot& s) {
  return DaemonSetBuilder(s, "ssd-monitor").NodeSelector("disk", "ssd");
}

void AddNode(Snapshot& s, std::string name, const LabelPairs& labels = {}) {
  NodeBuilder node(s, std::move(name));
  for (const auto& [k, v] : labels) node.Label(k, v);
  node.Add();
}

// A current-revision daemon pod of `ds` bound to `node`.
PodBuilder Owned(Snapshot& s, std::string name, const DaemonSet& ds,
                 std::string node) {
  return PodBuilder(s, std::move(name)).OwnedBy(ds).OnNode(std::move(node));
}

// An "old" pod as in catalogue A.9: revision labels removed.
PodBuilder OldOwned(Snapshot& s, std::string name, const DaemonSet& ds,
                    std::string node) {
  return Owned(s, std::move(name), ds, std::move(node))
      .RemoveLabel("controller-revision-hash")
      .RemoveLabel("pod-template-generation");
}

// A pod with every label of a current daemon pod but no controller.
PodBuilder Orphan(Snapshot& s, std::string name, const DaemonSet& ds,
                  std::string node) {
  return Owned(s, std::move(name), ds, std::move(node)).ControllerUid("");
}

// addPods: n owned pods on `node`, named <node>-<tag><i>.
void AddPods(Snapshot& s, const DaemonSet& ds, const std::string& node, int n,
             const std::string& tag = "p") {
  for (int i = 0; i < n; ++i) {
    Owned(s, node + "-" + tag + std::to_string(i), ds, node).Add();
  }
}

// node-0 tainted dedicated=user1:NoExecute at T0, tolerated for 60 s by the
// DaemonSet (so shouldRun and shouldContinueRunning hold), one pod on it.
void DedicatedNoExecuteFor60s(Snapshot& s) {
  NodeBuilder(s, "node-0")
      .Taint("dedicated", "user1", TaintEffect::kNoExecute, At(0))
      .Add();
  const auto ds =
      SimpleDs(s)
          .Toleration(MakeToleration(s, "dedicated", TolerationOperator::kEqual,
                                     "user1", TaintEffect::kNoExecute, 60))
          .Add();
  AddPods(s, ds, "node-0", 1);
}

// n pods owned by `ds` whose labels are simpleDaemonSetLabel2 (released).
void AddReleasedPods(Snapshot& s, const DaemonSet& ds, const std::string& node,
                     int n) {
  for (int i = 0; i < n; ++i) {
    Owned(s, node + "-released" + std::to_string(i), ds, node)
        .SetLabel("type", "test")
        .Add();
  }
}

// The DaemonSet as built, with spec.selector replaced by {} (catalogue A.7).
void AddWithEmptySelector(Snapshot& s, const DaemonSetBuilder& builder) {
  DaemonSet ds = builder.Build();
  ds.selector = LabelSelector{};
  s.daemon_sets.push_back(ds);
}

Toleration NoScheduleToleration(Snapshot& s) {
  return MakeToleration(s, "dedicated", TolerationOperator::kEqual, "user1",
                        TaintEffect::kNoSchedule);
}

NodeSelectorTerm ExpressionTerm(Requirement r) {
  NodeSelectorTerm term;
  term.match_expressions.push_back(std::move(r));
  return term;
}

// ---------------------------------------------------------------------------
// Seed scenario: ssd-monitor (semantics sections 3, 5.2, 6.1, 6.6, 8).

std::vector<DecideCase> SeedCases() {
  const std::string kDs = "default/ssd-monitor";
  return {
      {.name = "a_SsdNodeGetsPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             SsdMonitor(s).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-node1"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "b_RelabelledToHddDeletesPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "k8s-node1", {{"disk", "hdd"}});
             const auto ds = SsdMonitor(s).Add();
             Owned(s, "ssd-monitor-7x2kq", ds, "k8s-node1").Ready(T0()).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .deletes = {{"ssd-monitor-7x2kq", kNodeAffinityMismatch}},
                  .status = MakeStatus(0, 0, 1, 0, 0, 0)}}},
      {.name = "c_NewSsdNodeGetsPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             AddNode(s, "k8s-node2", {{"disk", "ssd"}});
             const auto ds = SsdMonitor(s).Add();
             Owned(s, "ssd-monitor-7x2kq", ds, "k8s-node1").Ready(T0()).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-node2"},
                  .status = MakeStatus(2, 1, 0, 1, 1, 1)}}},
      {.name = "d_DeletedPodIsRecreated",
       .build =
           [](Snapshot& s) {
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             AddNode(s, "k8s-node2", {{"disk", "ssd"}});
             const auto ds = SsdMonitor(s).Add();
             Owned(s, "ssd-monitor-b9wz4", ds, "k8s-node2").Ready(T0()).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-node1"},
                  .status = MakeStatus(2, 1, 0, 1, 1, 1)}}},
      // Semantics 6.6 and 8: a bound pod on a missing node is left to pod GC
      // and counted nowhere; no replacement goes anywhere else.
      {.name = "e_VanishedNodeGetsNoReplacement",
       .build =
           [](Snapshot& s) {
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             const auto ds = SsdMonitor(s).Add();
             Owned(s, "ssd-monitor-7x2kq", ds, "k8s-node1").Ready(T0()).Add();
             Owned(s, "ssd-monitor-b9wz4", ds, "k8s-node2").Ready(T0()).Add();
           },
       .plans = {{.daemon_set = kDs, .status = MakeStatus(1, 1, 0, 1, 1, 1)}}},
      // Semantics 4: unschedulable:NoSchedule is a default toleration.
      {.name = "f_CordonedSsdNodeGetsPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "k8s-node1").Label("disk", "ssd").Cordoned().Add();
             SsdMonitor(s).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-node1"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      // Semantics 4 "Control-plane taints": no default toleration.
      {.name = "g_ControlPlaneNodeGetsNoPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "k8s-master")
                 .Label("disk", "ssd")
                 .ControlPlane()
                 .Add();
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             SsdMonitor(s).Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-node1"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "g_ControlPlaneNodeTolerated",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "k8s-master")
                 .Label("disk", "ssd")
                 .ControlPlane()
                 .Add();
             AddNode(s, "k8s-node1", {{"disk", "ssd"}});
             SsdMonitor(s)
                 .Toleration(MakeToleration(
                     s, "node-role.kubernetes.io/control-plane",
                     TolerationOperator::kExists, "", TaintEffect::kNoSchedule))
                 .Add();
           },
       .plans = {{.daemon_set = kDs,
                  .creates = {"k8s-master", "k8s-node1"},
                  .status = MakeStatus(2, 0, 0, 0, 0, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.1 and A.2: placement, node selection (semantics 3).

std::vector<DecideCase> PlacementCases() {
  return {
      {.name = "SimpleDaemonSetLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             SimpleDs(s).Add();
           },
       .plans = {{.creates = NodeRange(0, 5)}}},
      {.name = "SimpleDaemonSetScheduleDaemonSetPodsLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             SimpleDs(s).Add();
           },
       .plans = {{.creates = NodeRange(0, 5)}}},
      {.name = "NoNodesDoesNothing",
       .build = [](Snapshot& s) { SimpleDs(s).Add(); },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "OneNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "only-node");
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"only-node"}}}},
      // Conditions are not modelled at all: a NotReady or NetworkUnavailable
      // node without taints is an ordinary node (semantics 3.6).
      {.name = "NotReadyNodeDaemonDoesLaunchPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "not-ready");
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"not-ready"}}}},
      {.name = "NetworkUnavailableNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "network-unavailable");
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"network-unavailable"}}}},
      {.name = "InsufficientCapacityNodeDaemonDoesNotUnscheduleRunningPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "too-much-mem");
             SimpleDs(s).NodeName("too-much-mem").Add();
             PodBuilder(s, "foreign").OnNode("too-much-mem").Add();
           },
       .plans = {{.creates = {"too-much-mem"}}}},
      {.name =
           "InsufficientCapacityNodeSufficientCapacityWithNodeLabelDaemonLaunch"
           "Pod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "not-enough-resource");
             AddNode(s, "enough-resource", SimpleNodeLabel());
             BlueFastDs(s).Add();
           },
       .runs = Runs::kOnDelete,
       .plans = {{.creates = {"enough-resource"}}}},
      {.name = "PortConflictWithSameDaemonPodDoesNotDeletePod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "port-conflict");
             const auto ds = SimpleDs(s).NodeName("port-conflict").Add();
             Owned(s, "port-conflict-pod", ds, "port-conflict").Add();
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "NoPortConflictNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "no-port-conflict");
             SimpleDs(s).NodeName("no-port-conflict").Add();
             PodBuilder(s, "foreign").OnNode("no-port-conflict").Add();
           },
       .plans = {{.creates = {"no-port-conflict"}}}},
      // A.2
      {.name = "SelectorDaemonLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             BlueFastDs(s).Add();
           },
       .plans = {{.creates = NodeRange(4, 7),
                  .status = MakeStatus(3, 0, 0, 0, 0, 0)}}},
      {.name = "SelectorDaemonSetLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             BlueFastDs(s).Add();
           },
       .runs = Runs::kOnDelete,
       .plans = {{.creates = NodeRange(4, 7)}}},
      {.name = "BadSelectorDaemonDoesNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             SimpleDs(s)
                 .NodeSelector("color", "red")
                 .NodeSelector("speed", "fast")
                 .Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "NodeAffinityDaemonLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             SimpleDs(s)
                 .AffinityTerm(ExpressionTerm(MakeRequirement(
                     s, "color", SelectorOperator::kIn, {"blue"})))
                 .Add();
           },
       .plans = {{.creates = NodeRange(4, 7)}}},
      {.name = "NameDaemonSetLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             SimpleDs(s).NodeName("node-0").Add();
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "BadNameDaemonSetDoesNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             SimpleDs(s).NodeName("node-10").Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "NameAndSelectorDaemonSetLaunchesPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             BlueFastDs(s).NodeName("node-6").Add();
           },
       .plans = {{.creates = {"node-6"}}}},
      {.name = "InconsistentNameSelectorDaemonSetDoesNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             AddNodes(s, 4, 3, SimpleNodeLabel());
             BlueFastDs(s).NodeName("node-0").Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.3 and A.4: existing, duplicate, released, failed, succeeded and
// terminating pods (semantics 5, 6.2, 6.3, 6.5, 6.6).

std::vector<DecideCase> ExistingPodCases() {
  return {
      {.name = "DealsWithExistingPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).Add();
             AddPods(s, ds, "node-1", 1);
             AddPods(s, ds, "node-2", 2);
             AddPods(s, ds, "node-3", 5);
             AddReleasedPods(s, ds, "node-4", 2);
           },
       .plans = {{.creates = {"node-0", "node-4"},
                  .deletes = Cat({Dels("node-2-p", 1, 2, kDuplicatePod),
                                  Dels("node-3-p", 1, 5, kDuplicatePod)}),
                  .status = MakeStatus(5, 3, 0, 0, 3, 0)}}},
      {.name = "SelectorDaemonDeletesUnselectedPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             AddNodes(s, 5, 5, SimpleNodeLabel());
             const auto ds = BlueFastDs(s).Add();
             AddReleasedPods(s, ds, "node-0", 2);
             AddPods(s, ds, "node-1", 3);
             AddReleasedPods(s, ds, "node-1", 1);
             AddPods(s, ds, "node-4", 1);
           },
       .plans = {{.creates = NodeRange(5, 10),
                  .deletes =
                      Cat({Dels("node-1-p", 0, 3, kNodeAffinityMismatch),
                           Dels("node-4-p", 0, 1, kNodeAffinityMismatch)}),
                  .status = MakeStatus(5, 0, 2, 0, 0, 0)}}},
      {.name = "SelectorDaemonDealsWithExistingPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             AddNodes(s, 5, 5, SimpleNodeLabel());
             const auto ds = BlueFastDs(s).Add();
             AddPods(s, ds, "node-0", 1);
             AddPods(s, ds, "node-1", 3);
             AddReleasedPods(s, ds, "node-1", 2);
             AddPods(s, ds, "node-2", 4);
             AddPods(s, ds, "node-6", 13);
             AddReleasedPods(s, ds, "node-7", 4);
             AddPods(s, ds, "node-9", 1);
             AddReleasedPods(s, ds, "node-9", 1);
           },
       .plans = {{.creates = {"node-5", "node-7", "node-8"},
                  .deletes = Cat({Dels("node-0-p", 0, 1, kNodeAffinityMismatch),
                                  Dels("node-1-p", 0, 3, kNodeAffinityMismatch),
                                  Dels("node-2-p", 0, 4, kNodeAffinityMismatch),
                                  Dels("node-6-p", 1, 13, kDuplicatePod)}),
                  .status = MakeStatus(5, 2, 3, 0, 2, 0)}}},
      {.name = "DeleteUnscheduledPodForNotExistingNode",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             AddPods(s, ds, "node-0", 1);
             Owned(s, "bound-to-node-1", ds, "node-1").Add();
             PodBuilder(s, "unbound-for-node-2")
                 .OwnedBy(ds)
                 .TargetNode("node-2")
                 .Add();
           },
       .plans = {{.deletes = {{"unbound-for-node-2", kNodeGone}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // A.4 TestDaemonKillFailedPods rows.
      {.name = "KillFailedPods_NormalDoNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             AddPods(s, SimpleDs(s).Add(), "node-0", 1);
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "KillFailedPods_NoPodsCreate1",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"node-0"}}}},
      // Non-surge: no replacement in the same pass (semantics 6.3).
      {.name = "KillFailedPods_OneFailedKillOneCreateNone",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-failed0", ds, "node-0").Failed().Add();
           },
       .plans = {{.deletes = {{"node-0-failed0", kFailedPod}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // The failed pod sorts first by name, so it is the representative
      // (semantics 5.4, 8): nothing is Ready.
      {.name = "KillFailedPods_OneFailedThreeNormalKillThree",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-failed0", ds, "node-0").Failed().Add();
             AddPods(s, ds, "node-0", 3);
           },
       .plans = {{.deletes = Cat({{{"node-0-failed0", kFailedPod}},
                                  Dels("node-0-p", 1, 3, kDuplicatePod)}),
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "KillFailedPodsBackoff_Sync1",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-failed0", ds, "node-0").Failed().Add();
           },
       .plans = {{.deletes = {{"node-0-failed0", kFailedPod}}}}},
      // [dsd] 6.5: without back-off state, only the first failed pod of a
      // node (order of 5.4) is deleted; the others wait for the next plan.
      {.name = "OnlyFirstFailedPodOfNodeDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-failed0", ds, "node-0").Failed().Add();
             Owned(s, "node-0-failed1", ds, "node-0").Failed().Add();
           },
       .plans = {{.deletes = {{"node-0-failed0", kFailedPod}}}}},
      {.name = "SucceededPodDeletedNoCreate",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-done0", ds, "node-0").Succeeded().Add();
           },
       .plans = {{.deletes = {{"node-0-done0", kSucceededPod}}}}},
      {.name = "DaemonSetRespectsTermination",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1, SimpleNodeLabel());
             const auto ds = BlueFastDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0")
                 .Phase(PodPhase::kUnset)
                 .Terminating()
                 .Add();
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.5: taints and tolerations (semantics 3.2, 3.5, 4).

// Catalogue A.4 TestDaemonKillFailedPodsBackoff with the back-off entry sent
// by the caller (semantics 6.5): in back-off while now - lastUpdate < delay
// (strict); the failed pod is then skipped and the plan requeues when the
// back-off ends. Production delays (1 s doubling) instead of the test's 50 ms.
void OneFailedPodWithBackoff(Snapshot& s, std::string node,
                             absl::Time last_update, absl::Duration delay) {
  AddNodes(s, 0, 1);
  const auto ds =
      SimpleDs(s).FailedPodBackoff(std::move(node), last_update, delay).Add();
  Owned(s, "node-0-failed0", ds, "node-0").Failed().Add();
}

std::vector<DecideCase> BackoffCases() {
  const DaemonSetStatus status = MakeStatus(1, 1, 0, 0, 1, 0);
  return {
      {.name = "Backoff_InBackoffSkipsFailedPodAndRequeues",
       .build =
           [](Snapshot& s) {
             OneFailedPodWithBackoff(s, "node-0", At(9), absl::Seconds(2));
           },
       .now = At(10),
       .plans = {{.status = status, .requeue_after = absl::Seconds(1)}}},
      {.name = "Backoff_OneNanosecondBeforeTheEndStillInBackoff",
       .build =
           [](Snapshot& s) {
             OneFailedPodWithBackoff(s, "node-0", At(8), absl::Seconds(2));
           },
       .now = At(10) - absl::Nanoseconds(1),
       .plans = {{.status = status, .requeue_after = absl::Nanoseconds(1)}}},
      {.name = "Backoff_AtLastUpdatePlusDelayDeletes",
       .build =
           [](Snapshot& s) {
             OneFailedPodWithBackoff(s, "node-0", At(8), absl::Seconds(2));
           },
       .now = At(10),
       .plans = {{.deletes = {{"node-0-failed0", kFailedPod}},
                  .status = status}}},
      {.name = "Backoff_EntryOfAnotherNodeDoesNotApply",
       .build =
           [](Snapshot& s) {
             OneFailedPodWithBackoff(s, "node-7", At(9), absl::Seconds(2));
           },
       .now = At(10),
       .plans = {{.deletes = {{"node-0-failed0", kFailedPod}},
                  .status = status}}},
  };
}

std::vector<DecideCase> TaintCases() {
  return {
      {.name = "NoScheduleTaintedDoesntEvictRunningIntolerantPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "tainted")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             AddPods(s, SimpleDs(s).Add(), "tainted", 1);
           },
       .plans = {{.status = MakeStatus(0, 0, 1, 0, 0, 0)}}},
      {.name = "NoExecuteTaintedDoesEvictRunningIntolerantPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "tainted")
                 .Taint("dedicated", "user1", TaintEffect::kNoExecute)
                 .Add();
             AddPods(s, SimpleDs(s).Add(), "tainted", 1);
           },
       .plans = {{.deletes = {{"tainted-p0", kUntoleratedNoExecuteTaint}},
                  .status = MakeStatus(0, 0, 1, 0, 0, 0)}}},
      {.name = "TaintedNodeDaemonDoesNotLaunchIntolerantPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "tainted")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s).Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "TaintedNodeDaemonLaunchesToleratePod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "tainted")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s).Toleration(NoScheduleToleration(s)).Add();
           },
       .plans = {{.creates = {"tainted"}}}},
      {.name = "NodeDaemonLaunchesToleratePod",
       .build =
           [](Snapshot& s) {
             AddNode(s, "untainted");
             SimpleDs(s).Toleration(NoScheduleToleration(s)).Add();
           },
       .plans = {{.creates = {"untainted"}}}},
      {.name = "NotReadyNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "not-ready").NotReady(T0()).Add();
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"not-ready"}}}},
      {.name = "UnreachableNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "unreachable")
                 .Taint("node.kubernetes.io/unreachable", "",
                        TaintEffect::kNoExecute, T0())
                 .Add();
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"unreachable"}}}},
      {.name = "TaintPressureNodeDaemonLaunchesPod",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "resources-pressure")
                 .Taint("node.kubernetes.io/disk-pressure", "",
                        TaintEffect::kNoSchedule)
                 .Taint("node.kubernetes.io/memory-pressure", "",
                        TaintEffect::kNoSchedule)
                 .Taint("node.kubernetes.io/pid-pressure", "",
                        TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s).Namespace("kube-system").Add();
           },
       .plans = {{.daemon_set = "kube-system/foo",
                  .creates = {"resources-pressure"}}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.7: DaemonSets that must not act (semantics 2).

std::vector<DecideCase> NoActionCases() {
  return {
      {.name = "DontDoAnythingIfBeingDeleted",
       .build =
           [](Snapshot& s) {
             AddNode(s, "not-too-much-mem");
             SimpleDs(s).NodeName("not-too-much-mem").BeingDeleted().Add();
             PodBuilder(s, "foreign").OnNode("not-too-much-mem").Add();
           },
       .plans = {{}}},
      {.name = "DontDoAnythingIfBeingDeletedRace",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).BeingDeleted().Add();
             Orphan(s, "orphan", ds, "node-0").Add();
           },
       .plans = {{}}},
      {.name = "PodIsNotDeletedByDaemonsetWithEmptyLabelSelector",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node1");
             AddWithEmptySelector(s, SimpleDs(s).NodeSelector("foo", "bar"));
             PodBuilder(s, "foreign")
                 .SetLabel("bang", "boom")
                 .OnNode("node1")
                 .Add();
           },
       .plans = {{.note = "selector"}}},
      // Item 7: even with eligible empty nodes and a failed pod carrying the
      // DaemonSet's controller reference, an empty selector means nothing.
      {.name = "EmptySelectorWithEligibleNodesDoesNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             const auto builder = SimpleDs(s);
             AddWithEmptySelector(s, builder);
             Owned(s, "node-0-p0", builder.Build(), "node-0").Failed().Add();
           },
       .plans = {{.note = "selector"}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.8 (dsd values: status of the input snapshot, semantics 8).

std::vector<DecideCase> StatusCases() {
  return {
      {.name = "SimpleDaemonSetUpdatesStatusAfterLaunchingPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             SimpleDs(s).Add();
           },
       .plans = {{.creates = NodeRange(0, 5),
                  .status = MakeStatus(5, 0, 0, 0, 0, 0)}}},
      {.name = "NumberReadyStatus_Sync1",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2, SimpleNodeLabel());
             const auto ds = SimpleDs(s).Add();
             AddPods(s, ds, "node-0", 1);
             AddPods(s, ds, "node-1", 1);
           },
       .plans = {{.status = MakeStatus(2, 2, 0, 0, 2, 0)}}},
      {.name = "NumberReadyStatus_Sync2",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2, SimpleNodeLabel());
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Ready(T0()).Add();
             Owned(s, "node-1-p0", ds, "node-1").Ready(T0()).Add();
           },
       .plans = {{.status = MakeStatus(2, 2, 0, 2, 2, 2)}}},
      {.name = "ObservedGeneration",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             DaemonSet ds = SimpleDs(s).Build();
             ds.generation = 1;
             s.daemon_sets.push_back(ds);
             AddPods(s, ds, "node-0", 1);
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // The plan lists every create, with no burst cap (plan contract).
      {.name = "SimpleDaemonSetPodCreateErrors",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 100);
             SimpleDs(s).Add();
           },
       .plans = {{.creates = NodeRange(0, 100),
                  .status = MakeStatus(100, 0, 0, 0, 0, 0)}}},
      // Item 6 rows.
      {.name = "NoScheduleTaintAddedAfterPlacementIsMisscheduled",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             AddNode(s, "node-1");
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Ready(T0()).Add();
             Owned(s, "node-1-p0", ds, "node-1").Ready(T0()).Add();
           },
       .plans = {{.status = MakeStatus(1, 1, 1, 1, 1, 1)}}},
      // minReadySeconds 30 at t=60: Ready since 0 and 30 (boundary,
      // inclusive since v1.34) are available; since 45 is not (until 75);
      // Ready without lastTransitionTime never is (semantics 7.3).
      {.name = "ReadyAndAvailableWithMinReadySeconds",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).MinReadySeconds(30).Add();
             Owned(s, "node-0-p0", ds, "node-0").Ready(At(0)).Add();
             Owned(s, "node-1-p0", ds, "node-1").Ready(At(30)).Add();
             Owned(s, "node-2-p0", ds, "node-2").Ready(At(45)).Add();
             Owned(s, "node-3-p0", ds, "node-3").Add();
             Owned(s, "node-4-p0", ds, "node-4").Ready().Add();
           },
       .now = At(60),
       .plans = {{.status = MakeStatus(5, 5, 0, 4, 5, 2),
                  .requeue_after = absl::Seconds(15)}}},
      {.name = "ReadyAndAvailableWithMinReadySecondsKubernetes133",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).MinReadySeconds(30).Add();
             Owned(s, "node-0-p0", ds, "node-0").Ready(At(0)).Add();
             Owned(s, "node-1-p0", ds, "node-1").Ready(At(30)).Add();
             Owned(s, "node-2-p0", ds, "node-2").Ready(At(45)).Add();
             Owned(s, "node-3-p0", ds, "node-3").Add();
             Owned(s, "node-4-p0", ds, "node-4").Ready().Add();
           },
       .now = At(60),
       .options = {.kubernetes_minor = 33},
       .plans = {{.status = MakeStatus(5, 5, 0, 4, 5, 1)}}},
      // IsPodUpdated: hash OR generation (semantics 7.2). OnDelete only, so
      // that no rolling update touches the old pods.
      {.name = "UpdatedByHashOrGeneration",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Add();
             Owned(s, "node-1-p0", ds, "node-1")
                 .SetLabel("controller-revision-hash", "rev-1")
                 .Add();
             Owned(s, "node-2-p0", ds, "node-2")
                 .SetLabel("pod-template-generation", "1")
                 .Add();
             Owned(s, "node-3-p0", ds, "node-3").Revision("rev-1", 1).Add();
             OldOwned(s, "node-4-p0", ds, "node-4").Add();
           },
       .runs = Runs::kOnDelete,
       .plans = {{.status = MakeStatus(5, 5, 0, 0, 3, 0),
                  .revision_unknown = false}}},
      {.name = "UpdatedByGenerationWhenRevisionUnknown",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SimpleDs(s).Revision("").Add();
             Owned(s, "node-0-p0", ds, "node-0").Add();
             Owned(s, "node-1-p0", ds, "node-1")
                 .SetLabel("controller-revision-hash", "rev-1")
                 .Add();
             Owned(s, "node-2-p0", ds, "node-2")
                 .SetLabel("controller-revision-hash", "rev-2")
                 .SetLabel("pod-template-generation", "1")
                 .Add();
             Owned(s, "node-3-p0", ds, "node-3").Revision("rev-1", 1).Add();
             OldOwned(s, "node-4-p0", ds, "node-4").Add();
           },
       .runs = Runs::kOnDelete,
       .plans = {{.status = MakeStatus(5, 5, 0, 0, 2, 0),
                  .revision_unknown = true}}},
      // D19: the representative is the oldest pod; it is not Ready.
      {.name = "D19_OldestPodNotReadyCountsNotReady",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-a", ds, "node-0").Created(At(1)).Add();
             Owned(s, "node-0-b", ds, "node-0")
                 .Created(At(2))
                 .Ready(At(2))
                 .Add();
           },
       .now = At(10),
       .plans = {{.deletes = {{"node-0-b", kDuplicatePod}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // D19 with D16: bound pods sort first, whatever their age.
      {.name = "D19_BoundPodIsRepresentative",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             PodBuilder(s, "node-0-unbound")
                 .OwnedBy(ds)
                 .TargetNode("node-0")
                 .Created(At(1))
                 .Ready(At(1))
                 .Add();
             Owned(s, "node-0-bound", ds, "node-0").Created(At(2)).Add();
           },
       .now = At(10),
       .plans = {{.deletes = {{"node-0-unbound", kDuplicatePod}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.9: surge-aware manage, maxUnavailable 0, maxSurge 1 (semantics
// 6.4, then the rolling update on the virtually applied state, 7.6, 7.7).

// node-1 of the A.9 minReadySeconds tests: a current pod created at t=100
// (Ready since t=50), old Ready pods created at t=50 and t=60; node-2 has
// one current pod.
void SurgeMinReadyCluster(Snapshot& s) {
  AddNodes(s, 0, 5);
  const auto ds = SurgeDs(s).MinReadySeconds(15).Add();
  Owned(s, "node-1-new", ds, "node-1").Created(At(100)).Ready(At(50)).Add();
  OldOwned(s, "node-1-old50", ds, "node-1").Created(At(50)).Ready().Add();
  OldOwned(s, "node-1-old60", ds, "node-1").Created(At(60)).Ready().Add();
  AddPods(s, ds, "node-2", 1);
}

// As above without minReadySeconds; `old50_ready` sets the oldest old pod's
// readiness.
void SurgeOldPodsCluster(Snapshot& s, bool old50_ready) {
  AddNodes(s, 0, 5);
  const auto ds = SurgeDs(s).Add();
  Owned(s, "node-1-new", ds, "node-1").Created(At(100)).Add();
  PodBuilder old50 = OldOwned(s, "node-1-old50", ds, "node-1");
  old50.Created(At(50));
  if (old50_ready) old50.Ready();
  old50.Add();
  OldOwned(s, "node-1-old60", ds, "node-1").Created(At(60)).Ready().Add();
  AddPods(s, ds, "node-2", 1);
}

std::vector<DecideCase> SurgeCases() {
  return {
      {.name = "SurgeDealsWithExistingPods",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SurgeDs(s).Add();
             AddPods(s, ds, "node-1", 1);
             AddPods(s, ds, "node-2", 2);
             AddPods(s, ds, "node-3", 5);
             AddReleasedPods(s, ds, "node-4", 2);
           },
       .runs = Runs::kAsBuilt,
       .plans = {{.creates = {"node-0", "node-4"},
                  .deletes = Cat({Dels("node-2-p", 1, 2, kDuplicatePod),
                                  Dels("node-3-p", 1, 5, kDuplicatePod)}),
                  .status = MakeStatus(5, 3, 0, 0, 3, 0)}}},
      // Representative of node-1: the Ready old pod of t=50.
      {.name = "SurgePreservesReadyOldPods",
       .build = [](Snapshot& s) { SurgeOldPodsCluster(s, true); },
       .runs = Runs::kAsBuilt,
       .now = At(200),
       .plans = {{.creates = {"node-0", "node-3", "node-4"},
                  .deletes = {{"node-1-old60", kDuplicatePod}},
                  .status = MakeStatus(5, 2, 0, 1, 1, 1)}}},
      {.name = "SurgeDeletesUnreadyOldPods",
       .build = [](Snapshot& s) { SurgeOldPodsCluster(s, false); },
       .runs = Runs::kAsBuilt,
       .now = At(200),
       .plans = {{.creates = {"node-0", "node-3", "node-4"},
                  .deletes = {{"node-1-old50", kOldPodNotReady},
                              {"node-1-old60", kDuplicatePod}},
                  .status = MakeStatus(5, 2, 0, 0, 1, 0)}}},
      // The new pod becomes available at 65: the plan changes in 5 s.
      {.name = "SurgePreservesOldReadyWithUnsatisfiedMinReady",
       .build = SurgeMinReadyCluster,
       .runs = Runs::kAsBuilt,
       .now = At(60),
       .plans = {{.creates = {"node-0", "node-3", "node-4"},
                  .deletes = {{"node-1-old60", kDuplicatePod}},
                  .status = MakeStatus(5, 2, 0, 1, 1, 0),
                  .requeue_after = absl::Seconds(5)}}},
      {.name = "SurgeDeletesOldReadyWithUnsatisfiedMinReady",
       .build = SurgeMinReadyCluster,
       .runs = Runs::kAsBuilt,
       .now = At(70),
       .plans = {{.creates = {"node-0", "node-3", "node-4"},
                  .deletes = {{"node-1-old50", kSurgeReplaced},
                              {"node-1-old60", kDuplicatePod}},
                  .status = MakeStatus(5, 2, 0, 1, 1, 0)}}},
      // node-4 holds only a terminating old pod: surge creates at once; the
      // surge budget of 1 is used by node-0, so no rolling-update create.
      {.name = "SurgeCreatesNewPodWhenAtMaxSurgeAndOldPodDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds = SurgeDs(s).Add();
             Owned(s, "node-0-new", ds, "node-0").Created(At(100)).Add();
             OldOwned(s, "node-0-old", ds, "node-0")
                 .Created(At(50))
                 .Ready()
                 .Add();
             for (int i = 1; i <= 3; ++i) {
               const std::string node = "node-" + std::to_string(i);
               OldOwned(s, node + "-old", ds, node)
                   .Created(At(1))
                   .Ready()
                   .Add();
             }
             OldOwned(s, "node-4-old", ds, "node-4")
                 .Created(At(1))
                 .Ready()
                 .Terminating()
                 .Add();
           },
       .runs = Runs::kAsBuilt,
       .now = At(200),
       .plans = {{.creates = {"node-4"},
                  .status = MakeStatus(5, 5, 0, 5, 0, 5)}}},
      // Item 3: the two surge-only reasons in their smallest form.
      {.name = "SurgeOldPodNotReadyNextToNewPod",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SurgeDs(s).Add();
             OldOwned(s, "node-0-old", ds, "node-0").Created(At(1)).Add();
             Owned(s, "node-0-new", ds, "node-0").Created(At(2)).Add();
           },
       .runs = Runs::kAsBuilt,
       .now = At(10),
       .plans = {{.deletes = {{"node-0-old", kOldPodNotReady}}}}},
      {.name = "SurgeNewPodAvailableReplacesOld",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SurgeDs(s).Add();
             OldOwned(s, "node-0-old", ds, "node-0")
                 .Created(At(1))
                 .Ready()
                 .Add();
             Owned(s, "node-0-new", ds, "node-0")
                 .Created(At(2))
                 .Ready(At(3))
                 .Add();
           },
       .runs = Runs::kAsBuilt,
       .now = At(10),
       .plans = {{.deletes = {{"node-0-old", kSurgeReplaced}},
                  .status = MakeStatus(1, 1, 0, 1, 0, 1)}}},
      // D15: with surge a failed (or succeeded) only pod is deleted and
      // replaced in the same plan (semantics 6.4).
      {.name = "D15_SurgeFailedPodDeletedAndReplaced",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SurgeDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Failed().Add();
           },
       .runs = Runs::kAsBuilt,
       .plans = {{.creates = {"node-0"},
                  .deletes = {{"node-0-p0", kFailedPod}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "SurgeSucceededPodDeletedAndReplaced",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SurgeDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Succeeded().Add();
           },
       .runs = Runs::kAsBuilt,
       .plans = {{.creates = {"node-0"},
                  .deletes = {{"node-0-p0", kSucceededPod}}}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue A.10 and item 4: claiming (semantics 5.1, 5.3). Excluded pods
// are the oldest and not Ready, so counting one would change numberReady.

void GroupingCluster(Snapshot& s) {
  AddNodes(s, 0, 2);
  const auto foo = SimpleDs(s, "foo").Add();
  const auto foo2 = SimpleDs(s, "foo2").Add();
  Owned(s, "matching-owned-0", foo, "node-0")
      .Created(At(10))
      .Ready(At(10))
      .Add();
  Owned(s, "matching-owned-1", foo, "node-1")
      .Created(At(10))
      .Ready(At(10))
      .Add();
  Orphan(s, "matching-orphan-0", foo, "node-0").Created(At(20)).Add();
  Orphan(s, "matching-orphan-1", foo, "node-1").Created(At(20)).Add();
  Owned(s, "matching-owned-succeeded-0", foo, "node-0")
      .Created(At(30))
      .Succeeded()
      .Add();
  Owned(s, "matching-owned-failed-1", foo, "node-1")
      .Created(At(30))
      .Failed()
      .Add();
  // Excluded.
  Owned(s, "non-matching-owned-0", foo, "node-0")
      .SetLabel("type", "test")
      .Created(At(1))
      .Add();
  Orphan(s, "non-matching-orphan-1", foo, "node-1")
      .SetLabel("type", "test")
      .Created(At(1))
      .Add();
  Owned(s, "matching-owned-by-other-0", foo2, "node-0").Created(At(1)).Add();
  Owned(s, "matching-owned-succeeded-deleted-0", foo, "node-0")
      .Created(At(1))
      .Succeeded()
      .Terminating()
      .Add();
  Owned(s, "matching-owned-failed-deleted-1", foo, "node-1")
      .Created(At(1))
      .Failed()
      .Terminating()
      .Add();
}

// Two DaemonSets selecting app=shared; one orphan on node-0.
void SharedOrphanCluster(Snapshot& s, absl::Time alpha_created,
                         absl::Time beta_created) {
  AddNodes(s, 0, 1);
  DaemonSetBuilder(s, "alpha")
      .SelectorLabels({{"app", "shared"}})
      .Created(alpha_created)
      .Add();
  const auto beta = DaemonSetBuilder(s, "beta")
                        .SelectorLabels({{"app", "shared"}})
                        .Created(beta_created)
                        .Add();
  Orphan(s, "shared-orphan", beta, "node-0").Ready(T0()).Add();
}

std::vector<DecideCase> OwnershipCases() {
  return {
      {.name = "GetNodesToDaemonPods",
       .build = GroupingCluster,
       .now = At(100),
       .plans = {{.daemon_set = "default/foo",
                  .deletes = {{"matching-orphan-0", kDuplicatePod},
                              {"matching-orphan-1", kDuplicatePod},
                              {"matching-owned-failed-1", kFailedPod},
                              {"matching-owned-succeeded-0", kSucceededPod}},
                  .status = MakeStatus(2, 2, 0, 2, 2, 2)},
                 {.daemon_set = "default/foo2",
                  .creates = {"node-1"},
                  .status = MakeStatus(2, 1, 0, 0, 1, 0)}}},
      // A failed pod of another controller would be deleted if it were ours.
      {.name = "PodOfOtherControllerIgnored",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "foreign", ds, "node-0")
                 .ControllerUid("uid-other")
                 .Failed()
                 .Add();
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "OrphanIsAdopted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Orphan(s, "orphan", SimpleDs(s).Add(), "node-0").Ready(T0()).Add();
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 1, 1, 1)}}},
      {.name = "DuplicateOrphanIsDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Created(At(10)).Add();
             Orphan(s, "orphan", ds, "node-0").Created(At(20)).Add();
           },
       .now = At(100),
       .plans = {{.deletes = {{"orphan", kDuplicatePod}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // Non-surge: if the terminating orphan were adopted, no create.
      {.name = "TerminatingOrphanNotAdopted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Orphan(s, "orphan", SimpleDs(s).Add(), "node-0")
                 .Terminating()
                 .Add();
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "OrphanInOtherNamespaceNotAdopted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Orphan(s, "orphan", SimpleDs(s).Add(), "node-0")
                 .Namespace("other")
                 .Add();
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "ReleasedPodNotCountedNotDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             AddReleasedPods(s, SimpleDs(s).Add(), "node-0", 1);
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      // [dsd] 5.1: the older DaemonSet adopts; ties go to namespace/name.
      {.name = "OlderDaemonSetAdoptsSharedOrphan",
       .build = [](Snapshot& s) { SharedOrphanCluster(s, At(10), At(0)); },
       .plans = {{.daemon_set = "default/alpha",
                  .creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)},
                 {.daemon_set = "default/beta",
                  .status = MakeStatus(1, 1, 0, 1, 1, 1)}}},
      {.name = "SameAgeDaemonSetsTieBrokenByName",
       .build = [](Snapshot& s) { SharedOrphanCluster(s, T0(), T0()); },
       .plans = {{.daemon_set = "default/alpha",
                  .status = MakeStatus(1, 1, 0, 1, 1, 1)},
                 {.daemon_set = "default/beta",
                  .creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Item 3: delete reasons of manage (semantics 12) not covered above, and
// terminating pods, which are never listed (plan contract).

std::vector<DecideCase> ReasonCases() {
  return {
      {.name = "TemplateNodeNameMovesPod",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             AddPods(s, SimpleDs(s).NodeName("node-1").Add(), "node-0", 1);
           },
       .plans = {{.creates = {"node-1"},
                  .deletes = {{"node-0-p0", kNodeNameMismatch}},
                  .status = MakeStatus(1, 0, 1, 0, 0, 0)}}},
      {.name = "RequiredAffinityNoLongerMatches",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node-0", {{"color", "red"}});
             const auto ds =
                 SimpleDs(s)
                     .AffinityTerm(ExpressionTerm(MakeRequirement(
                         s, "color", SelectorOperator::kIn, {"blue"})))
                     .Add();
             AddPods(s, ds, "node-0", 1);
           },
       .plans = {{.deletes = {{"node-0-p0", kNodeAffinityMismatch}}}}},
      {.name = "TerminatingPodOnNoExecuteNodeNotDeleted",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kNoExecute)
                 .Add();
             Owned(s, "node-0-p0", SimpleDs(s).Add(), "node-0")
                 .Terminating()
                 .Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 1, 0, 0, 0)}}},
      {.name = "TerminatingUnboundPodOfMissingNodeNotDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             AddPods(s, ds, "node-0", 1);
             PodBuilder(s, "unbound-for-node-9")
                 .OwnedBy(ds)
                 .TargetNode("node-9")
                 .Terminating()
                 .Add();
           },
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "TerminatingDuplicateNotDeleted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-p0", ds, "node-0").Created(At(10)).Add();
             Owned(s, "node-0-p1", ds, "node-0")
                 .Created(At(5))
                 .Terminating()
                 .Add();
           },
       .now = At(100),
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Catalogue D (semantics sections cited per row).

std::vector<DecideCase> DerivedCases() {
  return {
      {.name = "D1_NotInMatchesNodeWithoutKey",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node-a", {{"k", "a"}});
             AddNode(s, "node-none");
             SimpleDs(s)
                 .AffinityTerm(ExpressionTerm(
                     MakeRequirement(s, "k", SelectorOperator::kNotIn, {"a"})))
                 .Add();
           },
       .plans = {{.creates = {"node-none"}}}},
      {.name = "D2_GtParsesIntegersStrictly",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node-007", {{"k", "007"}});
             AddNode(s, "node-5", {{"k", "5"}});
             AddNode(s, "node-abc", {{"k", "abc"}});
             AddNode(s, "node-none");
             SimpleDs(s)
                 .AffinityTerm(ExpressionTerm(
                     MakeRequirement(s, "k", SelectorOperator::kGt, {"5"})))
                 .Add();
           },
       .plans = {{.creates = {"node-007"}}}},
      {.name = "D3_GtWithInvalidLabelValueNeverMatches",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node-10", {{"k", "10"}});
             AddNode(s, "node-0", {{"k", "0"}});
             SimpleDs(s)
                 .AffinityTerm(ExpressionTerm(
                     MakeRequirement(s, "k", SelectorOperator::kGt, {"-1"})))
                 .Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "D4_InvalidTermDoesNotSpoilValidTerm",
       .build =
           [](Snapshot& s) {
             AddNode(s, "node-a", {{"k", "a"}});
             AddNode(s, "node-b", {{"k", "b"}});
             SimpleDs(s)
                 .AffinityTerm(ExpressionTerm(
                     MakeRequirement(s, "k", SelectorOperator::kIn, {})))
                 .AffinityTerm(ExpressionTerm(
                     MakeRequirement(s, "k", SelectorOperator::kIn, {"a"})))
                 .Add();
           },
       .plans = {{.creates = {"node-a"}}}},
      {.name = "D5_EmptyTermMatchesNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             SimpleDs(s).AffinityTerm(NodeSelectorTerm{}).Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "D5_ZeroTermsMatchNothing",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             SimpleDs(s).EmptyAffinity().Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "D6_MatchFieldsNotIn",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 1, 2);
             NodeSelectorTerm term;
             term.match_fields.push_back(MakeRequirement(
                 s, "metadata.name", SelectorOperator::kNotIn, {"node-1"}));
             SimpleDs(s).AffinityTerm(term).Add();
           },
       .plans = {{.creates = {"node-2"}}}},
      {.name = "D7_EmptyKeyExistsToleratesNoExecute",
       .build =
           [](Snapshot& s) {
             for (const std::string name : {"node-0", "node-1"}) {
               NodeBuilder(s, name)
                   .Taint("dedicated", "user1", TaintEffect::kNoExecute)
                   .Add();
             }
             const auto ds =
                 SimpleDs(s)
                     .Toleration(MakeToleration(
                         s, "", TolerationOperator::kExists, "", std::nullopt))
                     .Add();
             AddPods(s, ds, "node-0", 1);
           },
       .plans = {{.creates = {"node-1"},
                  .status = MakeStatus(2, 1, 0, 0, 1, 0)}}},
      {.name = "D8_KeyOnlyEqualDoesNotTolerateValue",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("k", "v", TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s)
                 .Toleration(MakeToleration(s, "k", TolerationOperator::kEqual,
                                            "", std::nullopt))
                 .Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      {.name = "D9_PreferNoScheduleIgnored",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kPreferNoSchedule)
                 .Add();
             SimpleDs(s).Add();
           },
       .plans = {{.creates = {"node-0"}}}},
      {.name = "D10_UntoleratedNoScheduleToleratedNoExecuteKeeps",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Taint("maintenance", "true", TaintEffect::kNoExecute)
                 .Add();
             AddPods(s, SimpleDs(s).Tolerate("maintenance").Add(), "node-0", 1);
           },
       .plans = {{.status = MakeStatus(0, 0, 1, 0, 0, 0)}}},
      {.name = "D11_TolerationSecondsZeroStillTolerates",
       .build =
           [](Snapshot& s) {
             for (const std::string name : {"node-0", "node-1"}) {
               NodeBuilder(s, name)
                   .Taint("dedicated", "user1", TaintEffect::kNoExecute, T0())
                   .Add();
             }
             const auto ds = SimpleDs(s)
                                 .Toleration(MakeToleration(
                                     s, "dedicated", TolerationOperator::kEqual,
                                     "user1", TaintEffect::kNoExecute, 0))
                                 .Add();
             AddPods(s, ds, "node-0", 1);
           },
       .plans = {{.creates = {"node-1"},
                  .status = MakeStatus(2, 1, 0, 0, 1, 0)}}},
      {.name = "D12_HostNetworkToleratesNetworkUnavailable",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("node.kubernetes.io/network-unavailable", "",
                        TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s).HostNetwork().Add();
           },
       .plans = {{.creates = {"node-0"}}}},
      {.name = "D12_NoHostNetworkNoNetworkUnavailableToleration",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("node.kubernetes.io/network-unavailable", "",
                        TaintEffect::kNoSchedule)
                 .Add();
             SimpleDs(s).Add();
           },
       .plans = {{.status = MakeStatus(0, 0, 0, 0, 0, 0)}}},
      // With the taint-eviction model on, a 300 s toleration would have
      // expired long ago; the infinite default replaced it (semantics 4).
      {.name = "D13_DefaultReplacesNotReadyTolerationSeconds",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0").NotReady(At(-1000)).Add();
             const auto ds = SimpleDs(s)
                                 .Toleration(MakeToleration(
                                     s, "node.kubernetes.io/not-ready",
                                     TolerationOperator::kExists, "",
                                     TaintEffect::kNoExecute, 300))
                                 .Add();
             AddPods(s, ds, "node-0", 1);
           },
       .options = {.taint_eviction = true},
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      // Semantics 9 [dsd]: the taint-eviction model evicts at timeAdded +
      // the first matching toleration's tolerationSeconds; before that the
      // plan only requeues. The DaemonSet controller itself keeps the pod.
      {.name = "TaintEviction_BeforeDeadlineRequeues",
       .build = [](Snapshot& s) { DedicatedNoExecuteFor60s(s); },
       .now = At(20),
       .options = {.taint_eviction = true},
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0),
                  .requeue_after = absl::Seconds(40)}}},
      {.name = "TaintEviction_AtDeadlineEvicts",
       .build = [](Snapshot& s) { DedicatedNoExecuteFor60s(s); },
       .now = At(60),
       .options = {.taint_eviction = true},
       .plans = {{.deletes = {{"node-0-p0", kTaintEviction}},
                  .status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "TaintEviction_OffByDefault",
       .build = [](Snapshot& s) { DedicatedNoExecuteFor60s(s); },
       .now = At(60),
       .plans = {{.status = MakeStatus(1, 1, 0, 0, 1, 0)}}},
      {.name = "D14_NonSurgeFailedTerminatingPodIgnored",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Owned(s, "node-0-p0", SimpleDs(s).Add(), "node-0")
                 .Failed()
                 .Terminating()
                 .Add();
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
      {.name = "D16_BoundPodKeptOverOlderUnboundPod",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const auto ds = SimpleDs(s).Add();
             Owned(s, "node-0-bound", ds, "node-0").Created(At(100)).Add();
             PodBuilder(s, "node-0-unbound")
                 .OwnedBy(ds)
                 .TargetNode("node-0")
                 .Created(At(1))
                 .Add();
           },
       .now = At(200),
       .plans = {{.deletes = {{"node-0-unbound", kDuplicatePod}}}}},
      // Budget ceil(10% of 5) = 1; [dsd] node-name order picks node-0.
      {.name = "D17_TenPercentOfFiveIsOne",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 5);
             const auto ds =
                 SimpleDs(s).MaxUnavailable(IntOrPercent{10, true}).Add();
             for (int i = 0; i < 5; ++i) {
               const std::string node = "node-" + std::to_string(i);
               Owned(s, node + "-p0", ds, node)
                   .Revision("rev-1", 1)
                   .Ready(T0())
                   .Add();
             }
           },
       .runs = Runs::kAsBuilt,
       .now = At(100),
       .plans = {{.deletes = {{"node-0-p0", kRollingUpdate}},
                  .status = MakeStatus(5, 5, 0, 5, 0, 5)}}},
      {.name = "D18_AvailableAtBoundaryCurrent",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Owned(s, "node-0-p0", SimpleDs(s).MinReadySeconds(10).Add(),
                   "node-0")
                 .Ready(At(0))
                 .Add();
           },
       .now = At(10),
       .plans = {{.status = MakeStatus(1, 1, 0, 1, 1, 1),
                  .requeue_after = absl::ZeroDuration()}}},
      {.name = "D18_AvailableAtBoundaryKubernetes134",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Owned(s, "node-0-p0", SimpleDs(s).MinReadySeconds(10).Add(),
                   "node-0")
                 .Ready(At(0))
                 .Add();
           },
       .now = At(10),
       .options = {.kubernetes_minor = 34},
       .plans = {{.status = MakeStatus(1, 1, 0, 1, 1, 1)}}},
      {.name = "D18_NotAvailableAtBoundaryKubernetes133",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             Owned(s, "node-0-p0", SimpleDs(s).MinReadySeconds(10).Add(),
                   "node-0")
                 .Ready(At(0))
                 .Add();
           },
       .now = At(10),
       .options = {.kubernetes_minor = 33},
       .plans = {{.status = MakeStatus(1, 1, 0, 1, 1, 0)}}},
      {.name = "D20_PodOnMissingNodeNoActionNotCounted",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             AddPods(s, SimpleDs(s).Add(), "gone", 1);
           },
       .plans = {{.creates = {"node-0"},
                  .status = MakeStatus(1, 0, 0, 0, 0, 0)}}},
  };
}

// ---------------------------------------------------------------------------
// Item 5: plans sorted by namespace, then name.

std::vector<DecideCase> OrderCases() {
  return {
      {.name = "PlansSortedByNamespaceThenName",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             DaemonSetBuilder(s, "agent")
                 .Namespace("monitoring")
                 .Uid("u1")
                 .Add();
             DaemonSetBuilder(s, "agent")
                 .Namespace("kube-system")
                 .Uid("u2")
                 .Add();
             DaemonSetBuilder(s, "zeta").Add();
             DaemonSetBuilder(s, "alpha").Add();
           },
       .plans = {{.daemon_set = "default/alpha", .creates = {"node-0"}},
                 {.daemon_set = "default/zeta", .creates = {"node-0"}},
                 {.daemon_set = "kube-system/agent", .creates = {"node-0"}},
                 {.daemon_set = "monitoring/agent", .creates = {"node-0"}}}},
  };
}

// ---------------------------------------------------------------------------
// The harness.

enum class Variant { kOnDelete, kRollingUpdate, kAsBuilt };

struct Row {
  std::string name;
  DecideCase c;
  Variant variant = Variant::kAsBuilt;
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

std::vector<Row> Expand(const std::vector<DecideCase>& cases) {
  std::vector<Row> rows;
  for (const DecideCase& c : cases) {
    switch (c.runs) {
      case Runs::kBoth:
        rows.push_back({c.name + "_OnDelete", c, Variant::kOnDelete});
        rows.push_back({c.name + "_RollingUpdate", c, Variant::kRollingUpdate});
        break;
      case Runs::kOnDelete:
        rows.push_back({c.name + "_OnDelete", c, Variant::kOnDelete});
        break;
      case Runs::kAsBuilt:
        rows.push_back({c.name, c, Variant::kAsBuilt});
        break;
    }
  }
  return rows;
}

// Builds the row's snapshot; builders default to RollingUpdate with
// maxUnavailable 1, the OnDelete variant switches every DaemonSet.
Snapshot BuildSnapshot(const Row& row) {
  Snapshot snap;
  row.c.build(snap);
  if (row.variant == Variant::kOnDelete) {
    for (DaemonSet& ds : snap.daemon_sets) {
      ds.update_strategy.type = UpdateStrategyType::kOnDelete;
    }
  }
  return snap;
}

// The contract's spelling of each reason (semantics section 12).
std::string_view ContractName(DeleteReason reason) {
  switch (reason) {
    case kNodeNameMismatch:
      return "NodeNameMismatch";
    case kNodeAffinityMismatch:
      return "NodeAffinityMismatch";
    case kUntoleratedNoExecuteTaint:
      return "UntoleratedNoExecuteTaint";
    case kFailedPod:
      return "FailedPod";
    case kSucceededPod:
      return "SucceededPod";
    case kDuplicatePod:
      return "DuplicatePod";
    case kOldPodNotReady:
      return "OldPodNotReady";
    case kSurgeReplaced:
      return "SurgeReplaced";
    case kRollingUpdate:
      return "RollingUpdate";
    case kRollingUpdateUnavailable:
      return "RollingUpdateUnavailable";
    case kSchedulingConstraintChanged:
      return "SchedulingConstraintChanged";
    case kNodeGone:
      return "NodeGone";
    case kTaintEviction:
      return "TaintEviction";
  }
  return "?";
}

std::string DeletionString(std::string_view pod, DeleteReason reason) {
  return absl::StrCat(std::string(pod), " ", std::string(ContractName(reason)));
}

std::string Key(std::string_view ns, std::string_view name) {
  return absl::StrCat(std::string(ns), "/", std::string(name));
}

std::vector<std::string> CreatedNodes(const DaemonSetPlan& plan) {
  std::vector<std::string> out;
  for (const PodCreate& c : plan.creates) out.emplace_back(c.node);
  return out;
}

std::vector<std::string> DeletedPods(const DaemonSetPlan& plan) {
  std::vector<std::string> out;
  for (const PodDelete& d : plan.deletes) {
    out.push_back(DeletionString(d.pod, d.reason));
  }
  return out;
}

std::vector<std::string> ExpectedDeletes(std::vector<Deletion> deletes) {
  std::sort(deletes.begin(), deletes.end(),
            [](const Deletion& a, const Deletion& b) { return a.pod < b.pod; });
  std::vector<std::string> out;
  for (const Deletion& d : deletes) {
    out.push_back(DeletionString(d.pod, d.reason));
  }
  return out;
}

const Pod* FindPod(const Snapshot& snap, std::string_view ns,
                   std::string_view name) {
  for (const Pod& pod : snap.pods) {
    if (pod.namespace_name == ns && pod.name == name) return &pod;
  }
  return nullptr;
}

const DaemonSet* FindDaemonSet(const Snapshot& snap, std::string_view ns,
                               std::string_view name) {
  for (const DaemonSet& ds : snap.daemon_sets) {
    if (ds.namespace_name == ns && ds.name == name) return &ds;
  }
  return nullptr;
}

bool HasNode(const Snapshot& snap, std::string_view name) {
  return std::any_of(snap.nodes.begin(), snap.nodes.end(),
                     [&](const Node& n) { return n.name == name; });
}

// Invariants of every plan (plan contract, semantics 5.1, 8): sorted lists,
// creates on existing nodes, deletes of our own live pods only, and
// numberUnavailable = desired - available.
void CheckInvariants(const Snapshot& snap, const DaemonSetPlan& plan) {
  EXPECT_TRUE(std::is_sorted(
      plan.creates.begin(), plan.creates.end(),
      [](const PodCreate& a, const PodCreate& b) { return a.node < b.node; }))
      << "creates sorted by node";
  EXPECT_TRUE(std::is_sorted(
      plan.deletes.begin(), plan.deletes.end(),
      [](const PodDelete& a, const PodDelete& b) { return a.pod < b.pod; }))
      << "deletes sorted by pod name";
  for (const PodCreate& c : plan.creates) {
    EXPECT_TRUE(HasNode(snap, c.node)) << "create on unknown node " << c.node;
  }
  const DaemonSet* ds = FindDaemonSet(snap, plan.namespace_name, plan.name);
  ASSERT_NE(ds, nullptr);
  for (const PodDelete& d : plan.deletes) {
    const Pod* pod = FindPod(snap, plan.namespace_name, d.pod);
    ASSERT_NE(pod, nullptr) << "delete of unknown pod " << d.pod;
    EXPECT_FALSE(pod->terminating) << d.pod << " is already terminating";
    EXPECT_EQ(d.node, pod->node_name) << d.pod;
    EXPECT_TRUE(pod->controller_uid.empty() || pod->controller_uid == ds->uid)
        << d.pod << " belongs to another controller";
  }
  EXPECT_EQ(
      plan.status.number_unavailable,
      plan.status.desired_number_scheduled - plan.status.number_available);
}

void CheckPlan(const Snapshot& snap, const DaemonSetPlan& plan,
               const ExpectedPlan& want) {
  SCOPED_TRACE(want.daemon_set);
  CheckInvariants(snap, plan);
  std::vector<std::string> creates = want.creates;
  std::sort(creates.begin(), creates.end());
  EXPECT_EQ(CreatedNodes(plan), creates);
  EXPECT_EQ(DeletedPods(plan), ExpectedDeletes(want.deletes));
  if (want.status) {
    EXPECT_EQ(StatusString(plan.status), StatusString(*want.status));
  }
  if (want.requeue_after) {
    EXPECT_EQ(plan.requeue_after, *want.requeue_after);
  }
  if (want.revision_unknown) {
    EXPECT_EQ(plan.revision_unknown, *want.revision_unknown);
  }
  if (!want.note.empty()) {
    const std::string needle = absl::AsciiStrToLower(want.note);
    EXPECT_TRUE(std::any_of(plan.notes.begin(), plan.notes.end(),
                            [&](const std::string& note) {
                              return absl::StrContains(
                                  absl::AsciiStrToLower(note), needle);
                            }))
        << "no note mentions \"" << want.note
        << "\"; notes: " << ::testing::PrintToString(plan.notes);
  }
}

// Everything in a plan, for order-independence comparisons.
std::string PlanString(const Plan& plan) {
  std::string out;
  for (const DaemonSetPlan& ds : plan.daemon_sets) {
    absl::StrAppend(&out, Key(ds.namespace_name, ds.name), "\n");
    for (const PodCreate& c : ds.creates) {
      absl::StrAppend(&out, "  create ", std::string(c.node), "\n");
    }
    for (const PodDelete& d : ds.deletes) {
      absl::StrAppend(&out, "  delete ", std::string(d.pod), " on ",
                      std::string(d.node), " ", DeletionString("", d.reason),
                      ": ", d.message, "\n");
    }
    absl::StrAppend(&out, "  ", StatusString(ds.status), "\n", "  requeue ",
                    absl::FormatDuration(ds.requeue_after),
                    " revision_unknown ", ds.revision_unknown, "\n");
    for (const std::string& note : ds.notes) {
      absl::StrAppend(&out, "  note ", note, "\n");
    }
  }
  return out;
}

class DecideTest : public ::testing::TestWithParam<Row> {};

TEST_P(DecideTest, MatchesDocs) {
  const Row& row = GetParam();
  const Snapshot snap = BuildSnapshot(row);
  const Plan plan = Decide(snap, row.c.now, row.c.options);

  std::vector<std::string> got_keys;
  for (const DaemonSetPlan& p : plan.daemon_sets) {
    got_keys.push_back(Key(p.namespace_name, p.name));
  }
  std::vector<std::string> want_keys;
  for (const ExpectedPlan& p : row.c.plans) want_keys.push_back(p.daemon_set);
  ASSERT_EQ(got_keys, want_keys);
  for (size_t i = 0; i < want_keys.size(); ++i) {
    CheckPlan(snap, plan.daemon_sets[i], row.c.plans[i]);
  }
}

// Item 5: the same snapshot in another order gives the identical plan.
TEST_P(DecideTest, IndependentOfInputOrder) {
  const Row& row = GetParam();
  const Snapshot snap = BuildSnapshot(row);
  const std::string want = PlanString(Decide(snap, row.c.now, row.c.options));

  Snapshot reversed = BuildSnapshot(row);
  std::reverse(reversed.nodes.begin(), reversed.nodes.end());
  std::reverse(reversed.pods.begin(), reversed.pods.end());
  std::reverse(reversed.daemon_sets.begin(), reversed.daemon_sets.end());
  EXPECT_EQ(PlanString(Decide(reversed, row.c.now, row.c.options)), want)
      << "reversed input";

  Snapshot rotated = BuildSnapshot(row);
  auto rotate = [](auto& v) {
    if (v.size() > 1) std::rotate(v.begin(), v.begin() + 1, v.end());
  };
  rotate(rotated.nodes);
  rotate(rotated.pods);
  rotate(rotated.daemon_sets);
  EXPECT_EQ(PlanString(Decide(rotated, row.c.now, row.c.options)), want)
      << "rotated input";
}

INSTANTIATE_TEST_SUITE_P(Seed, DecideTest,
                         ::testing::ValuesIn(Expand(SeedCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Placement, DecideTest,
                         ::testing::ValuesIn(Expand(PlacementCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(ExistingPods, DecideTest,
                         ::testing::ValuesIn(Expand(ExistingPodCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Backoff, DecideTest,
                         ::testing::ValuesIn(Expand(BackoffCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Taints, DecideTest,
                         ::testing::ValuesIn(Expand(TaintCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(NoAction, DecideTest,
                         ::testing::ValuesIn(Expand(NoActionCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(StatusCounters, DecideTest,
                         ::testing::ValuesIn(Expand(StatusCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Surge, DecideTest,
                         ::testing::ValuesIn(Expand(SurgeCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Ownership, DecideTest,
                         ::testing::ValuesIn(Expand(OwnershipCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Reasons, DecideTest,
                         ::testing::ValuesIn(Expand(ReasonCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Derived, DecideTest,
                         ::testing::ValuesIn(Expand(DerivedCases())),
                         ::dsd::testing::ParamName<Row>);
INSTANTIATE_TEST_SUITE_P(Order, DecideTest,
                         ::testing::ValuesIn(Expand(OrderCases())),
                         ::dsd::testing::ParamName<Row>);

// A converted snapshot's pods carry their node's index (Pod::node_index,
// looked up by the converter); Decide then builds no map of node names.
// For every row: the plan is the same with each pod's node looked up, and
// with wrong indices (a node of another name: Decide must not trust it).
TEST(DecideNodeLookupTest, PodsWithTheirNodeLookedUpDecideTheSame) {
  int rows = 0;
  int looked_up = 0;
  for (const std::vector<DecideCase>& cases :
       {SeedCases(), PlacementCases(), ExistingPodCases(), BackoffCases(),
        TaintCases(), NoActionCases(), StatusCases(), SurgeCases(),
        OwnershipCases(), ReasonCases(), DerivedCases(), OrderCases()}) {
    for (const Row& row : Expand(cases)) {
      SCOPED_TRACE(row.name);
      ++rows;
      const Snapshot plain = BuildSnapshot(row);
      const std::string want =
          PlanString(Decide(plain, row.c.now, row.c.options));
      Snapshot hinted = BuildSnapshot(row);
      Snapshot wrong = BuildSnapshot(row);
      for (size_t p = 0; p < hinted.pods.size(); ++p) {
        Pod& pod = hinted.pods[p];
        if (pod.node_name.empty()) continue;
        pod.node_index = Pod::kNoSuchNode;
        for (size_t n = 0; n < hinted.nodes.size(); ++n) {
          if (hinted.nodes[n].name == pod.node_name) {
            pod.node_index = static_cast<int32_t>(n);
            ++looked_up;
          }
        }
        if (pod.node_index >= 0 && hinted.nodes.size() > 1) {
          wrong.pods[p].node_index = static_cast<int32_t>(
              (static_cast<size_t>(pod.node_index) + 1) % hinted.nodes.size());
        }
      }
      EXPECT_EQ(PlanString(Decide(hinted, row.c.now, row.c.options)), want)
          << "nodes looked up";
      EXPECT_EQ(PlanString(Decide(wrong, row.c.now, row.c.options)), want)
          << "wrong indices";
    }
  }
  EXPECT_GT(rows, 100);
  EXPECT_GT(looked_up, 100);
}

// The contract's reason names (semantics section 12).
TEST(DeleteReasonNameTest, SpellsEveryReasonAsTheContract) {
  for (DeleteReason reason :
       {kNodeNameMismatch, kNodeAffinityMismatch, kUntoleratedNoExecuteTaint,
        kFailedPod, kSucceededPod, kDuplicatePod, kOldPodNotReady,
        kSurgeReplaced, kRollingUpdate, kRollingUpdateUnavailable,
        kSchedulingConstraintChanged, kNodeGone, kTaintEviction}) {
    EXPECT_EQ(DeleteReasonName(reason), ContractName(reason));
  }
}

}  // namespace
}  // namespace dsd::engine

// ---------------------------------------------------------------------------
// Work bounded by the caller: cancellation inside a DaemonSet, explanation
// filters and budget, reason lists capped.
// ---------------------------------------------------------------------------

namespace dsd::engine {
namespace {

// One DaemonSet over 10,000 nodes: the callback is asked within the
// DaemonSet (every CancelPoll::kEvery nodes or pods), not only between
// DaemonSets; once it says stop, Decide returns at once, marked cancelled.
TEST(DecideCancellationTest, StopsInsideOneDaemonSet) {
  Snapshot snap;
  AddNodes(snap, 0, 10'000);
  DaemonSetBuilder(snap, "ds").Add();
  struct Case {
    const char* name;
    int stop_at_call;  // the call that first answers true; 0: never
    bool want_cancelled;
  };
  for (const Case c : {Case{"never", 0, false}, Case{"first call", 1, true},
                       Case{"third call", 3, true}}) {
    SCOPED_TRACE(c.name);
    int calls = 0;
    const std::function<bool()> cancelled = [&] {
      ++calls;
      return c.stop_at_call != 0 && calls >= c.stop_at_call;
    };
    const Plan plan = Decide(snap, T0(), Options{}, cancelled);
    EXPECT_EQ(plan.cancelled, c.want_cancelled);
    if (c.want_cancelled) {
      // Asked no more after it said stop.
      EXPECT_EQ(calls, c.stop_at_call);
    } else {
      // 10,000 nodes: asked many times within the one DaemonSet.
      EXPECT_GT(calls, 100);
      ASSERT_EQ(plan.daemon_sets.size(), 1u);
      EXPECT_EQ(plan.daemon_sets[0].creates.size(), 10'000u);
    }
  }
}

// The nodes are taken in name order (explanations are listed in the order
// the nodes are evaluated) whatever their order in the snapshot, for names
// that share their first 8 bytes, differ only in length, or are shorter
// than 8 bytes (the node index compares a prefix of each name first).
TEST(DecideNodeOrderTest, NodesAreEvaluatedInByteWiseNameOrder) {
  const std::vector<std::string> names = {
      "node-100000000b", "node-10",       "b",
      "node-100000000a", "node-1",        "aa",
      "node-2",          "node-10000000", "a",
      "node-1x",         "node-1-0",      "node-1000000"};
  Snapshot snap;
  for (const std::string& name : names) NodeBuilder(snap, name).Add();
  DaemonSetBuilder(snap, "ds").Add();
  Options options;
  options.explain = true;
  const Plan plan = Decide(snap, T0(), options);
  ASSERT_EQ(plan.daemon_sets.size(), 1u);
  std::vector<std::string> evaluated;
  for (const NodeExplanation& e : plan.daemon_sets[0].explanations) {
    evaluated.emplace_back(e.node);
  }
  const std::vector<std::string> want = {"a",
                                         "aa",
                                         "b",
                                         "node-1",
                                         "node-1-0",
                                         "node-10",
                                         "node-1000000",
                                         "node-10000000",
                                         "node-100000000a",
                                         "node-100000000b",
                                         "node-1x",
                                         "node-2"};
  EXPECT_EQ(evaluated, want);
}

// Orphans in a namespace of many DaemonSets (the adopters are then looked
// up by their first matchLabels pair): each is adopted by the oldest
// DaemonSet whose selector matches (then namespace/name), as with few.
TEST(DecideAdoptionTest, ManyDaemonSetsAdoptTheOldestMatch) {
  const auto build = [](Snapshot& snap) {
    AddNodes(snap, 0, 1);
    for (int i = 0; i < 11; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "d%02d", i);
      DaemonSetBuilder(snap, name).Created(At(100 + i)).Add();  // {app: dNN}
    }
    DaemonSetBuilder(snap, "shared-young")
        .SelectorLabels({{"app", "shared"}})
        .Created(At(5))
        .Add();
    DaemonSetBuilder(snap, "shared-old")
        .SelectorLabels({{"app", "shared"}})
        .Created(At(3))
        .Add();
    DaemonSetBuilder(snap, "expression")
        .SelectorLabels({})
        .TemplateLabel("app", "other")
        .SelectorExpression(MakeRequirement(snap, "app", SelectorOperator::kIn,
                                            {"shared", "other"}))
        .Created(At(4))
        .Add();
  };
  struct Orphan {
    const char* app;
    const char* adopter;  // empty: nobody
  };
  for (const Orphan o :
       {Orphan{"shared", "shared-old"}, Orphan{"other", "expression"},
        Orphan{"d07", "d07"}, Orphan{"nobody", ""}}) {
    SCOPED_TRACE(o.app);
    Snapshot snap;
    build(snap);
    PodBuilder(snap, "orphan").SetLabel("app", o.app).OnNode("node-0").Add();
    const Plan plan = Decide(snap, T0(), Options{});
    ASSERT_EQ(plan.daemon_sets.size(), 14u);
    int adopted = 0;
    for (const DaemonSetPlan& p : plan.daemon_sets) {
      // The adopter counts the orphan as its pod on node-0: no create.
      const bool has_pod = p.status.current_number_scheduled == 1;
      EXPECT_EQ(has_pod, p.name == o.adopter) << p.name;
      EXPECT_EQ(p.creates.empty(), has_pod) << p.name;
      adopted += has_pod ? 1 : 0;
    }
    EXPECT_EQ(adopted, std::string(o.adopter).empty() ? 0 : 1);
  }
}

// Explain's filters give the same decisions, with explanations only for
// the named node and DaemonSet; past the budget, explaining stops and the
// plan says so.
TEST(DecideExplainTest, FiltersAndBudget) {
  Snapshot snap;
  AddNodes(snap, 0, 50, {{"disk", "hdd"}});
  const DaemonSet a =
      DaemonSetBuilder(snap, "a").NodeSelector("disk", "ssd").Add();
  const DaemonSet b = DaemonSetBuilder(snap, "b").Add();
  // Actions: a deletes its pod from hdd node-5; b creates on the 48 nodes
  // other than node-8 (its pod) and node-9 (its pod and a duplicate).
  Owned(snap, "a-on-5", a, "node-5").Add();
  Owned(snap, "b-on-8", b, "node-8").Add();
  Owned(snap, "b-on-9", b, "node-9").Created(At(1)).Add();
  Owned(snap, "b-on-9-dup", b, "node-9").Created(At(2)).Add();
  struct Case {
    const char* name;
    std::string_view node;
    std::string_view daemon_set;
    size_t budget;
    bool action_nodes_only;
    size_t want_a;  // explained nodes of DaemonSet a
    size_t want_b;
    bool want_over_budget;
  };
  const Case cases[] = {
      {"all", "", "", 0, false, 50, 50, false},
      {"one node", "node-7", "", 0, false, 1, 1, false},
      {"one DaemonSet", "", "default/b", 0, false, 0, 50, false},
      {"both filters", "node-3", "default/a", 0, false, 1, 0, false},
      // A's reasons name the nodeSelector (~70 bytes a node): 2 KB covers
      // fewer than 50 nodes of it.
      {"budget", "", "", 2000, false, 0, 0, true},
      // node-5 for a; for b every node but node-8 (node-9's duplicate is
      // deleted there).
      {"action nodes", "", "", 0, true, 1, 49, false},
      {"action nodes of one node", "node-9", "", 0, true, 0, 1, false},
      {"action nodes of a node without", "node-8", "", 0, true, 0, 0, false},
      // Only action nodes count: 49 short ones fit where 100 nodes did not.
      {"action nodes within budget", "", "", 2000, true, 1, 49, false},
      // a's one explanation (~75 bytes) and 49 node names (~340) are more.
      {"action nodes over budget", "", "", 300, true, 0, 0, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Options options;
    options.explain = true;
    options.explain_node = c.node;
    options.explain_daemon_set = c.daemon_set;
    options.explain_budget_bytes = c.budget;
    options.explain_action_nodes_only = c.action_nodes_only;
    const Plan plan = Decide(snap, T0(), options);
    Options plain;
    const Plan undecorated = Decide(snap, T0(), plain);
    ASSERT_EQ(plan.daemon_sets.size(), 2u);
    EXPECT_EQ(plan.explain_over_budget, c.want_over_budget);
    if (!c.want_over_budget) {
      EXPECT_EQ(plan.daemon_sets[0].explanations.size(), c.want_a);
      EXPECT_EQ(plan.daemon_sets[1].explanations.size(), c.want_b);
    }
    for (size_t d = 0; d < 2; ++d) {
      EXPECT_EQ(plan.daemon_sets[d].creates.size(),
                undecorated.daemon_sets[d].creates.size());
      EXPECT_EQ(plan.daemon_sets[d].deletes.size(),
                undecorated.daemon_sets[d].deletes.size());
      EXPECT_EQ(plan.daemon_sets[d].status, undecorated.daemon_sets[d].status);
    }
    if (c.action_nodes_only && !c.want_over_budget) {
      for (const auto& ds : plan.daemon_sets) {
        for (const NodeExplanation& e : ds.explanations) {
          EXPECT_NE(e.node, "node-8") << "a node without an action";
        }
      }
    }
    if (!c.node.empty()) {
      for (const auto& ds : plan.daemon_sets) {
        for (const NodeExplanation& e : ds.explanations) {
          EXPECT_EQ(e.node, c.node);
        }
      }
    }
  }
}

// A node with 60,000 untolerated taints: the decision is NoExecute's, the
// explanation lists kMaxReasons reasons and then how many more.
TEST(DecideExplainTest, ReasonsAreCappedPerNode) {
  Snapshot snap;
  NodeBuilder node(snap, "n");
  for (int i = 0; i < 60'000; ++i) {
    node.Taint(
        "key-" + std::to_string(i), "",
        i == 59'999 ? TaintEffect::kNoExecute : TaintEffect::kNoSchedule);
  }
  node.Add();
  DaemonSetBuilder ds(snap, "ds");
  for (int i = 0; i < 2'000; ++i) {
    ds.Toleration(MakeToleration(snap, "other-" + std::to_string(i),
                                 TolerationOperator::kExists, "",
                                 std::nullopt));
  }
  ds.Add();
  Options options;
  options.explain = true;
  const Plan plan = Decide(snap, T0(), options);
  ASSERT_EQ(plan.daemon_sets.size(), 1u);
  ASSERT_EQ(plan.daemon_sets[0].explanations.size(), 1u);
  const NodeExplanation& e = plan.daemon_sets[0].explanations[0];
  EXPECT_FALSE(e.should_run);
  EXPECT_FALSE(e.should_continue_running);  // the NoExecute taint
  ASSERT_EQ(e.failed_predicates.size(), DaemonSetPredicates::kMaxReasons + 1);
  EXPECT_EQ(e.failed_predicates.back(),
            "... and " +
                std::to_string(60'000 - DaemonSetPredicates::kMaxReasons) +
                " more");
}

}  // namespace
}  // namespace dsd::engine
