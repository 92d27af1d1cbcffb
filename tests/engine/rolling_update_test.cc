// Rolling-update table for engine::Decide, run as multi-step scenarios: each
// sync is one Decide whose plan is then applied to the snapshot the way the
// upstream test harness does (tests/testing/apply_plan.h). Every expectation
// comes from daemonset-semantics.md sections 7.1-7.9 (7.7 "virtual apply"),
// 8 and 12 and from k8s-test-catalogue.md sections 0.2, B.1-B.11 and D17-D18;
// the dsd extensions (paused, partition, update node selector) follow the
// UpdateStrategy comments in server/engine/types.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/engine/decide.h"
#include "server/engine/types.h"
#include "tests/testing/apply_plan.h"
#include "tests/testing/builders.h"
#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

using ::dsd::testing::AddNodes;
using ::dsd::testing::ApplyPlan;
using ::dsd::testing::At;
using ::dsd::testing::DaemonSetBuilder;
using ::dsd::testing::MakeStatus;
using ::dsd::testing::MarkReady;
using ::dsd::testing::NodeBuilder;
using ::dsd::testing::NodeRange;
using ::dsd::testing::PodBuilder;
using ::dsd::testing::StatusString;
using ::dsd::testing::T0;
using ::dsd::testing::TargetNodeOf;
using enum DeleteReason;

// ---------------------------------------------------------------------------
// One step of a scenario: either an action on the snapshot (template change,
// markReady, fabricated state, a check) or a sync with its expected plan.

using Reasons = std::map<DeleteReason, int>;  // deletions by reason

// A deletion of the pod on `node` (semantics 5.2) for `reason`.
struct Del {
  std::string node;
  DeleteReason reason = kRollingUpdate;
};

using Action = std::function<void(Snapshot&, absl::Time)>;

struct Step {
  std::string label = {};   // what an action does (printed in traces)
  Action action = nullptr;  // non-null: an action step, no sync
  // When the step happens; unset: an action at the previous step's time, a
  // sync 10 s after the previous step.
  std::optional<absl::Time> now = std::nullopt;

  // Expected plan of a sync. Counts are always checked (catalogue B tables
  // give (creates, deletes)); the rest only when set.
  int creates = 0;
  Reasons deletes = {};
  std::optional<std::vector<std::string>> create_nodes = std::nullopt;
  std::optional<std::vector<Del>> deleted = std::nullopt;
  std::optional<DaemonSetStatus> status = std::nullopt;  // input snapshot
  std::optional<absl::Duration> requeue_after = std::nullopt;
  std::optional<bool> revision_unknown = std::nullopt;
  bool expect_note = false;

  Step When(absl::Time t) && {
    now = t;
    return std::move(*this);
  }
  Step Status(DaemonSetStatus s) && {
    status = s;
    return std::move(*this);
  }
  Step Requeue(absl::Duration d) && {
    requeue_after = d;
    return std::move(*this);
  }
  Step RevisionUnknown(bool unknown) && {
    revision_unknown = unknown;
    return std::move(*this);
  }
  Step WithNote() && {
    expect_note = true;
    return std::move(*this);
  }
};

