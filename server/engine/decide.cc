// One sync of every DaemonSet, as syncDaemonSet in
// pkg/controller/daemon/daemon_controller.go: claim pods, group them by
// node, manage (create/delete per node), the rolling update on the state
// after manage's actions, and status from the snapshot as given.
#include "server/engine/decide.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "server/engine/eligibility.h"
#include "server/engine/internal/strings.h"
#include "server/engine/pods.h"
#include "server/engine/rolling_update.h"
#include "server/engine/selectors.h"
#include "server/engine/taints.h"

namespace dsd::engine {
namespace {

constexpr int32_t kNoOwner = -1;

// Lookups shared by every DaemonSet of one Decide call.
struct ClusterIndex {
  absl::flat_hash_map<std::string_view, int32_t> node_by_name;
  std::vector<int32_t> nodes_by_name;  // node indices in name order
};

ClusterIndex IndexNodes(const Snapshot& snap) {
  ClusterIndex index;
  index.node_by_name.reserve(snap.nodes.size());
  index.nodes_by_name.resize(snap.nodes.size());
  for (size_t i = 0; i < snap.nodes.size(); ++i) {
    index.node_by_name.emplace(snap.nodes[i].name, static_cast<int32_t>(i));
    index.nodes_by_name[i] = static_cast<int32_t>(i);
  }
  std::sort(index.nodes_by_name.begin(), index.nodes_by_name.end(),
            [&](int32_t a, int32_t b) {
              return snap.nodes[static_cast<size_t>(a)].name <
                     snap.nodes[static_cast<size_t>(b)].name;
            });
  return index;
}

bool AdoptsBefore(const DaemonSet& a, const DaemonSet& b) {
  if (a.creation_timestamp != b.creation_timestamp) {
    return a.creation_timestamp < b.creation_timestamp;
  }
  if (a.namespace_name != b.namespace_name) {
    return a.namespace_name < b.namespace_name;
  }
  return a.name < b.name;
}

// ClaimPods for every DaemonSet at once: the owning DaemonSet of each pod,
// or kNoOwner. A pod whose controller is a DaemonSet counts for it while
// the selector still matches (otherwise it is released); an orphan that
// matches is adopted unless it is terminating. Upstream adopts into
// whichever DaemonSet syncs first; dsd picks the oldest, then by
// namespace/name.
std::vector<int32_t> ClaimPods(
    const Snapshot& snap, const std::vector<LabelSelectorMatcher>& matchers) {
  const auto& dss = snap.daemon_sets;
  absl::flat_hash_map<std::string_view, int32_t> by_uid;
  absl::flat_hash_map<std::string_view, std::vector<int32_t>> adopters;
  for (size_t i = 0; i < dss.size(); ++i) {
    const auto idx = static_cast<int32_t>(i);
    by_uid.emplace(dss[i].uid, idx);
    // The SelectingAll guard and deletion stop a DaemonSet before it claims.
    if (!dss[i].being_deleted && !IsEmptySelector(dss[i].selector)) {
      adopters[dss[i].namespace_name].push_back(idx);
    }
  }
  for (auto& [ns, list] : adopters) {
    std::sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
      return AdoptsBefore(dss[static_cast<size_t>(a)],
                          dss[static_cast<size_t>(b)]);
    });
  }

  std::vector<int32_t> owner(snap.pods.size(), kNoOwner);
  for (size_t p = 0; p < snap.pods.size(); ++p) {
    const Pod& pod = snap.pods[p];
    if (!pod.controller_uid.empty()) {
      const auto it = by_uid.find(pod.controller_uid);
      if (it == by_uid.end()) continue;  // another controller's pod
      const auto d = static_cast<size_t>(it->second);
      if (dss[d].namespace_name == pod.namespace_name &&
          !IsEmptySelector(dss[d].selector) &&
          matchers[d].Matches(pod.labels)) {
        owner[p] = it->second;
      }
      continue;
    }
    if (pod.terminating) continue;  // never adopt a dying pod
    const auto it = adopters.find(pod.namespace_name);
    if (it == adopters.end()) continue;
    for (int32_t d : it->second) {
      if (matchers[static_cast<size_t>(d)].Matches(pod.labels)) {
        owner[p] = d;
        break;
      }
    }
  }
  return owner;
}

