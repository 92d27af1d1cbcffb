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
#include "server/common/cancel.h"
#include "server/common/hash.h"
#include "server/engine/eligibility.h"
#include "server/engine/internal/strings.h"
#include "server/engine/pods.h"
#include "server/engine/rolling_update.h"
#include "server/engine/selectors.h"
#include "server/engine/taints.h"

namespace dsd::engine {
namespace {

constexpr int32_t kNoOwner = -1;

// Maps keyed by names and uids, with the inline string hash (see
// common/hash.h: Abseil's default for std::string_view is slow here).
template <typename V>
using StringMap =
    absl::flat_hash_map<std::string_view, V, common::StringViewHash,
                        common::StringViewEq>;

// Lookups shared by every DaemonSet of one Decide call.
class ClusterIndex {
 public:
  explicit ClusterIndex(const Snapshot& snap);

  // Node indices in name order.
  const std::vector<int32_t>& nodes_by_name() const { return nodes_by_name_; }

  // The index of the node named `name`, or -1. `hint` is what the pod
  // carries (Pod::node_index) when `name` is its node_name: a converted
  // snapshot's pods come with their node looked up, and then no map of
  // node names is built at all (at 50,000 nodes it would take 1.6 MB).
  int32_t NodeNamed(std::string_view name, int32_t hint) const {
    if (hint == Pod::kNoSuchNode) return -1;
    if (hint >= 0 && static_cast<size_t>(hint) < snap_.nodes.size() &&
        snap_.nodes[static_cast<size_t>(hint)].name == name) {
      return hint;
    }
    if (!node_by_name_) {
      node_by_name_.emplace();
      node_by_name_->reserve(snap_.nodes.size());
      for (size_t i = 0; i < snap_.nodes.size(); ++i) {
        node_by_name_->emplace(snap_.nodes[i].name, static_cast<int32_t>(i));
      }
    }
    const auto it = node_by_name_->find(name);
    return it == node_by_name_->end() ? -1 : it->second;
  }

 private:
  const Snapshot& snap_;
  std::vector<int32_t> nodes_by_name_;
  // Built on the first lookup without a hint (DaemonSets are decided one
  // after another: no lock).
  mutable std::optional<StringMap<int32_t>> node_by_name_;
};

// Per-call working memory the DaemonSets use one after another, so that
// planning a DaemonSet allocates nothing per node or per pod.
struct Scratch {
  Scratch(const Snapshot& snap, const std::function<bool()>& cancelled)
      : deleted(snap.pods.size(), 0),
        updated(snap.pods.size(), 0),
        cancel(cancelled) {}

  // Whether a pod of the snapshot (by index) is already in the plan's
  // deletes; reset after each DaemonSet through `deleted_list`.
  std::vector<uint8_t> deleted;
  std::vector<uint32_t> deleted_list;
  void ResetDeleted() {
    for (uint32_t i : deleted_list) deleted[i] = 0;
    deleted_list.clear();
  }

  // IsPodUpdated of each grouped pod of the DaemonSet being planned (by
  // snapshot pod index; each pod belongs to one DaemonSet): computed once,
  // read by the status count and the rolling update.
  std::vector<uint8_t> updated;

  std::vector<const Pod*> running;  // KeepPods
  // The rolling update's node groups' pods, one after another, and
  // whether each is updated.
  std::vector<const Pod*> group_pods;
  std::vector<uint8_t> group_updated;

  // Eligibility of every node (by node index) for each distinct set of
  // scheduling predicates met so far: DaemonSets that schedule alike share
  // one evaluation. Bounded, so that many distinct DaemonSets cost at most
  // a few comparisons each.
  struct Evaluated {
    DaemonSetPredicates predicates;
    std::vector<Eligibility> by_node;
  };
  static constexpr size_t kMaxEvaluated = 16;
  std::deque<Evaluated> evaluated;
  std::vector<Eligibility> eligibility;  // when not kept in `evaluated`