struct Case {
  std::string name;
  std::function<void(Snapshot&)> build = nullptr;  // the initial snapshot
  Options options = {};
  std::vector<Step> steps = {};
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// A sync expecting `creates` creates and these deletions by reason.
Step Sync(int creates, Reasons deletes = {}) {
  Step s;
  s.creates = creates;
  s.deletes = std::move(deletes);
  return s;
}

// A sync expecting pods created on exactly `nodes` and exactly `deleted`.
Step Exactly(std::vector<std::string> nodes, std::vector<Del> deleted) {
  Step s;
  s.creates = static_cast<int>(nodes.size());
  for (const Del& d : deleted) {
    ++s.deletes[d.reason];
  }
  s.create_nodes = std::move(nodes);
  s.deleted = std::move(deleted);
  return s;
}

Step Do(std::string label, Action action) {
  Step s;
  s.label = std::move(label);
  s.action = std::move(action);
  return s;
}

Step MarkReadyStep() {
  return Do("markReady", [](Snapshot& s, absl::Time t) { MarkReady(s, t); });
}

// Changes the (only) DaemonSet of the snapshot.
Step ChangeDs(std::string label,
              std::function<void(Snapshot&, DaemonSet&)> fn) {
  return Do(std::move(label), [fn = std::move(fn)](Snapshot& s, absl::Time) {
    fn(s, s.daemon_sets.front());
  });
}

// A template change (catalogue B: a new image): new revision hash and
// template generation; with `strategy`, the update strategy changes too.
// Pods keep their labels.
Step NewTemplate(const std::string& hash, std::optional<int64_t> generation,
                 const std::optional<UpdateStrategy>& strategy = std::nullopt) {
  std::string label = absl::StrCat("new template ", hash);
  return ChangeDs(std::move(label), [=](Snapshot& s, DaemonSet& ds) {
    ds.current_revision_hash = s.CopyString(hash);
    ds.template_generation = generation;
    if (strategy) {
      ds.update_strategy = *strategy;
    }
  });
}

std::vector<Step> Concat(std::initializer_list<std::vector<Step>> parts) {
  std::vector<Step> out;
  for (const auto& part : parts) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Strategies and fixtures.

IntOrPercent Int(int64_t n) { return {n, false}; }
IntOrPercent Pct(int64_t p) { return {p, true}; }

// newUpdateUnavailable(v): RollingUpdate, maxUnavailable v, no maxSurge.
UpdateStrategy Unavailable(IntOrPercent v) {
  UpdateStrategy s;
  s.max_unavailable = v;
  return s;
}

// newUpdateSurge(v): RollingUpdate, maxUnavailable 0, maxSurge v.
UpdateStrategy Surge(IntOrPercent v) {
  UpdateStrategy s;
  s.max_unavailable = Int(0);
  s.max_surge = v;
  return s;
}

UpdateStrategy Partitioned(UpdateStrategy s, IntOrPercent partition) {
  s.partition = partition;
  return s;
}

UpdateStrategy Paused(UpdateStrategy s) {
  s.paused = true;
  return s;
}

// The update node selector canary=true (interned into `s`).
LabelSelector CanarySelector(Snapshot& s) {
  LabelSelector selector;
  selector.match_labels = s.InternLabels({s.MakeLabel("canary", "true")});
  return selector;
}

// newDaemonSet("foo") before any template change: OnDelete, revision rev-1,
// template generation 1 (the builder's defaults otherwise).
DaemonSetBuilder FooDs(Snapshot& s) {
  return DaemonSetBuilder(s, "foo")
      .OnDelete()
      .Revision("rev-1")
      .TemplateGeneration(1);
}

// Catalogue B fixture: nodes node-0 ... node-<n-1> and FooDs, no pods;
// `canary` nodes get the label canary=true.
std::function<void(Snapshot&)> Fresh(
    int nodes, const std::vector<int>& canary = {},
    const std::function<void(DaemonSetBuilder&)>& tweak = nullptr) {
  return [=](Snapshot& s) {
    for (int i = 0; i < nodes; ++i) {
      NodeBuilder node(s, "node-" + std::to_string(i));
      if (std::find(canary.begin(), canary.end(), i) != canary.end()) {
        node.Label("canary", "true");
      }
      node.Add();
    }
    DaemonSetBuilder ds = FooDs(s);
    if (tweak) {
      tweak(ds);
    }
    ds.Add();
  };
}

// The first sync creates a pod on every node (status from the empty input);
// with `ready`, markPodsReady follows.
std::vector<Step> Start(int nodes, bool ready) {
  std::vector<Step> steps = {Exactly(NodeRange(0, nodes), {})
                                 .Status(MakeStatus(nodes, 0, 0, 0, 0, 0))};
  if (ready) {
    steps.push_back(MarkReadyStep());
  }
  return steps;
}

// A pod of `ds` bound to `node` at the old revision rev-1 (generation 1),
// created at T0 and Ready since T0.
PodBuilder OldPod(Snapshot& s, const DaemonSet& ds, const std::string& node) {
  return PodBuilder(s, "foo-" + node + "-old")
      .OwnedBy(ds)
      .Revision("rev-1", 1)
      .OnNode(node)
      .Created(T0())
      .Ready(T0());
}

// A pod of `ds` bound to `node` at the DaemonSet's current revision.
PodBuilder NewPod(Snapshot& s, const DaemonSet& ds, const std::string& node) {
  return PodBuilder(s, "foo-" + node + "-new").OwnedBy(ds).OnNode(node);
}

// `n` nodes with one old Ready pod each; `not_ready` nodes' pods not Ready.
void OldCluster(Snapshot& s, const DaemonSet& ds, int n,
                const std::vector<int>& not_ready = {}) {
  for (int i = 0; i < n; ++i) {
    const std::string node = "node-" + std::to_string(i);
    PodBuilder pod = OldPod(s, ds, node);
    if (std::find(not_ready.begin(), not_ready.end(), i) != not_ready.end()) {
      pod.NotReady();
    }
    pod.Add();
  }
}

std::optional<std::string_view> HashOf(const Pod& pod) {
  return FindLabel(pod.labels, "controller-revision-hash");
}

// Relabels `pod` with another revision (hash and generation labels).
void SetRevision(Snapshot& s, Pod& pod, const std::string& hash,
                 int64_t generation) {
  std::vector<Label> labels(pod.labels.begin(), pod.labels.end());
  std::erase_if(labels, [](const Label& l) {
    return l.key() == "controller-revision-hash" ||
           l.key() == "pod-template-generation";
  });
  labels.push_back(s.MakeLabel("controller-revision-hash", hash));
  labels.push_back(
      s.MakeLabel("pod-template-generation", std::to_string(generation)));
  pod.labels = s.InternLabels(labels);
}

// Checks that the pods carrying controller-revision-hash `hash` are exactly
// one on each of `nodes`.
Step ExpectRevisionOn(const std::string& hash,
                      const std::vector<std::string>& nodes) {
  return Do(absl::StrCat("pods of ", hash, " are on ",
                         ::testing::PrintToString(nodes)),
            [=](Snapshot& s, absl::Time) {
              std::vector<std::string> got;
              for (const Pod& pod : s.pods) {
                if (HashOf(pod) == hash) {
                  got.emplace_back(TargetNodeOf(pod));
                }
              }
              std::sort(got.begin(), got.end());
              std::vector<std::string> want = nodes;
              std::sort(want.begin(), want.end());
              EXPECT_EQ(got, want);
            });
}

// Checks that exactly `n` pods are Ready, all of revision `hash`.
Step ExpectReadyPods(int n, const std::string& hash) {
  return Do(absl::StrCat("exactly ", n, " Ready pods, all ", hash),
            [=](Snapshot& s, absl::Time) {
              int ready = 0;
              for (const Pod& pod : s.pods) {
                if (!pod.ready) {
                  continue;
                }
                ++ready;
                EXPECT_EQ(HashOf(pod), hash) << pod.name;
              }
              EXPECT_EQ(ready, n);
            });
}

// B.6: 20 nodes; every later template change leaves the 10 Ready rev-1 pods
// alone because the 10 not-Ready pods of the previous revision are allowed
// replacements that use up any budget below 11 (fixed values for rand).
std::vector<Step> SaveOldHealthyPodsSteps() {
  std::vector<Step> steps =
      Concat({Start(20, true),
              {NewTemplate("rev-2", 2, Unavailable(Int(10))),
               Sync(0, {{kRollingUpdate, 10}}), Sync(10),
               Sync(0).Status(MakeStatus(20, 20, 0, 10, 10, 10)),
               ExpectReadyPods(10, "rev-1")}});
  int64_t generation = 3;
  for (int64_t max_unavailable : {0, 1, 5, 9}) {
    steps.push_back(NewTemplate(absl::StrCat("rev-", generation), generation,
                                Unavailable(Int(max_unavailable))));
    steps.push_back(Sync(0, {{kRollingUpdateUnavailable, 10}}));
    steps.push_back(Sync(10));
    steps.push_back(Sync(0));
    steps.push_back(ExpectReadyPods(10, "rev-1"));
    ++generation;
  }
  steps.push_back(NewTemplate(absl::StrCat("rev-", generation), generation,
                              Unavailable(Int(11))));
  steps.push_back(
      Sync(0, {{kRollingUpdateUnavailable, 10}, {kRollingUpdate, 1}}));
  steps.push_back(Sync(11));
  steps.push_back(Sync(0));
  steps.push_back(ExpectReadyPods(9, "rev-1"));
  return steps;
}

// B.7: 100 nodes rolled to rev-2 in 10 rounds, then fabricated: node-0..9
// old (rev-1) and Ready, node-10 and node-11 old and not Ready, node-12..99
// new and not Ready. Only the 2 unavailable old pods are replaced.
std::vector<Step> AllOldNotReadyPodsAndNewNotReadyPodsSteps() {
  std::vector<Step> steps = Start(100, true);
  steps.push_back(NewTemplate("rev-2", 2, Unavailable(Int(10))));
  for (int round = 0; round < 10; ++round) {
    steps.push_back(Sync(0, {{kRollingUpdate, 10}}));
    steps.push_back(Sync(10));
    steps.push_back(MarkReadyStep());
  }
  steps.push_back(Sync(0).Status(MakeStatus(100, 100, 0, 100, 100, 100)));
  steps.push_back(Do("node-0..11 back to rev-1, node-10..99 not Ready",
                     [](Snapshot& s, absl::Time) {
                       for (Pod& pod : s.pods) {
                         const std::string node(TargetNodeOf(pod));
                         const int i =
                             std::stoi(node.substr(node.find('-') + 1));
                         if (i < 12) {
                           SetRevision(s, pod, "rev-1", 1);
                         }
                         if (i >= 10) {
                           pod.ready = false;
                           pod.ready_since.reset();
                         }
                       }
                     }));
  steps.push_back(Exactly({}, {{"node-10", kRollingUpdateUnavailable},
                               {"node-11", kRollingUpdateUnavailable}}));
  steps.push_back(Exactly({"node-10", "node-11"}, {}));
  steps.push_back(Sync(0));
  steps.push_back(ExpectRevisionOn("rev-1", NodeRange(0, 10)));
  return steps;
}

// ---------------------------------------------------------------------------
// Catalogue B.1-B.10: the upstream update_test.go rollouts (semantics 7.5,
// 7.6, 7.7). Each starts as newDaemonSet (OnDelete, rev-1), syncs once,
// then changes the template to rev-2 and switches to RollingUpdate.

std::vector<Case> UpstreamCases() {
  return {
      // Semantics 7.9 is this trace.
      {.name = "B1_UpdatesPods",
       .build = Fresh(5),
       .steps = Concat({Start(5, true),
                        {NewTemplate("rev-2", 2, Unavailable(Int(2))),
                         Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate}})
                             .Status(MakeStatus(5, 5, 0, 5, 0, 5)),
                         Exactly({"node-0", "node-1"}, {})
                             .Status(MakeStatus(5, 3, 0, 3, 0, 3)),
                         MarkReadyStep(),
                         Exactly({}, {{"node-2", kRollingUpdate},
                                      {"node-3", kRollingUpdate}}),
                         Exactly({"node-2", "node-3"}, {}), MarkReadyStep(),
                         Exactly({}, {{"node-4", kRollingUpdate}}),
                         Exactly({"node-4"}, {}), MarkReadyStep(),
                         Sync(0)
                             .Status(MakeStatus(5, 5, 0, 5, 5, 5))
                             .Requeue(absl::ZeroDuration())}})},
      // Status: one pod per node, the representative is the oldest (5.4), so
      // a node with an old and a new pod counts as not updated (section 8).
      {.name = "B2_UpdatesPodsWithMaxSurge",
       .build = Fresh(5),
       .steps = Concat(
           {Start(5, true),
            {NewTemplate("rev-2", 2, Surge(Int(2))),
             Exactly({"node-0", "node-1"}, {})
                 .Status(MakeStatus(5, 5, 0, 5, 0, 5)),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 0, 5)), MarkReadyStep(),
             Exactly({"node-2", "node-3"},
                     {{"node-0", kSurgeReplaced}, {"node-1", kSurgeReplaced}})
                 .Status(MakeStatus(5, 5, 0, 5, 0, 5)),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 2, 5)), MarkReadyStep(),
             Exactly({"node-4"},
                     {{"node-2", kSurgeReplaced}, {"node-3", kSurgeReplaced}}),
             Sync(0), MarkReadyStep(),
             Exactly({}, {{"node-4", kSurgeReplaced}}),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 5, 5))}})},
      // node-0 carries the control-plane NoSchedule taint; the new template
      // drops the toleration: node-0 is (shouldRun, shouldContinueRunning) =
      // (false, true), desired 4, available 5 -> one should-not-run delete.
      {.name = "B3_UpdatesPodsNotMatchTaintsWithMaxSurge",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0").ControlPlane().Add();
             AddNodes(s, 1, 4);
             FooDs(s)
                 .Tolerate("node-role.kubernetes.io/control-plane")
                 .Strategy(Surge(Int(1)))
                 .Add();
           },
       .steps = Concat(
           {Start(5, true),
            {ChangeDs("new template rev-2 without the toleration",
                      [](Snapshot& s, DaemonSet& ds) {
                        ds.current_revision_hash = s.CopyString("rev-2");
                        ds.template_generation = 2;
                        ds.tolerations.clear();
                      }),
             Exactly({"node-1"}, {{"node-0", kSchedulingConstraintChanged}})
                 .Status(MakeStatus(4, 4, 1, 4, 0, 4)),
             Sync(0).Status(MakeStatus(4, 4, 0, 4, 0, 4)), MarkReadyStep(),
             Exactly({"node-2"}, {{"node-1", kSurgeReplaced}}), Sync(0),
             MarkReadyStep(), Exactly({"node-3"}, {{"node-2", kSurgeReplaced}}),
             Sync(0), MarkReadyStep(),
             Exactly({"node-4"}, {{"node-3", kSurgeReplaced}}), Sync(0),
             MarkReadyStep(), Exactly({}, {{"node-4", kSurgeReplaced}}),
             Sync(0).Status(MakeStatus(4, 4, 0, 4, 4, 4))}})},
      {.name = "B4_WhenNewPodIsNotReady",
       .build = Fresh(5),
       .steps = Concat({Start(5, true),
                        {NewTemplate("rev-2", 2, Unavailable(Int(3))),
                         Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate},
                                      {"node-2", kRollingUpdate}}),
                         Exactly({"node-0", "node-1", "node-2"}, {}),
                         Sync(0).Status(MakeStatus(5, 5, 0, 2, 3, 2))}})},
      // After the second template change the 2 not-Ready rev-2 pods are old
      // and unavailable: allowed replacements that use the whole budget of 2
      // (semantics 7.5, v1.31+ counting).
      {.name = "B5_SomeOldPodsNotReady",
       .build = Fresh(5),
       .steps = Concat({Start(5, true),
                        {NewTemplate("rev-2", 2, Unavailable(Int(2))),
                         Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate}}),
                         Exactly({"node-0", "node-1"}, {}),
                         Sync(0).Status(MakeStatus(5, 5, 0, 3, 2, 3)),
                         NewTemplate("rev-3", 3),
                         Exactly({}, {{"node-0", kRollingUpdateUnavailable},
                                      {"node-1", kRollingUpdateUnavailable}}),
                         Exactly({"node-0", "node-1"}, {}), Sync(0),
                         ExpectReadyPods(3, "rev-1")}})},
      {.name = "B6_SaveOldHealthyPods",
       .build = Fresh(20),
       .steps = SaveOldHealthyPodsSteps()},
      {.name = "B7_AllOldNotReadyPodsAndNewNotReadyPods",
       .build = Fresh(100),
       .steps = AllOldNotReadyPodsAndNewNotReadyPodsSteps()},
      {.name = "B8_AllOldPodsNotReady",
       .build = Fresh(5),
       .steps = Concat({Start(5, false),
                        {NewTemplate("rev-2", 2, Unavailable(Int(3))),
                         Exactly({}, {{"node-0", kRollingUpdateUnavailable},
                                      {"node-1", kRollingUpdateUnavailable},
                                      {"node-2", kRollingUpdateUnavailable},
                                      {"node-3", kRollingUpdateUnavailable},
                                      {"node-4", kRollingUpdateUnavailable}})
                             .Status(MakeStatus(5, 5, 0, 0, 0, 0)),
                         Exactly(NodeRange(0, 5), {}), Sync(0)}})},
      {.name = "B9_AllOldPodsNotReadyMaxSurge",
       .build = Fresh(5),
       .steps = Concat(
           {Start(5, false),
            {NewTemplate("rev-2", 2, Surge(Int(3))),
             // Every old pod unavailable: a new pod on every node regardless
             // of the surge budget (7.6).
             Exactly(NodeRange(0, 5), {}).When(At(100)),
             // manage (6.4): old pods not Ready next to new pods.
             Exactly({}, {{"node-0", kOldPodNotReady},
                          {"node-1", kOldPodNotReady},
                          {"node-2", kOldPodNotReady},
                          {"node-3", kOldPodNotReady},
                          {"node-4", kOldPodNotReady}})
                 .When(At(200)),
             MarkReadyStep(),
             ChangeDs("minReadySeconds 15, new template rev-3",
                      [](Snapshot& s, DaemonSet& ds) {
                        ds.min_ready_seconds = 15;
                        ds.current_revision_hash = s.CopyString("rev-3");
                        ds.template_generation = 3;
                      }),
             // rev-2 pods Ready at 200 are available at 215 <= 300.
             Exactly({"node-0", "node-1", "node-2"}, {})
                 .When(At(300))
                 .Status(MakeStatus(5, 5, 0, 5, 0, 5)),
             Do("rev-3 pods on node-0, node-1 Ready; node-3's old pod not",
                [](Snapshot& s, absl::Time t) {
                  for (Pod& pod : s.pods) {
                    const std::string_view node = TargetNodeOf(pod);
                    if (HashOf(pod) == "rev-3" &&
                        (node == "node-0" || node == "node-1")) {
                      pod.ready = true;
                      pod.ready_since = t;
                    }
                    if (node == "node-3") {
                      pod.ready = false;
                      pod.ready_since.reset();
                    }
                  }
                }),
             // The 3 new pods use the surge budget (available at 315); the
             // unready old pod gets its replacement at once. The plan
             // changes by itself at 315.
             Exactly({"node-3"}, {}).When(At(310)).Requeue(absl::Seconds(5)),
             Exactly({"node-4"}, {{"node-0", kSurgeReplaced},
                                  {"node-1", kSurgeReplaced},
                                  {"node-3", kOldPodNotReady}})
                 .When(At(320)),
             MarkReadyStep(),
             Exactly({},
                     {{"node-2", kSurgeReplaced}, {"node-4", kSurgeReplaced}})
                 .When(At(340)),
             Sync(0)
                 .When(At(350))
                 .Status(MakeStatus(5, 5, 0, 5, 5, 5))
                 .Requeue(absl::ZeroDuration())}})},
      // The strategy is not part of the template: nothing to roll.
      {.name = "B10_NoTemplateChanged",
       .build = Fresh(5),
       .steps = Concat({Start(5, true),
                        {ChangeDs("RollingUpdate, maxUnavailable 3",
                                  [](Snapshot&, DaemonSet& ds) {
                                    ds.update_strategy = Unavailable(Int(3));
                                  }),
                         Sync(0).Status(MakeStatus(5, 5, 0, 5, 5, 5))}})},
  };
}

