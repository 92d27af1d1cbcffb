// Multi-step harness for engine tests: applies a DaemonSet plan to a
// snapshot the way the upstream unit tests' fake pod control does
// (k8s-test-catalogue.md 0.2; daemonset-semantics.md 6.8 and 7.7), so a test
// can call Decide again on the result and watch a rollout converge. Also the
// status helpers shared by scenario tables. Header-only; engine types only.
#ifndef DSD_TESTS_TESTING_APPLY_PLAN_H_
#define DSD_TESTS_TESTING_APPLY_PLAN_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/engine/types.h"
#include "tests/testing/builders.h"

namespace dsd::testing {

// The node a daemon pod belongs to (semantics 5.2): spec.nodeName, else the
// first required-affinity matchFields requirement metadata.name In [x] with
// exactly one value; empty when neither exists.
inline std::string_view TargetNodeOf(const engine::Pod& pod) {
  if (!pod.node_name.empty()) {
    return pod.node_name;
  }
  for (const engine::NodeSelectorTerm& term : pod.required_node_affinity) {
    for (const engine::Requirement& r : term.match_fields) {
      if (r.key == "metadata.name" && r.op == engine::SelectorOperator::kIn &&
          r.values.size() == 1) {
        return r.values[0];
      }
    }
  }
  return {};
}

// node-<from> ... node-<to - 1>.
inline std::vector<std::string> NodeRange(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) {
    out.push_back("node-" + std::to_string(i));
  }
  return out;
}

// The upstream fixture addNodes: nodes node-<start> ... node-<start + n - 1>,
// each with `labels`.
inline void AddNodes(
    engine::Snapshot& snap, int start, int n,
    const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  for (int i = start; i < start + n; ++i) {
    NodeBuilder node(snap, "node-" + std::to_string(i));
    for (const auto& [k, v] : labels) {
      node.Label(k, v);
    }
    node.Add();
  }
}

// The DaemonSet `ns`/`name` of `snap`, or nullptr.
inline const engine::DaemonSet* FindDaemonSet(const engine::Snapshot& snap,
                                              std::string_view ns,
                                              std::string_view name) {
  for (const engine::DaemonSet& ds : snap.daemon_sets) {
    if (ds.namespace_name == ns && ds.name == name) {
      return &ds;
    }
  }
  return nullptr;
}

// Applies one DaemonSet's plan to `snap` as the upstream harness does
// (catalogue 0.2, semantics 7.7 "virtual apply"):
//  * each delete removes the named pod of the plan's namespace;
//  * each create adds a pod owned by the DaemonSet (controller reference to
//    its uid) with the template labels plus controller-revision-hash (when
//    the hash is known) and pod-template-generation (when the generation is
//    known) of the DaemonSet's *current* revision; no nodeName (unless the
//    template sets one, semantics 6.8); required node affinity matchFields
//    metadata.name In [node]; not Ready; phase Pending; creationTimestamp =
//    `now`. It is named "<ds>-<node>-<k>" with the smallest k >= 1 unused.
// The plan must come from Decide on `snap` (or hold views that outlive it).
// A plan for a DaemonSet missing from `snap` changes nothing.
inline void ApplyPlan(engine::Snapshot& snap, const engine::DaemonSetPlan& plan,
                      absl::Time now) {
  const engine::DaemonSet* found =
      FindDaemonSet(snap, plan.namespace_name, plan.name);
  if (found == nullptr) {
    return;
  }
  const engine::DaemonSet ds = *found;  // copy: pods are appended below

  std::vector<std::string> doomed;
  for (const engine::PodDelete& d : plan.deletes) {
    doomed.emplace_back(d.pod);
  }
  std::erase_if(snap.pods, [&](const engine::Pod& pod) {
    return pod.namespace_name == ds.namespace_name &&
           std::find(doomed.begin(), doomed.end(), pod.name) != doomed.end();
  });

  auto taken = [&](const std::string& name) {
    return std::any_of(
        snap.pods.begin(), snap.pods.end(), [&](const engine::Pod& pod) {
          return pod.namespace_name == ds.namespace_name && pod.name == name;
        });
  };
  for (const engine::PodCreate& c : plan.creates) {
    const std::string prefix =
        absl::StrCat(std::string(ds.name), "-", std::string(c.node), "-");
    int k = 1;
    while (taken(absl::StrCat(prefix, k))) {
      ++k;
    }
    PodBuilder pod(snap, absl::StrCat(prefix, k));
    pod.OwnedBy(ds)
        .TargetNode(std::string(c.node))
        .Phase(engine::PodPhase::kPending)
        .NotReady()
        .Created(now);
    if (!ds.node_name.empty()) {
      pod.OnNode(std::string(ds.node_name));
    }
    pod.Add();
  }
}

// Every DaemonSet plan of `plan`, in order.
inline void ApplyPlan(engine::Snapshot& snap, const engine::Plan& plan,
                      absl::Time now) {
  for (const engine::DaemonSetPlan& p : plan.daemon_sets) {
    ApplyPlan(snap, p, now);
  }
}

// The upstream harness's markPodsReady: every pod becomes Ready. A pod that
// turns Ready gets ready_since = `now`; a pod that is Ready already keeps
// its ready_since, because the Ready condition's lastTransitionTime only
// changes on a transition (podutil.UpdatePodCondition, which upstream's
// markPodReady goes through). Phase is left alone (Ready ignores it, 7.3).
inline void MarkReady(engine::Snapshot& snap, absl::Time now) {
  for (engine::Pod& pod : snap.pods) {
    if (pod.ready) {
      continue;
    }
    pod.ready = true;
    pod.ready_since = now;
  }
}

// The seven counters in DaemonSetStatus order; numberUnavailable is
// desired - available by definition (semantics section 8).
inline engine::DaemonSetStatus MakeStatus(int32_t desired, int32_t current,
                                          int32_t misscheduled, int32_t ready,
                                          int32_t updated, int32_t available) {
  return {desired, current,   misscheduled,       ready,
          updated, available, desired - available};
}

// "desired=5 current=5 ..." for failure messages.
inline std::string StatusString(const engine::DaemonSetStatus& s) {
  return absl::StrCat(
      "desired=", s.desired_number_scheduled,
      " current=", s.current_number_scheduled,
      " misscheduled=", s.number_misscheduled, " ready=", s.number_ready,
      " updated=", s.updated_number_scheduled,
      " available=", s.number_available, " unavailable=", s.number_unavailable);
}

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_APPLY_PLAN_H_