  common::CancelPoll cancel;
  // Explanation text produced so far, against Options::explain_budget_bytes.
  size_t explain_bytes = 0;
  bool explain_over_budget = false;
};

// The first 8 bytes of `s`, big-endian, zero-padded: if NamePrefix(a) <
// NamePrefix(b) then a < b byte-wise (a string that ends first pads with
// zeros, which sort before any byte it could be compared with, or the
// two are equal there and the full compare decides).
uint64_t NamePrefix(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
  }
  return v;
}

ClusterIndex::ClusterIndex(const Snapshot& snap) : snap_(snap) {
  // Sorted by name through each name's first 8 bytes as an integer: most
  // comparisons are then one integer compare rather than a memcmp call
  // through two names in memory (sorting 50,000 names was about a tenth
  // of a Decide of one DaemonSet on them). A merge sort: names numbered in
  // numeric order (n0, n1, ..., n9999) made introsort's pivots bad enough
  // to fall back to heapsort, which took 7% of such a request; the merge
  // buffer (8 bytes a node) comes after conversion's peak.
  struct Key {
    uint64_t prefix;
    int32_t node;
  };
  std::vector<Key> keys(snap.nodes.size());
  for (size_t i = 0; i < snap.nodes.size(); ++i) {
    keys[i] = {NamePrefix(snap.nodes[i].name), static_cast<int32_t>(i)};
  }
  std::stable_sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return snap.nodes[static_cast<size_t>(a.node)].name <
           snap.nodes[static_cast<size_t>(b.node)].name;
  });
  nodes_by_name_.resize(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) nodes_by_name_[i] = keys[i].node;
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
// The DaemonSets of one namespace that adopt orphans, in adoption order.
// With many of them, each is also filed under its first matchLabels pair:
// an orphan is then tried only against those filed under one of its own
// labels and those without matchLabels (a pod lacking that pair cannot
// match), not against every DaemonSet of the namespace.
struct Adopters {
  std::vector<int32_t> order;  // DaemonSet indices, in adoption order
  // Only with more than kIndexAbove DaemonSets: positions in `order`.
  absl::flat_hash_map<std::pair<std::string_view, std::string_view>,
                      std::vector<uint32_t>>
      by_first_label;
  std::vector<uint32_t> without_labels;
  static constexpr size_t kIndexAbove = 8;

  void Index(const std::vector<DaemonSet>& dss) {
    if (order.size() <= kIndexAbove) return;
    for (size_t i = 0; i < order.size(); ++i) {
      const Labels& ml =
          dss[static_cast<size_t>(order[i])].selector.match_labels;
      if (ml.empty()) {
        without_labels.push_back(static_cast<uint32_t>(i));
      } else {
        by_first_label[{ml[0].key(), ml[0].value()}].push_back(
            static_cast<uint32_t>(i));
      }
    }
  }

  // The first DaemonSet in adoption order whose selector matches `labels`,
  // or kNoOwner; `candidates` is scratch.
  int32_t Adopter(const Labels& labels,
                  const std::vector<LabelSelectorMatcher>& matchers,
                  std::vector<uint32_t>& candidates,
                  common::CancelPoll& cancel) const {
    const auto matches = [&](uint32_t position) {
      return matchers[static_cast<size_t>(order[position])].Matches(labels);
    };
    if (order.size() <= kIndexAbove) {
      for (uint32_t i = 0; i < order.size(); ++i) {
        if (cancel.Tick()) return kNoOwner;
        if (matches(i)) return order[i];
      }
      return kNoOwner;
    }
    candidates.assign(without_labels.begin(), without_labels.end());
    for (const Label& l : labels) {
      const auto it = by_first_label.find(std::pair(l.key(), l.value()));
      if (it != by_first_label.end()) {
        candidates.insert(candidates.end(), it->second.begin(),
                          it->second.end());
      }
    }
    std::sort(candidates.begin(), candidates.end());
    for (uint32_t position : candidates) {
      if (cancel.Tick()) return kNoOwner;
      if (matches(position)) return order[position];
    }
    return kNoOwner;
  }
};