// ---------------------------------------------------------------------------
// Catalogue B.11 (TestGetUnavailableNumbers) and D17, observed through the
// plan (semantics 7.4): the budget is what gets deleted (or surged) in the
// first step after a template change of pods that are all old and Ready.

// Fresh(n) after the first sync and markReady, with a new template rev-2
// rolled out with `strategy`, followed by `steps`.
std::vector<Step> RollOut(int nodes, UpdateStrategy strategy,
                          std::vector<Step> steps) {
  return Concat({Start(nodes, true),
                 {NewTemplate("rev-2", 2, strategy)},
                 std::move(steps)});
}

Step TerminatingOn(const std::string& node) {
  return Do("pod on " + node + " terminating", [=](Snapshot& s, absl::Time) {
    for (Pod& pod : s.pods) {
      if (TargetNodeOf(pod) == node) {
        pod.terminating = true;
      }
    }
  });
}

Step UserDeletesPodOn(std::string node) {
  return Do(
      "the user deletes the pod on " + node, [=](Snapshot& s, absl::Time) {
        std::erase_if(
            s.pods, [&](const Pod& pod) { return TargetNodeOf(pod) == node; });
      });
}

std::vector<Case> BudgetCases() {
  return {
      {.name = "B11_NoNodes",
       .build = Fresh(0),
       .steps = {NewTemplate("rev-2", 2, Unavailable(Int(0))),
                 Sync(0).Status(MakeStatus(0, 0, 0, 0, 0, 0))}},
      {.name = "B11_TwoNodesWithReadyPods_MaxUnavailable1",
       .build = Fresh(2),
       .steps = RollOut(2, Unavailable(Int(1)),
                        {Exactly({}, {{"node-0", kRollingUpdate}})})},
      // Budget 1 by the fallback; the pod manage creates on the empty node is
      // not available and uses it, so the old pod stays.
      {.name = "B11_TwoNodesOneWithoutPods_MaxUnavailable0",
       .build = Fresh(2),
       .steps = Concat(
           {Start(2, true),
            {UserDeletesPodOn("node-1"),
             NewTemplate("rev-2", 2, Unavailable(Int(0))),
             Exactly({"node-1"}, {}).Status(MakeStatus(2, 1, 0, 1, 0, 1)),
             Sync(0)}})},
      {.name = "B11_MaxUnavailable0FallsBackTo1",
       .build = Fresh(2),
       .steps = RollOut(2, Unavailable(Int(0)),
                        {Exactly({}, {{"node-0", kRollingUpdate}})})},
      {.name = "B11_SurgeAndUnavailable0FallBackTo1",
       .build = Fresh(2),
       .steps = RollOut(2, Surge(Int(0)),
                        {Exactly({}, {{"node-0", kRollingUpdate}})})},
      {.name = "B11_Percent50OfTwoNodes",
       .build = Fresh(2),
       .steps = RollOut(2, Unavailable(Pct(50)),
                        {Exactly({}, {{"node-0", kRollingUpdate}})})},
      {.name = "B11_Percent50OfThreeNodes",
       .build = Fresh(3),
       .steps = RollOut(3, Unavailable(Pct(50)),
                        {Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate}})})},
      {.name = "B11_Surge50PercentOfTwoNodes",
       .build = Fresh(2),
       .steps = RollOut(2, Surge(Pct(50)), {Exactly({"node-0"}, {})})},
      {.name = "B11_Surge100PercentOfTwoNodes",
       .build = Fresh(2),
       .steps =
           RollOut(2, Surge(Pct(100)), {Exactly({"node-0", "node-1"}, {})})},
      // Upstream's row: node-1 has only a terminating pod (unavailable),
      // node-2 none (manage fills it; the new pod is unavailable): 2 of the
      // budget of ceil(1.5) = 2 used, node-0's old pod stays. The terminating
      // pod is still node-1's representative (section 8).
      {.name = "B11_Percent50PodTerminating",
       .build = Fresh(3),
       .steps = Concat(
           {Start(3, true),
            {TerminatingOn("node-1"), UserDeletesPodOn("node-2"),
             NewTemplate("rev-2", 2, Unavailable(Pct(50))),
             Exactly({"node-2"}, {}).Status(MakeStatus(3, 2, 0, 2, 0, 2))}})},
      {.name = "B11_Percent50TerminatingPodUsesBudget",
       .build = Fresh(3),
       .steps = Concat({Start(3, true),
                        {TerminatingOn("node-1"),
                         NewTemplate("rev-2", 2, Unavailable(Pct(50))),
                         Exactly({}, {{"node-0", kRollingUpdate}})}})},
      {.name = "D17_TenPercentOfFiveNodes",
       .build = Fresh(5),
       .steps = RollOut(5, Unavailable(Pct(10)),
                        {Exactly({}, {{"node-0", kRollingUpdate}})})},
  };
}

