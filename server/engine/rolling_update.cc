// rollingUpdate of pkg/controller/daemon/update.go. Upstream walks a Go map,
// so which nodes a truncated budget picks is random there; dsd walks node
// names in order. The counts do not depend on the order (see the semantics
// doc, 7.5 and 7.6).
#include "server/engine/rolling_update.h"

#include <algorithm>
#include <array>
#include <deque>
#include <limits>

#include "server/engine/internal/strings.h"
#include "server/engine/selectors.h"

namespace dsd::engine {
namespace {

// findUpdatedPodsOnNode: at most one new and one old non-terminating pod;
// anything more is manage's to prune.
struct NodePods {
  const Pod* new_pod = nullptr;
  const Pod* old_pod = nullptr;
  bool ok = true;
};

NodePods FindUpdatedPods(const NodeGroup& group) {
  NodePods result;
  for (size_t i = 0; i < group.pods.size(); ++i) {
    const Pod* pod = group.pods[i];
    if (pod->terminating) continue;
    const Pod*& slot = group.updated[i] != 0 ? result.new_pod : result.old_pod;
    if (slot != nullptr) return {nullptr, nullptr, false};
    slot = pod;
  }
  return result;
}

PodDelete Delete(const Pod& pod, DeleteReason reason, std::string message) {
  return PodDelete{pod.name, pod.node_name, reason, std::move(message)};
}

struct Budgets {
  int64_t max_surge = 0;
  int64_t max_unavailable = 0;
};

std::optional<Budgets> ComputeBudgets(const DaemonSet& ds, int64_t desired) {
  const UpdateStrategy& s = ds.update_strategy;
  if (!s.max_unavailable) return std::nullopt;  // upstream: "nil value"
  Budgets b;
  b.max_unavailable = ScaledValue(*s.max_unavailable, desired);
  if (s.max_surge) b.max_surge = ScaledValue(*s.max_surge, desired);
  if (desired > 0 && b.max_surge == 0 && b.max_unavailable == 0) {
    b.max_unavailable = 1;  // never stall a rollout on a zero budget
  }
  return b;
}

// How many old-only nodes this pass may move to the new revision: all of
// them, or with the dsd `partition` extension all but `partition` of them.
int64_t ReplaceableNodes(const RollingUpdateInput& in,
                         const std::vector<NodePods>& nodes) {
  const std::optional<IntOrPercent>& partition =
      in.ds->update_strategy.partition;
  if (!partition) return std::numeric_limits<int64_t>::max();
  int64_t old_only = 0;
  for (const NodePods& p : nodes) {
    if (p.ok && p.old_pod != nullptr && p.new_pod == nullptr) ++old_only;
  }
  return std::max<int64_t>(0, old_only - ScaledValue(*partition, in.desired));
}

void PlanWithoutSurge(const RollingUpdateInput& in,
                      const std::vector<NodePods>& nodes,
                      int64_t max_unavailable, RollingUpdateResult& out) {
  int64_t unavailable = 0;
  std::vector<const Pod*> replacements;  // unavailable old pods
  std::vector<const Pod*> candidates;    // available old pods
  for (const NodePods& p : nodes) {
    if (!p.ok || (p.old_pod == nullptr) == (p.new_pod == nullptr)) {
      ++unavailable;  // manage prunes, creates or deletes here
      continue;
    }
    if (p.new_pod != nullptr) {
      if (!IsPodAvailable(*p.new_pod, in.availability, in.now)) ++unavailable;
      continue;
    }
    if (!IsPodAvailable(*p.old_pod, in.availability, in.now)) {
      // Replacing an unavailable pod costs no availability, but it still
      // counts against the budget (kubernetes#123233, 1.31+).
      replacements.push_back(p.old_pod);
      ++unavailable;
    } else if (unavailable < max_unavailable) {
      candidates.push_back(p.old_pod);
    }
  }
  int64_t replaceable = ReplaceableNodes(in, nodes);
  for (const Pod* pod : replacements) {
    if (replaceable-- <= 0) return;
    out.deletes.push_back(
        Delete(*pod, DeleteReason::kRollingUpdateUnavailable,
               "old-revision pod is not available; replaced without waiting"));
  }
  const int64_t take =
      std::min(replaceable, std::clamp<int64_t>(max_unavailable - unavailable,
                                                0, std::ssize(candidates)));
  for (int64_t i = 0; i < take; ++i) {
    out.deletes.push_back(Delete(
        *candidates[static_cast<size_t>(i)], DeleteReason::kRollingUpdate,
        internal::Cat("old-revision pod replaced within maxUnavailable ",
                      max_unavailable)));
  }
}

void PlanWithSurge(const RollingUpdateInput& in,
                   const std::vector<NodePods>& nodes, int64_t max_surge,
                   RollingUpdateResult& out) {
  int64_t surge = 0;
  int64_t available = 0;
  std::vector<std::string_view> replacements;  // nodes of unavailable old pods
  std::vector<std::string_view> candidates;    // nodes of available old pods
  std::vector<const Pod*> should_not_run;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodePods& p = nodes[i];
    const NodeGroup& group = in.groups[i];
    if (!p.ok) {
      ++surge;  // manage prunes the duplicates first
      continue;
    }
    const bool old_available =
        p.old_pod != nullptr &&
        IsPodAvailable(*p.old_pod, in.availability, in.now);
    const bool new_available =
        p.new_pod != nullptr &&
        IsPodAvailable(*p.new_pod, in.availability, in.now);
    if (old_available || (p.old_pod == nullptr && new_available)) ++available;

    if (p.old_pod == nullptr) continue;  // manage's job
    if (p.new_pod != nullptr) {
      if (!new_available) {
        ++surge;  // waiting for the new pod to become available
      } else {
        out.deletes.push_back(Delete(*p.old_pod, DeleteReason::kSurgeReplaced,
                                     "new-revision pod on the node is "
                                     "available"));
      }
      continue;
    }
    if (group.node == nullptr) {
      // Upstream looks the node up and fails the whole pass.
      out.creates.clear();
      out.deletes.clear();
      out.aborted = internal::Cat(
          "old pod ", p.old_pod->name, " is bound to node ", group.node_name,
          ", which is not in the snapshot; the rolling update waits for the "
          "pod garbage collector");
      return;
    }
    if (!old_available) {
      if (!group.eligibility.should_run) {
        out.deletes.push_back(
            Delete(*p.old_pod, DeleteReason::kRollingUpdateUnavailable,
                   "old-revision pod is not available and the node no longer "
                   "matches the DaemonSet's scheduling constraints"));
      } else {
        replacements.push_back(group.node_name);
      }
      continue;
    }
    if (!group.eligibility.should_run) {
      should_not_run.push_back(p.old_pod);
    } else if (surge < max_surge) {
      candidates.push_back(group.node_name);
    }
  }