// Plans one DaemonSet. Holds per-call scratch state; not reusable.
class DaemonSetDecider {
 public:
  DaemonSetDecider(const Snapshot& snap, const ClusterIndex& index,
                   const DaemonSet& ds, std::vector<const Pod*> pods,
                   absl::Time now, const Options& options)
      : snap_(snap),
        index_(index),
        ds_(ds),
        pods_(std::move(pods)),
        now_(now),
        options_(options),
        minor_(options.kubernetes_minor > 0 ? options.kubernetes_minor
                                            : kCurrentKubernetesMinor),
        predicates_(ds, options),
        revision_(Revision::Of(ds)),
        availability_{ds.min_ready_seconds, minor_ >= 34},
        surge_(AllowsSurge(ds)) {}

  DaemonSetPlan Run();

 private:
  using PodList = std::span<const Pod* const>;

  void GroupPods();
  PodList PodsOn(int32_t node) const;
  void Manage(int32_t node, const Eligibility& e, const PodList& pods);
  void KeepPods(int32_t node_index, const Eligibility& e, const PodList& pods);
  void CountStatus(const Eligibility& e, const PodList& pods);
  void PlanTaintEviction(const Node& node, const PodList& pods);
  void RollingUpdate(const std::vector<Eligibility>& eligibility);
  void NoteRequeue(absl::Time at);
  bool IsNewForSurge(const Pod& pod) const;
  bool InFailedPodBackoff(std::string_view node);
  void Delete(const Pod& pod, DeleteReason reason, std::string message);
  std::string Why(const Node& node) const;

  const Snapshot& snap_;
  const ClusterIndex& index_;
  const DaemonSet& ds_;
  const std::vector<const Pod*> pods_;  // claimed by this DaemonSet
  const absl::Time now_;
  const Options& options_;
  const int minor_;
  const DaemonSetPredicates predicates_;
  const Revision revision_;
  const AvailabilityRule availability_;
  const bool surge_;

  // Pods grouped by node index: by_node_[start_[n] .. start_[n + 1]).
  std::vector<uint32_t> start_;
  std::vector<const Pod*> by_node_;
  // Pods whose target node is not in the snapshot, by node name.
  std::vector<std::pair<std::string_view, const Pod*>> missing_;

  absl::flat_hash_set<const Pod*> deleted_;
  std::vector<int32_t> created_on_;  // node indices
  std::optional<absl::Time> requeue_at_;
  DaemonSetPlan plan_;
};

void DaemonSetDecider::GroupPods() {
  const size_t n = snap_.nodes.size();
  std::vector<int32_t> node_of(pods_.size(), -1);
  start_.assign(n + 1, 0);
  for (size_t i = 0; i < pods_.size(); ++i) {
    const Pod& pod = *pods_[i];
    // Since 1.28 terminal pods that are being deleted no longer count
    // (kubernetes#118716): their replacement is created at once.
    if (IsTerminal(pod) && pod.terminating) continue;
    const std::string_view target = TargetNodeName(pod);
    if (target.empty()) continue;  // upstream skips such pods entirely
    const auto it = index_.node_by_name.find(target);
    if (it == index_.node_by_name.end()) {
      missing_.emplace_back(target, &pod);
      continue;
    }
    node_of[i] = it->second;
    ++start_[static_cast<size_t>(it->second) + 1];
  }
  for (size_t i = 1; i <= n; ++i) start_[i] += start_[i - 1];
  by_node_.assign(start_[n], nullptr);
  std::vector<uint32_t> fill(start_.begin(), start_.end() - 1);
  for (size_t i = 0; i < pods_.size(); ++i) {
    if (node_of[i] < 0) continue;
    by_node_[fill[static_cast<size_t>(node_of[i])]++] = pods_[i];
  }
  for (size_t i = 0; i < n; ++i) {
    if (start_[i + 1] - start_[i] > 1) {
      std::sort(by_node_.begin() + start_[i], by_node_.begin() + start_[i + 1],
                [](const Pod* a, const Pod* b) { return PodBefore(*a, *b); });
    }
  }
  std::sort(missing_.begin(), missing_.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return PodBefore(*a.second, *b.second);
  });
}