// ---------------------------------------------------------------------------
// Availability and requeue (semantics 7.3, 8, catalogue D18).

// node-0: a current pod Ready since t=90; node-1: an old pod Ready since
// T0. minReadySeconds 10, maxUnavailable 1; the sync runs at t=100, exactly
// at node-0's boundary.
void AvailabilityBoundary(Snapshot& s) {
  AddNodes(s, 0, 2);
  const DaemonSet ds = DaemonSetBuilder(s, "foo")
                           .MinReadySeconds(10)
                           .MaxUnavailable(Int(1))
                           .Add();
  NewPod(s, ds, "node-0").Created(At(80)).Ready(At(90)).Add();
  OldPod(s, ds, "node-1").Add();
}

Options Minor33() {
  Options o;
  o.kubernetes_minor = 33;
  return o;
}

Options OneSyncFidelity() {
  Options o;
  o.rolling_update_after_manage = false;
  return o;
}

std::vector<Case> AvailabilityCases() {
  return {
      {.name = "D18_BoundaryAvailableSince134",
       .build = AvailabilityBoundary,
       .steps = {Exactly({}, {{"node-1", kRollingUpdate}})
                     .When(At(100))
                     .Status(MakeStatus(2, 2, 0, 2, 1, 2))}},
      {.name = "D18_BoundaryNotAvailableBefore134",
       .build = AvailabilityBoundary,
       .options = Minor33(),
       .steps = {Sync(0).When(At(100)).Status(MakeStatus(2, 2, 0, 2, 1, 1))}},
      // The only thing pending at t=125 is node-0's new pod, Ready since 120
      // with minReadySeconds 15: the plan changes in exactly 10 s.
      {.name = "RequeueUntilNewPodAvailable",
       .build =
           Fresh(2, {}, [](DaemonSetBuilder& ds) { ds.MinReadySeconds(15); }),
       .steps =
           {Exactly({"node-0", "node-1"}, {}).When(T0()), MarkReadyStep(),
            NewTemplate("rev-2", 2, Unavailable(Int(1))),
            Exactly({}, {{"node-0", kRollingUpdate}})
                .When(At(100))
                .Requeue(absl::ZeroDuration()),
            Exactly({"node-0"}, {}).When(At(110)).Requeue(absl::ZeroDuration()),
            MarkReadyStep().When(At(120)),
            Sync(0)
                .When(At(125))
                .Requeue(absl::Seconds(10))
                .Status(MakeStatus(2, 2, 0, 2, 1, 1)),
            Exactly({}, {{"node-1", kRollingUpdate}})
                .When(At(135))
                .Requeue(absl::ZeroDuration())
                .Status(MakeStatus(2, 2, 0, 2, 1, 2)),
            Exactly({"node-1"}, {}).When(At(140)),
            MarkReadyStep().When(At(150)),
            Sync(0)
                .When(At(150))
                .Requeue(absl::Seconds(15))
                .Status(MakeStatus(2, 2, 0, 2, 2, 1)),
            Sync(0)
                .When(At(165))
                .Requeue(absl::ZeroDuration())
                .Status(MakeStatus(2, 2, 0, 2, 2, 2))}},
      // minReadySeconds > 0 and no lastTransitionTime: never available, so
      // nothing is pending either.
      {.name = "ReadyWithoutTransitionTimeNeverAvailable",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             const DaemonSet ds = DaemonSetBuilder(s, "foo")
                                      .MinReadySeconds(10)
                                      .MaxUnavailable(Int(1))
                                      .Add();
             NewPod(s, ds, "node-0").Created(T0()).Ready().Add();
             OldPod(s, ds, "node-1").Add();
           },
       .steps = {Sync(0)
                     .When(At(1000))
                     .Status(MakeStatus(2, 2, 0, 2, 1, 1))
                     .Requeue(absl::ZeroDuration())}},
  };
}