  // Keep enough available pods while moving away from nodes the DaemonSet
  // no longer fits (kubernetes#119317).
  const int64_t deletable = std::clamp<int64_t>(available - in.desired, 0,
                                                std::ssize(should_not_run));
  for (int64_t i = 0; i < deletable; ++i) {
    out.deletes.push_back(
        Delete(*should_not_run[static_cast<size_t>(i)],
               DeleteReason::kSchedulingConstraintChanged,
               "the node no longer matches the DaemonSet's scheduling "
               "constraints and enough pods are available elsewhere"));
  }
  int64_t replaceable = ReplaceableNodes(in, nodes);
  for (std::string_view node : replacements) {
    if (replaceable-- <= 0) return;
    out.creates.push_back(PodCreate{node});  // regardless of the surge budget
  }
  const int64_t take = std::min(
      replaceable,
      std::clamp<int64_t>(max_surge - surge, 0, std::ssize(candidates)));
  for (int64_t i = 0; i < take; ++i) {
    out.creates.push_back(PodCreate{candidates[static_cast<size_t>(i)]});
  }
}

}  // namespace

int64_t ScaledValue(const IntOrPercent& v, int64_t total) {
  if (!v.is_percent) return v.value;
  // ceil(value * total / 100) for non-negative inputs.
  return (v.value * total + 99) / 100;
}

bool AllowsSurge(const DaemonSet& ds) {
  const UpdateStrategy& s = ds.update_strategy;
  return s.type == UpdateStrategyType::kRollingUpdate && s.max_surge &&
         ScaledValue(*s.max_surge, 1) > 0;
}

RollingUpdateResult PlanRollingUpdate(const RollingUpdateInput& in) {
  RollingUpdateResult out;
  const std::optional<Budgets> budgets = ComputeBudgets(*in.ds, in.desired);
  if (!budgets) {
    out.aborted = "rollingUpdate.maxUnavailable is not set";
    return out;
  }
  std::vector<NodePods> nodes;
  nodes.reserve(in.groups.size());
  for (const NodeGroup& group : in.groups) {
    nodes.push_back(FindUpdatedPods(group));
  }
  if (budgets->max_surge == 0) {
    PlanWithoutSurge(in, nodes, budgets->max_unavailable, out);
  } else {
    PlanWithSurge(in, nodes, budgets->max_surge, out);
  }
  return out;
}