// Stops early (the result then is meaningless) once `cancel` says so.
std::vector<int32_t> ClaimPods(
    const Snapshot& snap, const std::vector<LabelSelectorMatcher>& matchers,
    common::CancelPoll& cancel) {
  const auto& dss = snap.daemon_sets;
  StringMap<int32_t> by_uid;
  StringMap<Adopters> adopters;
  by_uid.reserve(dss.size());
  for (size_t i = 0; i < dss.size(); ++i) {
    const auto idx = static_cast<int32_t>(i);
    by_uid.emplace(dss[i].uid, idx);
    // The SelectingAll guard and deletion stop a DaemonSet before it claims.
    if (!dss[i].being_deleted && !IsEmptySelector(dss[i].selector)) {
      adopters[dss[i].namespace_name].order.push_back(idx);
    }
  }
  for (auto& [ns, list] : adopters) {
    std::sort(list.order.begin(), list.order.end(), [&](int32_t a, int32_t b) {
      return AdoptsBefore(dss[static_cast<size_t>(a)],
                          dss[static_cast<size_t>(b)]);
    });
    list.Index(dss);
  }
  std::vector<uint32_t> candidates;

  std::vector<int32_t> owner(snap.pods.size(), kNoOwner);
  // Pods come mostly grouped by owner (the API lists them by namespace and
  // name, and a DaemonSet's pods share its name as prefix): remember the
  // last lookup.
  std::string_view last_uid;
  int32_t last_owner = kNoOwner;
  for (size_t p = 0; p < snap.pods.size(); ++p) {
    if (cancel.Tick()) break;
    const Pod& pod = snap.pods[p];
    if (!pod.controller_uid.empty()) {
      if (!common::Equal(pod.controller_uid, last_uid)) {
        const auto it = by_uid.find(pod.controller_uid);
        last_uid = pod.controller_uid;
        last_owner = it == by_uid.end() ? kNoOwner : it->second;
      }
      if (last_owner == kNoOwner) continue;  // another controller's pod
      const auto d = static_cast<size_t>(last_owner);
      if (common::Equal(dss[d].namespace_name, pod.namespace_name) &&
          !IsEmptySelector(dss[d].selector) &&
          matchers[d].Matches(pod.labels)) {
        owner[p] = last_owner;
      }
      continue;
    }
    if (pod.terminating) continue;  // never adopt a dying pod
    const auto it = adopters.find(pod.namespace_name);
    if (it == adopters.end()) continue;
    owner[p] = it->second.Adopter(pod.labels, matchers, candidates, cancel);
  }
  return owner;
}

// Plans one DaemonSet. Holds per-call scratch state; not reusable.
class DaemonSetDecider {
 public:
  DaemonSetDecider(const Snapshot& snap, const ClusterIndex& index,
                   Scratch& scratch, const DaemonSet& ds,
                   std::vector<const Pod*> pods, absl::Time now,
                   const Options& options)
      : snap_(snap),
        index_(index),
        scratch_(scratch),
        ds_(ds),
        pods_(std::move(pods)),
        now_(now),
        options_(options),
        minor_(EmulatedKubernetesMinor(options.kubernetes_minor)),
        predicates_(ds, options),
        revision_(Revision::Of(ds)),
        availability_{ds.min_ready_seconds, minor_ >= 34},
        surge_(AllowsSurge(ds)),
        explain_(options.explain &&
                 (options.explain_daemon_set.empty() ||
                  options.explain_daemon_set ==
                      internal::Cat(ds.namespace_name, "/", ds.name))) {
    // A long back-off list is looked up by node (each node asks once).
    if (ds.failed_pod_backoffs.size() > 8) {
      backoff_by_node_.reserve(ds.failed_pod_backoffs.size());
      for (const FailedPodBackoff& b : ds.failed_pod_backoffs) {
        backoff_by_node_.try_emplace(b.node, &b);
      }
    }
  }

  DaemonSetPlan Run();

 private:
  // Run without Options::explain_action_nodes_only.
  DaemonSetPlan RunRules();
  using PodList = std::span<const Pod* const>;