// ---------------------------------------------------------------------------
// Edge cases of semantics 7.1, 7.2, 7.4, 7.6-7.8.

// Old Ready pods on node-0 and node-1 and on "gone-node", which is not in
// the snapshot (its name sorts before the others).
void MissingNodeCluster(Snapshot& s, const UpdateStrategy& strategy) {
  AddNodes(s, 0, 2);
  const DaemonSet ds = DaemonSetBuilder(s, "foo").Strategy(strategy).Add();
  OldCluster(s, ds, 2);
  OldPod(s, ds, "gone-node").Add();
}

std::vector<Case> EdgeCases() {
  return {
      // 7.8: an available old pod on a missing node is a candidate and takes
      // the budget (it is not counted in status, section 8).
      {.name = "OldPodOnMissingNodeIsACandidate",
       .build = [](Snapshot& s) { MissingNodeCluster(s, Unavailable(Int(1))); },
       .steps = {Exactly({}, {{"gone-node", kRollingUpdate}})
                     .Status(MakeStatus(2, 2, 0, 2, 0, 2))}},
      // 7.6/7.8: with surge the node lookup fails: no rolling-update action.
      {.name = "SurgeOldPodOnMissingNodeAbortsRollingUpdate",
       .build = [](Snapshot& s) { MissingNodeCluster(s, Surge(Int(1))); },
       .steps = {Sync(0).Status(MakeStatus(2, 2, 0, 2, 0, 2))}},
      // 7.8: a node the DaemonSet may only continue on (untolerated
      // NoSchedule) is a candidate like any other; desired is 1.
      {.name = "NoScheduleNodeOldPodIsACandidate",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             AddNodes(s, 1, 1);
             const DaemonSet ds =
                 DaemonSetBuilder(s, "foo").MaxUnavailable(Int(1)).Add();
             OldCluster(s, ds, 2);
           },
       .steps = {Exactly({}, {{"node-0", kRollingUpdate}})
                     .Status(MakeStatus(1, 1, 1, 1, 0, 1)),
                 Exactly({}, {{"node-1", kRollingUpdate}})
                     .Status(MakeStatus(1, 1, 0, 1, 0, 1)),
                 Exactly({"node-1"}, {}).Status(MakeStatus(1, 0, 0, 0, 0, 0)),
                 MarkReadyStep(),
                 Sync(0).Status(MakeStatus(1, 1, 0, 1, 1, 1))}},
      // 7.6 and section 12: an unavailable old pod on a node that should not
      // run is deleted; node-1's available old pod is surged.
      {.name = "SurgeUnavailableOldPodOnShouldNotRunNode",
       .build =
           [](Snapshot& s) {
             NodeBuilder(s, "node-0")
                 .Taint("dedicated", "user1", TaintEffect::kNoSchedule)
                 .Add();
             AddNodes(s, 1, 1);
             const DaemonSet ds =
                 DaemonSetBuilder(s, "foo").Strategy(Surge(Int(1))).Add();
             OldCluster(s, ds, 2, {0});
           },
       .steps = {Exactly({"node-1"}, {{"node-0", kRollingUpdateUnavailable}})}},
      // 7.4: maxUnavailable absent with rollingUpdate present aborts the
      // rolling update; status is still computed.
      {.name = "NilMaxUnavailableAbortsRollingUpdate",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 2);
             const DaemonSet ds =
                 DaemonSetBuilder(s, "foo").MaxUnavailable(std::nullopt).Add();
             OldCluster(s, ds, 2);
           },
       .steps = {Sync(0).Status(MakeStatus(2, 2, 0, 2, 0, 2))}},
      // 7.1: OnDelete never surges: of an old and a new pod on one node the
      // oldest stays (6.3), here the old one.
      {.name = "OnDeleteIgnoresMaxSurge",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const DaemonSet ds = DaemonSetBuilder(s, "foo")
                                      .OnDelete()
                                      .MaxUnavailable(Int(0))
                                      .MaxSurge(Int(1))
                                      .Add();
             OldPod(s, ds, "node-0").Add();
             NewPod(s, ds, "node-0").Created(At(10)).Ready(At(10)).Add();
           },
       .steps = {Exactly({}, {{"node-0", kDuplicatePod}}).When(At(100)),
                 ExpectRevisionOn("rev-1", {"node-0"}),
                 ExpectReadyPods(1, "rev-1")}},
      // 7.2: a pod with the current generation but a stale hash is old for
      // manage's surge pruning (hash only): two old pods, the younger goes
      // (6.4); the rolling update (7.6) then surges the remaining old one.
      {.name = "GenerationOnlyPodIsOldForSurgePruning",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 1);
             const DaemonSet ds =
                 DaemonSetBuilder(s, "foo").Strategy(Surge(Int(1))).Add();
             OldPod(s, ds, "node-0").Add();
             PodBuilder(s, "foo-node-0-gen2")
                 .OwnedBy(ds)
                 .Revision("rev-1", 2)
                 .OnNode("node-0")
                 .Created(At(5))
                 .Ready(At(5))
                 .Add();
           },
       .steps = {Exactly({"node-0"}, {{"node-0", kDuplicatePod}})
                     .When(At(100))
                     .Status(MakeStatus(1, 1, 0, 1, 0, 1)),
                 Do("foo-node-0-old survives",
                    [](Snapshot& s, absl::Time) {
                      EXPECT_TRUE(std::any_of(
                          s.pods.begin(), s.pods.end(), [](const Pod& pod) {
                            return pod.name == "foo-node-0-old";
                          }));
                    })}},
      // 7.7: the strict variant plans the rolling update only when manage
      // did nothing, so B.2's "(2, 2)" splits into (0, 2) then (2, 0).
      {.name = "B2_OneSyncFidelity",
       .build = Fresh(5),
       .options = OneSyncFidelity(),
       .steps = Concat(
           {Start(5, true),
            {NewTemplate("rev-2", 2, Surge(Int(2))),
             Exactly({"node-0", "node-1"}, {}), Sync(0), MarkReadyStep(),
             Exactly({},
                     {{"node-0", kSurgeReplaced}, {"node-1", kSurgeReplaced}}),
             Exactly({"node-2", "node-3"}, {}), Sync(0), MarkReadyStep(),
             Exactly({},
                     {{"node-2", kSurgeReplaced}, {"node-3", kSurgeReplaced}}),
             Exactly({"node-4"}, {}), Sync(0), MarkReadyStep(),
             Exactly({}, {{"node-4", kSurgeReplaced}}), Sync(0)}})},
  };
}

// ---------------------------------------------------------------------------
// Status during rollouts (semantics 7.2, 8): updatedNumberScheduled counts
// pods whose hash OR generation matches; OnDelete never replaces.