DaemonSetDecider::PodList DaemonSetDecider::PodsOn(int32_t node) const {
  const auto n = static_cast<size_t>(node);
  return PodList(by_node_.data() + start_[n], start_[n + 1] - start_[n]);
}

std::string DaemonSetDecider::Why(const Node& node) const {
  std::vector<std::string> why;
  (void)predicates_.Evaluate(node, &why);
  return internal::Join(why, "; ");
}

void DaemonSetDecider::Delete(const Pod& pod, DeleteReason reason,
                              std::string message) {
  if (!deleted_.insert(&pod).second) return;  // listed once
  plan_.deletes.push_back(
      PodDelete{pod.name, pod.node_name, reason, std::move(message)});
}

void DaemonSetDecider::NoteRequeue(absl::Time at) {
  if (at <= now_) return;
  if (!requeue_at_ || at < *requeue_at_) requeue_at_ = at;
}

// flowcontrol.Backoff.IsInBackOffSinceUpdate for the node's entry: in
// back-off while now - last_update < delay; an entry older than twice the
// 15 min maximum has expired. Notes when the back-off ends.
bool DaemonSetDecider::InFailedPodBackoff(std::string_view node) {
  constexpr absl::Duration kMaxBackoff = absl::Minutes(15);
  for (const FailedPodBackoff& b : ds_.failed_pod_backoffs) {
    if (b.node != node) continue;
    const absl::Duration since = now_ - b.last_update;
    if (since > 2 * kMaxBackoff || since >= b.delay) return false;
    NoteRequeue(b.last_update + b.delay);
    return true;
  }
  return false;
}

// The surge-aware prune compares the hash label only (podsShouldBeOnNode).
// With no hash, dsd uses the generation test rather than comparing labels
// with "" (which would make every pod without the label look new).
bool DaemonSetDecider::IsNewForSurge(const Pod& pod) const {
  if (!revision_.hash.empty()) {
    const auto label = FindLabel(pod.labels, kRevisionHashLabel);
    return label && *label == revision_.hash;
  }
  return IsPodUpdated(pod, revision_);
}

// manage's per-node decision (the semantics doc, 6.1).
void DaemonSetDecider::Manage(int32_t node_index, const Eligibility& e,
                              const PodList& pods) {
  const Node& node = snap_.nodes[static_cast<size_t>(node_index)];
  if (e.should_run && pods.empty()) {
    created_on_.push_back(node_index);
    return;
  }
  if (e.should_continue_running) {
    KeepPods(node_index, e, pods);
    return;
  }
  if (pods.empty()) return;
  const std::string why = Why(node);
  for (const Pod* pod : pods) {
    if (!pod->terminating) Delete(*pod, e.stop_reason, why);
  }
}