  void GroupPods();
  PodList PodsOn(int32_t node) const;
  void Manage(int32_t node, const Eligibility& e, const PodList& pods);
  void KeepPods(int32_t node_index, const Eligibility& e, const PodList& pods);
  void CountStatus(const Eligibility& e, const PodList& pods);
  void PlanTaintEviction(const Node& node, const PodList& pods);
  const std::vector<Eligibility>& EvaluateNodes();
  Eligibility Explain(const Node& node);
  // Counts `explanation` against Options::explain_budget_bytes; false (and
  // Scratch::explain_over_budget set) once the budget is spent.
  bool WithinBudget(const NodeExplanation& explanation);
  // Options::explain_action_nodes_only: drops the explanations of nodes
  // without a create or a delete, counting the kept ones.
  void KeepActionExplanations(DaemonSetPlan& plan);
  void RollingUpdate(const std::vector<Eligibility>& eligibility);
  void NoteRequeue(absl::Time at);
  bool IsNewForSurge(const Pod& pod) const;
  bool InFailedPodBackoff(std::string_view node);
  bool IsDeleted(const Pod* pod) const {
    return scratch_.deleted[static_cast<size_t>(pod - snap_.pods.data())] != 0;
  }
  // IsPodUpdated of a grouped snapshot pod (see Scratch::updated).
  bool IsUpdated(const Pod* pod) const {
    return scratch_.updated[static_cast<size_t>(pod - snap_.pods.data())] != 0;
  }
  void Delete(const Pod& pod, DeleteReason reason, std::string message);
  std::string Why(const Node& node) const;

  const Snapshot& snap_;
  const ClusterIndex& index_;
  Scratch& scratch_;
  const DaemonSet& ds_;
  const std::vector<const Pod*> pods_;  // claimed by this DaemonSet
  const absl::Time now_;
  const Options& options_;
  const int minor_;
  const DaemonSetPredicates predicates_;
  const Revision revision_;
  const AvailabilityRule availability_;
  const bool surge_;
  // Whether this DaemonSet's nodes are explained (Options::explain and its
  // filter); cleared once the explanation budget is spent.
  bool explain_;
  StringMap<const FailedPodBackoff*> backoff_by_node_;  // see the constructor

  // Pods grouped by node index: by_node_[start_[n] .. start_[n + 1]).
  std::vector<uint32_t> start_;
  std::vector<const Pod*> by_node_;
  // Pods whose target node is not in the snapshot, by node name.
  std::vector<std::pair<std::string_view, const Pod*>> missing_;

  // Node indices, in node-name order (the order of the node loop).
  std::vector<int32_t> created_on_;
  std::optional<absl::Time> requeue_at_;
  DaemonSetPlan plan_;
};