// One Ready pod per node: node-0 current hash and generation; node-1 current
// hash, old generation; node-2 old hash, current generation; node-3 old
// both; node-4 current hash, no generation label.
void MixedRevisionPods(Snapshot& s, const std::string& hash,
                       std::optional<int64_t> generation,
                       const UpdateStrategy& strategy) {
  AddNodes(s, 0, 5);
  const DaemonSet ds = DaemonSetBuilder(s, "foo").Strategy(strategy).Add();
  auto pod = [&](const std::string& node) {
    return PodBuilder(s, "foo-" + node)
        .OwnedBy(ds)
        .OnNode(node)
        .Created(T0())
        .Ready(T0());
  };
  pod("node-0").Revision("rev-2", 2).Add();
  pod("node-1").Revision("rev-2", 1).Add();
  pod("node-2").Revision("rev-1", 2).Add();
  pod("node-3").Revision("rev-1", 1).Add();
  pod("node-4").Revision("rev-2").Add();
  s.daemon_sets.front().current_revision_hash = s.CopyString(hash);
  s.daemon_sets.front().template_generation = generation;
}

UpdateStrategy OnDeleteStrategy() {
  UpdateStrategy s;
  s.type = UpdateStrategyType::kOnDelete;
  return s;
}

std::vector<Case> StatusCases() {
  return {
      {.name = "UpdatedCountsHashOrGeneration_OnDelete",
       .build =
           [](Snapshot& s) {
             MixedRevisionPods(s, "rev-2", 2, OnDeleteStrategy());
           },
       .steps = {Sync(0)
                     .Status(MakeStatus(5, 5, 0, 5, 4, 5))
                     .RevisionUnknown(false)}},
      // The rolling update uses the same test (findUpdatedPodsOnNode): only
      // node-3's pod is old.
      {.name = "UpdatedCountsHashOrGeneration_RollingUpdate",
       .build =
           [](Snapshot& s) {
             MixedRevisionPods(s, "rev-2", 2, Unavailable(Int(1)));
           },
       .steps = {Exactly({}, {{"node-3", kRollingUpdate}})
                     .Status(MakeStatus(5, 5, 0, 5, 4, 5))}},
      // Hash unknown: generation 2 alone; node-1, node-3, node-4 are old.
      {.name = "UpdatedByGenerationWhenHashUnknown",
       .build =
           [](Snapshot& s) {
             MixedRevisionPods(s, "", 2, Unavailable(Int(1)));
           },
       .steps = {Exactly({}, {{"node-1", kRollingUpdate}})
                     .Status(MakeStatus(5, 5, 0, 5, 2, 5))
                     .RevisionUnknown(true)}},
      // Generation unknown: hash rev-2 alone; node-2 and node-3 are old.
      {.name = "UpdatedByHashWhenGenerationUnknown",
       .build =
           [](Snapshot& s) {
             MixedRevisionPods(s, "rev-2", std::nullopt, Unavailable(Int(1)));
           },
       .steps = {Exactly({}, {{"node-2", kRollingUpdate}})
                     .Status(MakeStatus(5, 5, 0, 5, 3, 5))
                     .RevisionUnknown(false)}},
      // 7.1: OnDelete replaces nothing after a template change; only a pod
      // the user deletes comes back, from the current template.
      {.name = "OnDeleteNeverReplaces",
       .build = Fresh(5),
       .steps = Concat(
           {Start(5, true),
            {NewTemplate("rev-2", 2),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 0, 5)),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 0, 5)),
             UserDeletesPodOn("node-0"),
             Exactly({"node-0"}, {}).Status(MakeStatus(5, 4, 0, 4, 0, 4)),
             MarkReadyStep(), Sync(0).Status(MakeStatus(5, 5, 0, 5, 1, 5)),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 1, 5))}})},
  };
}

// ---------------------------------------------------------------------------
// Unknown revision (semantics 7.2 [dsd]): no hash means the generation
// alone identifies new pods, everywhere (also manage's surge pruning); with
// neither, nothing is rolled and a note says why.

// Old Ready pods on node-0..4; the DaemonSet knows neither hash nor
// generation.
void NothingKnownCluster(Snapshot& s, const UpdateStrategy& strategy) {
  AddNodes(s, 0, 5);
  const DaemonSet ds = DaemonSetBuilder(s, "foo")
                           .Strategy(strategy)
                           .Revision("")
                           .TemplateGeneration(std::nullopt)
                           .Add();
  OldCluster(s, ds, 5);
}

std::vector<Case> RevisionUnknownCases() {
  auto unknown_hash = [](DaemonSetBuilder& ds) { ds.Revision(""); };
  return {
      {.name = "HashUnknown_UpdatesPodsByGeneration",
       .build = Fresh(5, {}, unknown_hash),
       .steps = Concat(
           {Start(5, true),
            {NewTemplate("", 2, Unavailable(Int(2))),
             Exactly({},
                     {{"node-0", kRollingUpdate}, {"node-1", kRollingUpdate}})
                 .RevisionUnknown(true),
             Exactly({"node-0", "node-1"}, {}).RevisionUnknown(true),
             MarkReadyStep(),
             Exactly({},
                     {{"node-2", kRollingUpdate}, {"node-3", kRollingUpdate}})
                 .RevisionUnknown(true),
             Exactly({"node-2", "node-3"}, {}), MarkReadyStep(),
             Exactly({}, {{"node-4", kRollingUpdate}}), Exactly({"node-4"}, {}),
             MarkReadyStep(),
             Sync(0)
                 .Status(MakeStatus(5, 5, 0, 5, 5, 5))
                 .RevisionUnknown(true)}})},
      {.name = "HashUnknown_SurgesByGeneration",
       .build = Fresh(5, {}, unknown_hash),
       .steps = Concat(
           {Start(5, true),
            {NewTemplate("", 2, Surge(Int(2))),
             Exactly({"node-0", "node-1"}, {}).RevisionUnknown(true), Sync(0),
             MarkReadyStep(),
             Exactly({"node-2", "node-3"},
                     {{"node-0", kSurgeReplaced}, {"node-1", kSurgeReplaced}})
                 .RevisionUnknown(true),
             Sync(0), MarkReadyStep(),
             Exactly({"node-4"},
                     {{"node-2", kSurgeReplaced}, {"node-3", kSurgeReplaced}}),
             Sync(0), MarkReadyStep(),
             Exactly({}, {{"node-4", kSurgeReplaced}}),
             Sync(0).Status(MakeStatus(5, 5, 0, 5, 5, 5))}})},
      {.name = "NothingKnown_NoRollingUpdate",
       .build =
           [](Snapshot& s) { NothingKnownCluster(s, Unavailable(Int(2))); },
       .steps = {Sync(0)
                     .Status(MakeStatus(5, 5, 0, 5, 0, 5))
                     .RevisionUnknown(true)
                     .WithNote(),
                 Sync(0).RevisionUnknown(true).WithNote()}},
      {.name = "NothingKnown_NoSurge",
       .build = [](Snapshot& s) { NothingKnownCluster(s, Surge(Int(2))); },
       .steps = {Sync(0)
                     .Status(MakeStatus(5, 5, 0, 5, 0, 5))
                     .RevisionUnknown(true)
                     .WithNote()}},
  };
}

// ---------------------------------------------------------------------------
// dsd extensions (UpdateStrategy in types.h): paused, partition, update
// node selector. Off by default; every upstream case above runs without them.

// `n` nodes with one old Ready pod each (`not_ready` nodes' pods not Ready)
// and the DaemonSet at rev-2 with `strategy`.
std::function<void(Snapshot&)> OldPods(int n, const UpdateStrategy& strategy,
                                       const std::vector<int>& not_ready = {}) {
  return [=](Snapshot& s) {
    AddNodes(s, 0, n);
    const DaemonSet ds = DaemonSetBuilder(s, "foo").Strategy(strategy).Add();
    OldCluster(s, ds, n, not_ready);
  };
}