// podsShouldBeOnNode's shouldContinueRunning branch (6.2 - 6.4).
void DaemonSetDecider::KeepPods(int32_t node_index, const Eligibility& e,
                                const PodList& pods) {
  const Node& node = snap_.nodes[static_cast<size_t>(node_index)];
  std::vector<const Pod*> running;
  // A controller with no back-off entry deletes the first failed pod and
  // holds the node's others back until the back-off expires.
  bool failed_seen = false;
  for (const Pod* pod : pods) {
    if (pod->terminating) continue;
    if (pod->phase == PodPhase::kFailed) {
      if (!failed_seen && !InFailedPodBackoff(node.name)) {
        Delete(*pod, DeleteReason::kFailedPod,
               "pod failed; it is deleted so that a new one is created");
      }
      failed_seen = true;
      continue;
    }
    if (pod->phase == PodPhase::kSucceeded) {
      Delete(*pod, DeleteReason::kSucceededPod,
             "daemon pod exited; it is deleted so that a new one is created");
      continue;
    }
    running.push_back(pod);
  }

  if (!surge_) {
    // Keep the oldest; no create while any pod is still on the node.
    for (size_t i = 1; i < running.size(); ++i) {
      Delete(*running[i], DeleteReason::kDuplicatePod,
             internal::Cat("node ", node.name, " already runs ",
                           running[0]->name));
    }
    return;
  }
  if (running.empty()) {
    // Surging: a node needs one non-deleted pod now.
    if (e.should_run) created_on_.push_back(node_index);
    return;
  }
  if (running.size() == 1) return;

  const Pod* oldest_new = nullptr;
  const Pod* oldest_old = nullptr;
  for (const Pod* pod : running) {
    const Pod*& slot = IsNewForSurge(*pod) ? oldest_new : oldest_old;
    if (slot == nullptr) {
      slot = pod;
    } else {
      Delete(*pod, DeleteReason::kDuplicatePod,
             internal::Cat("node ", node.name, " already runs ", slot->name));
    }
  }
  if (oldest_new == nullptr || oldest_old == nullptr) return;
  if (!oldest_old->ready) {
    Delete(*oldest_old, DeleteReason::kOldPodNotReady,
           internal::Cat("old-revision pod is not ready and ", oldest_new->name,
                         " replaces it"));
  } else if (IsPodAvailable(*oldest_new, availability_, now_)) {
    Delete(
        *oldest_old, DeleteReason::kSurgeReplaced,
        internal::Cat("new-revision pod ", oldest_new->name, " is available"));
  } else if (auto at = BecomesAvailableAt(*oldest_new, availability_, now_)) {
    NoteRequeue(*at);
  }
}

// updateDaemonSetStatus: one representative (the oldest) pod per node.
void DaemonSetDecider::CountStatus(const Eligibility& e, const PodList& pods) {
  DaemonSetStatus& s = plan_.status;
  if (!e.should_run) {
    if (!pods.empty()) ++s.number_misscheduled;
    return;
  }
  ++s.desired_number_scheduled;
  if (pods.empty()) return;
  ++s.current_number_scheduled;
  const Pod& rep = *pods.front();
  if (rep.ready) {
    ++s.number_ready;
    if (IsPodAvailable(rep, availability_, now_)) {
      ++s.number_available;
    } else if (auto at = BecomesAvailableAt(rep, availability_, now_)) {
      NoteRequeue(*at);
    }
  }
  if (IsPodUpdated(rep, revision_)) ++s.updated_number_scheduled;
}

// The taint-eviction controller, approximated (the semantics doc, 9): a pod
// is evicted at time_added (or now) + the tolerationSeconds of the first
// toleration matching each NoExecute taint, the earliest such deadline.
void DaemonSetDecider::PlanTaintEviction(const Node& node,
                                         const PodList& pods) {
  std::optional<absl::Time> evict_at;
  for (const Taint& taint : node.taints) {
    if (taint.effect != TaintEffect::kNoExecute) continue;
    const Toleration* first = nullptr;
    for (const Toleration& t : predicates_.tolerations()) {
      if (Tolerates(t, taint, options_.toleration_comparison_operators)) {
        first = &t;
        break;
      }
    }
    if (first == nullptr || !first->toleration_seconds) continue;
    const absl::Time at =
        taint.time_added.value_or(now_) +
        absl::Seconds(std::max<int64_t>(0, *first->toleration_seconds));
    if (!evict_at || at < *evict_at) evict_at = at;
  }
  if (!evict_at) return;
  if (*evict_at > now_) {
    NoteRequeue(*evict_at);
    return;
  }
  for (const Pod* pod : pods) {
    if (pod->terminating || deleted_.contains(pod)) continue;
    Delete(
        *pod, DeleteReason::kTaintEviction,
        internal::Cat("taint-eviction controller: a NoExecute toleration "
                      "on node ",
                      node.name, " expired at ", absl::FormatTime(*evict_at)));
  }
}