void DaemonSetDecider::GroupPods() {
  const size_t n = snap_.nodes.size();
  std::vector<int32_t> node_of(pods_.size(), -1);
  start_.assign(n + 1, 0);
  for (size_t i = 0; i < pods_.size(); ++i) {
    if (scratch_.cancel.Tick()) return;
    const Pod& pod = *pods_[i];
    // Since 1.28 terminal pods that are being deleted no longer count
    // (kubernetes#118716): their replacement is created at once.
    if (IsTerminal(pod) && pod.terminating) continue;
    const std::string_view target = TargetNodeName(pod);
    if (target.empty()) continue;  // upstream skips such pods entirely
    scratch_.updated[static_cast<size_t>(&pod - snap_.pods.data())] =
        IsPodUpdated(pod, revision_) ? 1 : 0;
    // The target is the pod's node_name when it has one.
    const int32_t node = index_.NodeNamed(
        target, pod.node_name.empty() ? Pod::kNodeNotLooked : pod.node_index);
    if (node < 0) {
      missing_.emplace_back(target, &pod);
      continue;
    }
    node_of[i] = node;
    ++start_[static_cast<size_t>(node) + 1];
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
  // Listed once. Every pod Delete sees is a snapshot pod (virtual pods
  // are new and never deleted by manage).
  const auto index = static_cast<size_t>(&pod - snap_.pods.data());
  if (scratch_.deleted[index] != 0) return;
  scratch_.deleted[index] = 1;
  scratch_.deleted_list.push_back(static_cast<uint32_t>(index));
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
  const FailedPodBackoff* entry = nullptr;
  if (!backoff_by_node_.empty()) {
    const auto it = backoff_by_node_.find(node);
    if (it != backoff_by_node_.end()) entry = it->second;
  } else {
    for (const FailedPodBackoff& b : ds_.failed_pod_backoffs) {
      if (b.node == node) {
        entry = &b;
        break;
      }
    }
  }
  if (entry == nullptr) return false;
  const absl::Duration since = now_ - entry->last_update;
  if (since > 2 * kMaxBackoff || since >= entry->delay) return false;
  NoteRequeue(entry->last_update + entry->delay);
  return true;
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
  // The common case, one pod that is neither terminating nor terminal:
  // the general path below would keep it and do nothing else.
  if (pods.size() == 1 && !pods[0]->terminating && !IsTerminal(*pods[0])) {
    return;
  }
  const Node& node = snap_.nodes[static_cast<size_t>(node_index)];
  std::vector<const Pod*>& running = scratch_.running;
  running.clear();
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
  if (IsUpdated(&rep)) ++s.updated_number_scheduled;
}

// The taint-eviction controller, approximated (the semantics doc, 9): a pod
// is evicted at time_added (or now) + the tolerationSeconds of the first
// toleration matching each NoExecute taint, the earliest such deadline.
void DaemonSetDecider::PlanTaintEviction(const Node& node,
                                         const PodList& pods) {
  std::optional<absl::Time> evict_at;
  for (const Taint& taint : node.taints) {
    if (taint.effect() != TaintEffect::kNoExecute) continue;
    const int index = predicates_.toleration_matcher().FirstTolerating(taint);
    if (index < 0) continue;
    const Toleration* first =
        &predicates_.tolerations()[static_cast<size_t>(index)];
    if (!first->toleration_seconds) continue;
    const absl::Time at =
        taint.time_added().value_or(now_) +
        absl::Seconds(std::max<int64_t>(0, *first->toleration_seconds));
    if (!evict_at || at < *evict_at) evict_at = at;
  }
  if (!evict_at) return;
  if (*evict_at > now_) {
    NoteRequeue(*evict_at);
    return;
  }
  for (const Pod* pod : pods) {
    if (pod->terminating || IsDeleted(pod)) continue;
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
  if (ds_.update_strategy.paused) {
    plan_.notes.push_back(
        "rolling update paused: no old pod is replaced (nodes without a pod "
        "still get one)");
    return;
  }
  AfterManage state;
  state.snapshot = &snap_;
  state.ds = &ds_;
  state.revision = &revision_;
  state.availability = availability_;
  state.now = now_;
  state.desired = plan_.status.desired_number_scheduled;
  state.nodes_by_name = index_.nodes_by_name();
  state.eligibility = eligibility;
  state.start = start_;
  state.by_node = by_node_;
  state.missing = missing_;
  state.created_on = created_on_;
  state.deleted = scratch_.deleted;
  state.updated = scratch_.updated;
  std::optional<absl::Time> available_at;
  RollingUpdateResult result = PlanRollingUpdateAfterManage(
      state, scratch_.group_pods, scratch_.group_updated, available_at);
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
  if (available_at) NoteRequeue(*available_at);
}

// Eligibility of `node`, explained in the plan when asked for it (the node
// filter) and while the explanation budget lasts.
Eligibility DaemonSetDecider::Explain(const Node& node) {
  if (!explain_ ||
      (!options_.explain_node.empty() && node.name != options_.explain_node)) {
    return predicates_.Evaluate(node, nullptr);
  }
  std::vector<std::string> why;
  const Eligibility e = predicates_.Evaluate(node, &why);
  NodeExplanation explanation{node.name, e.should_run,
                              e.should_continue_running, std::move(why)};
  // Action nodes only: counted once the actions are known
  // (KeepActionExplanations).
  if (!options_.explain_action_nodes_only && !WithinBudget(explanation)) {
    explain_ = false;
    return e;
  }
  plan_.explanations.push_back(std::move(explanation));
  return e;
}

bool DaemonSetDecider::WithinBudget(const NodeExplanation& explanation) {
  size_t bytes = explanation.node.size();
  for (const std::string& w : explanation.failed_predicates) bytes += w.size();
  scratch_.explain_bytes += bytes;
  if (options_.explain_budget_bytes != 0 &&
      scratch_.explain_bytes > options_.explain_budget_bytes) {
    scratch_.explain_over_budget = true;
  }
  return !scratch_.explain_over_budget;
}

void DaemonSetDecider::KeepActionExplanations(DaemonSetPlan& plan) {
  std::vector<std::string_view> acted;
  for (const PodCreate& c : plan.creates) acted.push_back(c.node);
  for (const PodDelete& d : plan.deletes) acted.push_back(d.node);
  std::sort(acted.begin(), acted.end());
  size_t kept = 0;
  for (NodeExplanation& e : plan.explanations) {
    if (!std::binary_search(acted.begin(), acted.end(), e.node)) continue;
    if (!WithinBudget(e)) break;
    plan.explanations[kept++] = std::move(e);
  }
  plan.explanations.resize(kept);
}

// Eligibility of every node by node index (not for explanations, which
// evaluate each node with reasons).
const std::vector<Eligibility>& DaemonSetDecider::EvaluateNodes() {
  for (const Scratch::Evaluated& e : scratch_.evaluated) {
    if (e.predicates.SameDecisions(predicates_)) return e.by_node;
  }
  std::vector<Eligibility>* out = &scratch_.eligibility;
  if (scratch_.evaluated.size() < Scratch::kMaxEvaluated) {
    out = &scratch_.evaluated.emplace_back(Scratch::Evaluated{predicates_, {}})
               .by_node;
  }
  out->resize(snap_.nodes.size());
  for (size_t i = 0; i < snap_.nodes.size(); ++i) {
    if (scratch_.cancel.Tick()) {
      // Incomplete: never reused by another DaemonSet.
      if (out != &scratch_.eligibility) scratch_.evaluated.pop_back();
      return scratch_.eligibility;
    }
    (*out)[i] = predicates_.Evaluate(snap_.nodes[i], nullptr);
  }
  return *out;
}

DaemonSetPlan DaemonSetDecider::Run() {
  DaemonSetPlan plan = RunRules();
  if (explain_ && options_.explain_action_nodes_only) {
    KeepActionExplanations(plan);
  }
  return plan;
}

DaemonSetPlan DaemonSetDecider::RunRules() {
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
  const bool act = !ds_.being_deleted;
  // Explanations evaluate each node with its reasons, in name order.
  const bool explaining = explain_;
  if (explaining) scratch_.eligibility.resize(snap_.nodes.size());
  const std::vector<Eligibility>& eligibility =
      explaining ? scratch_.eligibility : EvaluateNodes();
  for (int32_t idx : index_.nodes_by_name()) {
    if (scratch_.cancel.Tick()) return std::move(plan_);
    const Node& node = snap_.nodes[static_cast<size_t>(idx)];
    Eligibility e;
    if (explaining) {
      e = Explain(node);
      scratch_.eligibility[static_cast<size_t>(idx)] = e;
    } else {
      e = eligibility[static_cast<size_t>(idx)];
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
  const ClusterIndex index(snap);
  std::vector<LabelSelectorMatcher> matchers;
  matchers.reserve(snap.daemon_sets.size());
  for (const DaemonSet& ds : snap.daemon_sets)
    matchers.emplace_back(ds.selector);
  Scratch scratch(snap, cancelled);
  const std::vector<int32_t> owner = ClaimPods(snap, matchers, scratch.cancel);
  if (scratch.cancel.stopped()) return Plan{{}, true, false};

  std::vector<std::vector<const Pod*>> claimed(snap.daemon_sets.size());
  {
    std::vector<size_t> count(snap.daemon_sets.size(), 0);
    for (int32_t d : owner) {
      if (d != kNoOwner) ++count[static_cast<size_t>(d)];
    }
    for (size_t d = 0; d < claimed.size(); ++d) claimed[d].reserve(count[d]);
  }
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
    if (scratch.cancel.Check()) break;
    DaemonSetDecider decider(snap, index, scratch, snap.daemon_sets[d],
                             std::move(claimed[d]), now, options);
    plan.daemon_sets.push_back(decider.Run());
    scratch.ResetDeleted();
  }
  plan.cancelled = scratch.cancel.stopped();
  plan.explain_over_budget = scratch.explain_over_budget;
  return plan;
}

}  // namespace dsd::engine