// As OldPods, with the update node selector canary=true and the label on
// the `canary` nodes.
std::function<void(Snapshot&)> CanaryPods(
    int n, const std::vector<int>& canary, const UpdateStrategy& strategy,
    const std::vector<int>& not_ready = {}) {
  return [=](Snapshot& s) {
    for (int i = 0; i < n; ++i) {
      NodeBuilder node(s, "node-" + std::to_string(i));
      if (std::find(canary.begin(), canary.end(), i) != canary.end()) {
        node.Label("canary", "true");
      }
      node.Add();
    }
    UpdateStrategy with_selector = strategy;
    with_selector.node_selector = CanarySelector(s);
    const DaemonSet ds =
        DaemonSetBuilder(s, "foo").Strategy(with_selector).Add();
    OldCluster(s, ds, n, not_ready);
  };
}

Step NewTemplateForCanaries(const UpdateStrategy& strategy) {
  return ChangeDs("new template rev-2 for canary=true nodes",
                  [=](Snapshot& s, DaemonSet& ds) {
                    ds.current_revision_hash = s.CopyString("rev-2");
                    ds.template_generation = 2;
                    ds.update_strategy = strategy;
                    ds.update_strategy.node_selector = CanarySelector(s);
                  });
}

std::vector<Case> ExtensionCases() {
  return {
      // Paused: manage still fills node-5; nothing is replaced until the
      // rollout resumes (then B.1's first step).
      {.name = "Paused_ManageStillCreates",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 6);
             const DaemonSet ds = DaemonSetBuilder(s, "foo")
                                      .Strategy(Paused(Unavailable(Int(2))))
                                      .Add();
             OldCluster(s, ds, 5);
           },
       .steps = {Exactly({"node-5"}, {}).Status(MakeStatus(6, 5, 0, 5, 0, 5)),
                 Sync(0), MarkReadyStep(), Sync(0),
                 ChangeDs("resume",
                          [](Snapshot&, DaemonSet& ds) {
                            ds.update_strategy.paused = false;
                          }),
                 Exactly({}, {{"node-0", kRollingUpdate},
                              {"node-1", kRollingUpdate}})}},
      // Unpaused this would create on node-0 (unavailable) and node-1.
      {.name = "Paused_SurgeCreatesNothing",
       .build = OldPods(3, Paused(Surge(Int(1))), {0}),
       .steps = {Sync(0), Sync(0)}},
      // Unpaused this would delete node-0's unavailable old pod.
      {.name = "Paused_KeepsUnavailableOldPods",
       .build = OldPods(3, Paused(Unavailable(Int(1))), {0}),
       .steps = {Sync(0), Sync(0)}},
      {.name = "Partition_ZeroIsUpstream",
       .build = Fresh(5),
       .steps = RollOut(5, Partitioned(Unavailable(Int(2)), Int(0)),
                        {Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate}}),
                         Exactly({"node-0", "node-1"}, {})})},
      {.name = "Partition_KeepsTwoNodesOld",
       .build = Fresh(5),
       .steps = RollOut(
           5, Partitioned(Unavailable(Int(5)), Int(2)),
           {Exactly({}, {{"node-0", kRollingUpdate},
                         {"node-1", kRollingUpdate},
                         {"node-2", kRollingUpdate}}),
            Exactly({"node-0", "node-1", "node-2"}, {}), MarkReadyStep(),
            Sync(0).Status(MakeStatus(5, 5, 0, 5, 3, 5)), Sync(0),
            ExpectRevisionOn("rev-1", {"node-3", "node-4"})})},
      // ceil(30% of 5) = 2.
      {.name = "Partition_Percent",
       .build = Fresh(5),
       .steps = RollOut(5, Partitioned(Unavailable(Int(5)), Pct(30)),
                        {Exactly({}, {{"node-0", kRollingUpdate},
                                      {"node-1", kRollingUpdate},
                                      {"node-2", kRollingUpdate}})})},
      // 5 old nodes, partition 4: one replacement, an unavailable one first
      // (node-2 before node-4 by name).
      {.name = "Partition_UnavailableOldPodsFirst",
       .build = OldPods(5, Partitioned(Unavailable(Int(5)), Int(4)), {2, 4}),
       .steps = {Exactly({}, {{"node-2", kRollingUpdateUnavailable}})}},
      {.name = "Partition_WithSurge",
       .build = Fresh(5),
       .steps =
           RollOut(5, Partitioned(Surge(Int(5)), Int(2)),
                   {Exactly({"node-0", "node-1", "node-2"}, {}), Sync(0),
                    MarkReadyStep(),
                    Exactly({}, {{"node-0", kSurgeReplaced},
                                 {"node-1", kSurgeReplaced},
                                 {"node-2", kSurgeReplaced}}),
                    Sync(0), ExpectRevisionOn("rev-1", {"node-3", "node-4"})})},
      // Unpartitioned: node-1 and node-3 (unavailable) plus node-0 (surge).
      {.name = "Partition_WithSurgeUnavailableOldPodsFirst",
       .build = OldPods(5, Partitioned(Surge(Int(1)), Int(4)), {1, 3}),
       .steps = {Exactly({"node-1"}, {})}},
      {.name = "Partition_AllOldNodesKeepsEverything",
       .build = OldPods(5, Partitioned(Unavailable(Int(5)), Int(5)), {1}),
       .steps = {Sync(0), Sync(0)}},
      {.name = "Partition_HundredPercentKeepsEverything",
       .build = OldPods(5, Partitioned(Surge(Int(5)), Pct(100)), {1}),
       .steps = {Sync(0), Sync(0)}},
      // manage deletes node-4's pod (untolerated NoExecute) first, so 4 old
      // nodes remain and partition 2 allows 2 replacements, not 3.
      {.name = "Partition_CountsOldNodesAfterManage",
       .build =
           [](Snapshot& s) {
             AddNodes(s, 0, 4);
             NodeBuilder(s, "node-4")
                 .Taint("dedicated", "user1", TaintEffect::kNoExecute)
                 .Add();
             const DaemonSet ds =
                 DaemonSetBuilder(s, "foo")
                     .Strategy(Partitioned(Unavailable(Int(5)), Int(2)))
                     .Add();
             OldCluster(s, ds, 5);
           },
       .steps = {Exactly({}, {{"node-0", kRollingUpdate},
                              {"node-1", kRollingUpdate},
                              {"node-4", kUntoleratedNoExecuteTaint}})}},
      {.name = "NodeSelector_RollsOnlyCanaryNodes",
       .build = Fresh(4, {1, 3}),
       .steps = Concat({Start(4, true),
                        {NewTemplateForCanaries(Unavailable(Int(4))),
                         Exactly({}, {{"node-1", kRollingUpdate},
                                      {"node-3", kRollingUpdate}}),
                         Exactly({"node-1", "node-3"}, {}), MarkReadyStep(),
                         Sync(0).Status(MakeStatus(4, 4, 0, 4, 2, 4)), Sync(0),
                         ExpectRevisionOn("rev-1", {"node-0", "node-2"})}})},
      // node-0 (not selected) is neither replaced nor counted unavailable,
      // so the budget of 1 goes to node-2.
      {.name = "NodeSelector_IgnoresUnavailableOldPodsOutside",
       .build = CanaryPods(4, {2, 3}, Unavailable(Int(1)), {0}),
       .steps = {Exactly({}, {{"node-2", kRollingUpdate}})}},
      // 20% of all 10 desired nodes is 2 (of the 2 selected it would be 1).
      {.name = "NodeSelector_BudgetScalesAgainstAllDesiredNodes",
       .build = CanaryPods(10, {4, 7}, Unavailable(Pct(20))),
       .steps = {Exactly(
           {}, {{"node-4", kRollingUpdate}, {"node-7", kRollingUpdate}})}},
      {.name = "NodeSelector_WithSurge",
       .build = Fresh(4, {1, 3}),
       .steps = Concat(
           {Start(4, true),
            {NewTemplateForCanaries(Surge(Int(4))),
             Exactly({"node-1", "node-3"}, {}), Sync(0), MarkReadyStep(),
             Exactly({},
                     {{"node-1", kSurgeReplaced}, {"node-3", kSurgeReplaced}}),
             Sync(0), ExpectRevisionOn("rev-1", {"node-0", "node-2"})}})},
      // Unselected node-0's unavailable old pod gets no replacement.
      {.name = "NodeSelector_SurgeIgnoresUnavailableOldPodsOutside",
       .build = CanaryPods(4, {1}, Surge(Int(1)), {0}),
       .steps = {Exactly({"node-1"}, {})}},
  };
}