// The rolling update on the state after manage's actions ("virtual apply",
// the semantics doc 7.7): manage's deletes are gone, its creates are
// not-ready pods of the current revision.
void DaemonSetDecider::RollingUpdate(
    const std::vector<Eligibility>& eligibility) {
  if (ds_.update_strategy.type != UpdateStrategyType::kRollingUpdate) return;
  if (!revision_.known()) {
    plan_.notes.push_back(
        "no revision hash and no template generation: updated pods cannot "
        "be told from old ones, so no rolling update is planned");
    return;
  }
  if (!options_.rolling_update_after_manage &&
      (!plan_.deletes.empty() || !created_on_.empty())) {
    return;  // one-sync fidelity: expectations are not yet satisfied
  }
  const UpdateStrategy& strategy = ds_.update_strategy;
  if (strategy.paused) {
    plan_.notes.push_back(
        "rolling update paused: no old pod is replaced (nodes without a pod "
        "still get one)");
    return;
  }
  // dsd extension: only nodes matching the rollout selector take part.
  std::optional<LabelSelectorMatcher> scope;
  if (strategy.node_selector) scope.emplace(*strategy.node_selector);

  std::deque<Pod> virtual_pods;
  const auto new_pod = [&]() -> const Pod* {
    Pod& pod = virtual_pods.emplace_back();
    pod.namespace_name = ds_.namespace_name;
    pod.phase = PodPhase::kPending;
    pod.creation_timestamp = now_;
    if (!revision_.hash.empty()) {
      pod.labels.push_back({kRevisionHashLabel, revision_.hash});
    }
    if (!revision_.generation.empty()) {
      pod.labels.push_back({kTemplateGenerationLabel, revision_.generation});
    }
    return &pod;
  };
  absl::flat_hash_set<int32_t> created(created_on_.begin(), created_on_.end());

  RollingUpdateInput in;
  in.ds = &ds_;
  in.revision = &revision_;
  in.availability = availability_;
  in.now = now_;
  in.desired = plan_.status.desired_number_scheduled;
  auto missing = missing_.begin();
  const auto add_missing_before = [&](std::string_view limit, bool all) {
    if (scope) return;  // a vanished node matches no rollout selector
    while (missing != missing_.end() && (all || missing->first < limit)) {
      NodeGroup group{missing->first, nullptr, {}, {}};
      for (; missing != missing_.end() && missing->first == group.node_name;
           ++missing) {
        if (!deleted_.contains(missing->second)) {
          group.pods.push_back(missing->second);
        }
      }
      if (!group.pods.empty()) in.groups.push_back(std::move(group));
    }
  };
  for (int32_t idx : index_.nodes_by_name) {
    const Node& node = snap_.nodes[static_cast<size_t>(idx)];
    add_missing_before(node.name, false);
    if (scope && !scope->Matches(node.labels)) continue;
    const Eligibility& e = eligibility[static_cast<size_t>(idx)];
    NodeGroup group{node.name, &node, e, {}};
    const auto n = static_cast<size_t>(idx);
    for (uint32_t i = start_[n]; i < start_[n + 1]; ++i) {
      if (!deleted_.contains(by_node_[i])) group.pods.push_back(by_node_[i]);
    }
    if (created.contains(idx)) group.pods.push_back(new_pod());
    if (!group.pods.empty() || e.should_run)
      in.groups.push_back(std::move(group));
  }
  add_missing_before({}, true);

  RollingUpdateResult result = PlanRollingUpdate(in);
  if (result.aborted) {
    plan_.notes.push_back(
        internal::Cat("rolling update not planned: ", *result.aborted));
    return;
  }
  for (const PodCreate& c : result.creates) {
    plan_.creates.push_back(c);
  }
  for (PodDelete& d : result.deletes) {
    // Rolling-update deletes name real pods only (virtual pods are new).
    plan_.deletes.push_back(std::move(d));
  }
  // A pod that becomes available changes the rolling update's budgets.
  for (const NodeGroup& g : in.groups) {
    for (const Pod* pod : g.pods) {
      if (auto at = BecomesAvailableAt(*pod, availability_, now_)) {
        NoteRequeue(*at);
      }
    }
  }
}