RollingUpdateResult PlanRollingUpdateAfterManage(
    const AfterManage& state, std::vector<const Pod*>& pod_buffer,
    std::vector<uint8_t>& updated_buffer,
    std::optional<absl::Time>& available_at) {
  const DaemonSet& ds = *state.ds;
  const Revision& revision = *state.revision;
  const Pod* const first_pod = state.snapshot->pods.data();
  const auto is_deleted = [&](const Pod* pod) {
    return state.deleted[static_cast<size_t>(pod - first_pod)] != 0;
  };
  const auto is_updated = [&](const Pod* pod) {
    return state.updated[static_cast<size_t>(pod - first_pod)] != 0;
  };
  // dsd extension: only nodes matching the rollout selector take part.
  std::optional<LabelSelectorMatcher> scope;
  if (ds.update_strategy.node_selector)
    scope.emplace(*ds.update_strategy.node_selector);

  // Every virtual pod carries the same revision labels: one list for all,
  // its strings counted copies (engine::Label) in `label_bytes`.
  std::string label_bytes;
  label_bytes.reserve(
      CountedString::Footprint(kRevisionHashLabel.size()) +
      CountedString::Footprint(revision.hash.size()) +
      CountedString::Footprint(kTemplateGenerationLabel.size()) +
      CountedString::Footprint(revision.generation.size()));
  const auto counted = [&](std::string_view s) {
    const size_t at = label_bytes.size();
    label_bytes.resize(at + CountedString::Footprint(s.size()));  // reserved
    return CountedString::Write(s, label_bytes.data() + at);
  };
  std::array<Label, 2> revision_labels;
  size_t revision_label_count = 0;
  if (!revision.hash.empty()) {
    revision_labels[revision_label_count++] =
        Label(counted(kRevisionHashLabel), counted(revision.hash));
  }
  if (!revision.generation.empty()) {
    revision_labels[revision_label_count++] =
        Label(counted(kTemplateGenerationLabel), counted(revision.generation));
  }
  std::deque<Pod> virtual_pods;
  const auto new_pod = [&]() -> const Pod* {
    Pod& pod = virtual_pods.emplace_back();
    pod.namespace_name = ds.namespace_name;
    pod.phase = PodPhase::kPending;
    pod.creation_timestamp = state.now;
    pod.labels = Labels(revision_labels.data(), revision_label_count);
    return &pod;
  };
  // Each group's pods are a span of `pods`, reserved for every pod a group
  // can hold so that the spans stay valid.
  std::vector<const Pod*>& pods = pod_buffer;
  std::vector<uint8_t>& updated = updated_buffer;
  pods.clear();
  updated.clear();
  pods.reserve(state.by_node.size() + state.missing.size() +
               state.created_on.size());
  updated.reserve(pods.capacity());
  // Spans of the groups' pods from `start` on, and their updated flags.
  const auto set_pods = [&](NodeGroup& group, size_t start) {
    group.pods =
        std::span<const Pod* const>(pods.data() + start, pods.size() - start);
    group.updated = std::span<const uint8_t>(updated.data() + start,
                                             updated.size() - start);
  };

  RollingUpdateInput in;
  in.ds = &ds;
  in.availability = state.availability;
  in.now = state.now;
  in.desired = state.desired;
  // A group per node that should run the pod or has one (a created pod's
  // node should run it), not per node: 50,000 nodes of which none matches
  // would reserve 3.2 MB for nothing.
  in.groups.reserve(
      std::min(state.snapshot->nodes.size(),
               static_cast<size_t>(std::max<int64_t>(state.desired, 0)) +
                   state.by_node.size()) +
      state.missing.size());
  // A pod that becomes available changes the rolling update's budgets: the
  // earliest such time among the groups' pods, noted while they are at
  // hand.
  available_at.reset();
  // Virtual pods carry the current revision's labels, all the same ones.
  std::optional<bool> virtual_updated;
  const auto add = [&](const Pod* pod, bool is_virtual) {
    pods.push_back(pod);
    if (is_virtual) {
      if (!virtual_updated) virtual_updated = IsPodUpdated(*pod, revision);
      updated.push_back(*virtual_updated ? 1 : 0);
    } else {
      updated.push_back(is_updated(pod) ? 1 : 0);
    }
    if (auto at = BecomesAvailableAt(*pod, state.availability, state.now);
        at && *at > state.now && (!available_at || *at < *available_at)) {
      available_at = at;
    }
  };
  auto missing = state.missing.begin();
  const auto add_missing_before = [&](std::string_view limit, bool all) {
    if (scope) return;  // a vanished node matches no rollout selector
    while (missing != state.missing.end() && (all || missing->first < limit)) {
      NodeGroup group{missing->first, nullptr, {}, {}, {}};
      const size_t start = pods.size();
      for (;
           missing != state.missing.end() && missing->first == group.node_name;
           ++missing) {
        if (!is_deleted(missing->second)) add(missing->second, false);
      }
      set_pods(group, start);
      if (!group.pods.empty()) in.groups.push_back(group);
    }
  };
  size_t next_created = 0;  // created_on is in the same node-name order
  for (int32_t idx : state.nodes_by_name) {
    const Node& node = state.snapshot->nodes[static_cast<size_t>(idx)];
    if (missing != state.missing.end()) add_missing_before(node.name, false);
    const bool created = next_created < state.created_on.size() &&
                         state.created_on[next_created] == idx;
    if (created) ++next_created;
    if (scope && !scope->Matches(node.labels)) continue;
    const Eligibility& e = state.eligibility[static_cast<size_t>(idx)];
    NodeGroup group{node.name, &node, e, {}, {}};
    const auto n = static_cast<size_t>(idx);
    const size_t start = pods.size();
    for (uint32_t i = state.start[n]; i < state.start[n + 1]; ++i) {
      if (!is_deleted(state.by_node[i])) add(state.by_node[i], false);
    }
    if (created) add(new_pod(), true);
    set_pods(group, start);
    if (!group.pods.empty() || e.should_run) in.groups.push_back(group);
  }
  add_missing_before({}, true);

  return PlanRollingUpdate(in);
}

}  // namespace dsd::engine