// ---------------------------------------------------------------------------
// The runner.

std::string ReasonsString(const Reasons& reasons) {
  std::string out;
  for (const auto& [reason, n] : reasons) {
    if (n == 0) {
      continue;
    }
    absl::StrAppend(&out, out.empty() ? "" : ", ",
                    std::string(DeleteReasonName(reason)), " x", n);
  }
  return out.empty() ? "none" : out;
}

std::string DelString(std::string_view node, DeleteReason reason) {
  return absl::StrCat(std::string(node), " ",
                      std::string(DeleteReasonName(reason)));
}

const Pod* FindPod(const Snapshot& snap, std::string_view ns,
                   std::string_view name) {
  for (const Pod& pod : snap.pods) {
    if (pod.namespace_name == ns && pod.name == name) {
      return &pod;
    }
  }
  return nullptr;
}

void CheckSync(const Snapshot& snap, const DaemonSetPlan& plan,
               const Step& want) {
  std::vector<std::string> created;
  for (const PodCreate& c : plan.creates) {
    created.emplace_back(c.node);
  }
  Reasons reasons;
  std::vector<std::string> deleted;
  for (const PodDelete& d : plan.deletes) {
    ++reasons[d.reason];
    const Pod* pod = FindPod(snap, plan.namespace_name, d.pod);
    ASSERT_NE(pod, nullptr) << "delete of unknown pod " << d.pod;
    EXPECT_FALSE(pod->terminating) << d.pod << " is already terminating";
    deleted.push_back(DelString(TargetNodeOf(*pod), d.reason));
  }
  std::sort(deleted.begin(), deleted.end());

  EXPECT_EQ(static_cast<int>(plan.creates.size()), want.creates)
      << "creates on " << ::testing::PrintToString(created);
  EXPECT_EQ(ReasonsString(reasons), ReasonsString(want.deletes))
      << "deletes " << ::testing::PrintToString(deleted);
  if (want.create_nodes) {
    std::vector<std::string> nodes = *want.create_nodes;
    std::sort(nodes.begin(), nodes.end());
    EXPECT_EQ(created, nodes);
  }
  if (want.deleted) {
    std::vector<std::string> dels;
    for (const Del& d : *want.deleted) {
      dels.push_back(DelString(d.node, d.reason));
    }
    std::sort(dels.begin(), dels.end());
    EXPECT_EQ(deleted, dels);
  }
  if (want.status) {
    EXPECT_EQ(StatusString(plan.status), StatusString(*want.status));
  }
  if (want.requeue_after) {
    EXPECT_EQ(plan.requeue_after, *want.requeue_after);
  }
  if (want.revision_unknown) {
    EXPECT_EQ(plan.revision_unknown, *want.revision_unknown);
  }
  if (want.expect_note) {
    EXPECT_FALSE(plan.notes.empty()) << "expected a note";
  }
}

class RollingUpdateTest : public ::testing::TestWithParam<Case> {};

TEST_P(RollingUpdateTest, FollowsDocs) {
  const Case& c = GetParam();
  Snapshot snap;
  c.build(snap);
  absl::Time now = T0();
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const Step& step = c.steps[i];
    if (step.now) {
      now = *step.now;
    } else if (!step.action) {
      now += absl::Seconds(10);
    }
    SCOPED_TRACE(absl::StrCat("step ", i + 1, " at T0+",
                              absl::FormatDuration(now - T0()), ": ",
                              step.action ? step.label : "sync"));
    if (step.action) {
      step.action(snap, now);
    } else {
      const Plan plan = Decide(snap, now, c.options);
      ASSERT_EQ(plan.daemon_sets.size(), 1u);
      CheckSync(snap, plan.daemon_sets.front(), step);
      ApplyPlan(snap, plan.daemon_sets.front(), now);
    }
    // Later steps build on this one; stop at the first divergence.
    if (HasFailure()) {
      return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Upstream, RollingUpdateTest,
                         ::testing::ValuesIn(UpstreamCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(Budget, RollingUpdateTest,
                         ::testing::ValuesIn(BudgetCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(Availability, RollingUpdateTest,
                         ::testing::ValuesIn(AvailabilityCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(Edge, RollingUpdateTest,
                         ::testing::ValuesIn(EdgeCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(Status, RollingUpdateTest,
                         ::testing::ValuesIn(StatusCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(RevisionUnknown, RollingUpdateTest,
                         ::testing::ValuesIn(RevisionUnknownCases()),
                         ::dsd::testing::ParamName<Case>);
INSTANTIATE_TEST_SUITE_P(Extensions, RollingUpdateTest,
                         ::testing::ValuesIn(ExtensionCases()),
                         ::dsd::testing::ParamName<Case>);

// The harness itself (catalogue 0.2, semantics 6.8): what a create adds,
// that a delete removes, and markReady's transition times.
TEST(ApplyPlanTest, ActsLikeTheUpstreamHarness) {
  Snapshot snap;
  AddNodes(snap, 0, 2);
  const DaemonSet ds = DaemonSetBuilder(snap, "foo")
                           .TemplateLabel("tier", "node")
                           .Revision("rev-7")
                           .TemplateGeneration(7)
                           .Add();
  OldPod(snap, ds, "node-0").Add();
  NewPod(snap, ds, "node-1").Ready(At(5)).Add();

  DaemonSetPlan plan;
  plan.namespace_name = ds.namespace_name;
  plan.name = ds.name;
  plan.creates = {{snap.nodes[0].name}};
  plan.deletes = {{snap.CopyString("foo-node-0-old"), snap.nodes[0].name,
                   kRollingUpdate, ""}};
  ApplyPlan(snap, plan, At(50));
  plan.deletes.clear();
  ApplyPlan(snap, plan, At(60));

  ASSERT_EQ(snap.pods.size(), 3u);
  EXPECT_EQ(snap.pods[0].name, "foo-node-1-new");
  for (size_t i = 1; i < 3; ++i) {
    const Pod& pod = snap.pods[i];
    SCOPED_TRACE(pod.name);
    EXPECT_EQ(pod.name, i == 1 ? "foo-node-0-1" : "foo-node-0-2");
    EXPECT_EQ(pod.namespace_name, "default");
    EXPECT_EQ(pod.controller_uid, ds.uid);
    EXPECT_EQ(FindLabel(pod.labels, "app"), "foo");
    EXPECT_EQ(FindLabel(pod.labels, "tier"), "node");
    EXPECT_EQ(HashOf(pod), "rev-7");
    EXPECT_EQ(FindLabel(pod.labels, "pod-template-generation"), "7");
    EXPECT_EQ(pod.node_name, "");
    ASSERT_EQ(pod.required_node_affinity.size(), 1u);
    EXPECT_TRUE(pod.required_node_affinity[0].match_expressions.empty());
    EXPECT_EQ(TargetNodeOf(pod), "node-0");
    EXPECT_FALSE(pod.ready);
    EXPECT_EQ(pod.phase, PodPhase::kPending);
    EXPECT_EQ(pod.creation_timestamp, i == 1 ? At(50) : At(60));
  }

  MarkReady(snap, At(70));
  EXPECT_EQ(snap.pods[0].ready_since, At(5)) << "already Ready: unchanged";
  EXPECT_TRUE(snap.pods[1].ready);
  EXPECT_EQ(snap.pods[1].ready_since, At(70));
}

}  // namespace
}  // namespace dsd::engine