DaemonSetPlan DaemonSetDecider::Run() {
  plan_.namespace_name = ds_.namespace_name;
  plan_.name = ds_.name;
  plan_.revision_unknown = ds_.current_revision_hash.empty();
  if (IsEmptySelector(ds_.selector)) {
    // Upstream emits the SelectingAll warning and does nothing else.
    plan_.notes.push_back(
        "SelectingAll: the DaemonSet selector is empty and would select "
        "every pod; Kubernetes takes no action and writes no status");
    return std::move(plan_);
  }

  GroupPods();
  std::vector<Eligibility> eligibility(snap_.nodes.size());
  const bool act = !ds_.being_deleted;
  for (int32_t idx : index_.nodes_by_name) {
    const Node& node = snap_.nodes[static_cast<size_t>(idx)];
    std::vector<std::string> why;
    const Eligibility e =
        predicates_.Evaluate(node, options_.explain ? &why : nullptr);
    eligibility[static_cast<size_t>(idx)] = e;
    if (options_.explain) {
      plan_.explanations.push_back(NodeExplanation{
          node.name, e.should_run, e.should_continue_running, std::move(why)});
    }
    const PodList pods = PodsOn(idx);
    CountStatus(e, pods);
    if (!act) continue;
    Manage(idx, e, pods);
    if (options_.taint_eviction && e.should_continue_running) {
      PlanTaintEviction(node, pods);
    }
  }
  plan_.status.number_unavailable =
      plan_.status.desired_number_scheduled - plan_.status.number_available;
  if (!act) {
    plan_.notes.push_back(
        "the DaemonSet is being deleted: the garbage collector removes its "
        "pods and the controller takes no action");
    return std::move(plan_);
  }

  // getUnscheduledPodsWithoutNode: unbound pods aimed at a vanished node.
  // Bound pods there are left to the pod garbage collector.
  for (const auto& [node_name, pod] : missing_) {
    if (pod->node_name.empty() && !pod->terminating) {
      Delete(*pod, DeleteReason::kNodeGone,
             internal::Cat("target node ", node_name, " does not exist"));
    }
  }

  RollingUpdate(eligibility);

  for (int32_t idx : created_on_) {
    plan_.creates.push_back(
        PodCreate{snap_.nodes[static_cast<size_t>(idx)].name});
  }
  std::sort(
      plan_.creates.begin(), plan_.creates.end(),
      [](const PodCreate& a, const PodCreate& b) { return a.node < b.node; });
  std::sort(
      plan_.deletes.begin(), plan_.deletes.end(),
      [](const PodDelete& a, const PodDelete& b) { return a.pod < b.pod; });
  if (requeue_at_) plan_.requeue_after = *requeue_at_ - now_;
  return std::move(plan_);
}

}  // namespace

Plan Decide(const Snapshot& snap, absl::Time now, const Options& options,
            const std::function<bool()>& cancelled) {
  const ClusterIndex index = IndexNodes(snap);
  std::vector<LabelSelectorMatcher> matchers;
  matchers.reserve(snap.daemon_sets.size());
  for (const DaemonSet& ds : snap.daemon_sets)
    matchers.emplace_back(ds.selector);
  const std::vector<int32_t> owner = ClaimPods(snap, matchers);

  std::vector<std::vector<const Pod*>> claimed(snap.daemon_sets.size());
  for (size_t p = 0; p < owner.size(); ++p) {
    if (owner[p] != kNoOwner) {
      claimed[static_cast<size_t>(owner[p])].push_back(&snap.pods[p]);
    }
  }

  std::vector<size_t> order(snap.daemon_sets.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const DaemonSet& x = snap.daemon_sets[a];
    const DaemonSet& y = snap.daemon_sets[b];
    if (x.namespace_name != y.namespace_name) {
      return x.namespace_name < y.namespace_name;
    }
    return x.name < y.name;
  });

  Plan plan;
  plan.daemon_sets.reserve(order.size());
  for (size_t d : order) {
    if (cancelled && cancelled()) {
      plan.cancelled = true;
      break;
    }
    DaemonSetDecider decider(snap, index, snap.daemon_sets[d],
                             std::move(claimed[d]), now, options);
    plan.daemon_sets.push_back(decider.Run());
  }
  return plan;
}

}  // namespace dsd::engine
