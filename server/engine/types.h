// Domain types of the dsd decision engine: the parts of Nodes, DaemonSets and
// Pods that the Kubernetes DaemonSet controller reads, and the plan it
// produces. Pure C++ and Abseil: no protobuf, gRPC, logging, clock or I/O.
//
// Strings are std::string_view and label lists are std::span views. Whoever
// builds a Snapshot owns the bytes the views point to for as long as the
// snapshot and any Plan made from it live: convert points into the request
// message and fills label lists into the snapshot's own blocks
// (Snapshot::AllocateLabels), tests use Snapshot::Intern and InternLabels.
// Labels and taints are the exception: their strings are always the
// snapshot's own copies (Snapshot::MakeLabel, MakeTaint), which lets each
// be 16 bytes.
#ifndef DSD_SERVER_ENGINE_TYPES_H_
#define DSD_SERVER_ENGINE_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace dsd::engine {

// A string the snapshot copied with its size written in the bytes just
// before it (Snapshot::CopyCounted): the pointer alone is the string. A
// request may carry 300,000 labels of 7 bytes each on the wire (issue 11,
// shape 7); two such strings make a 16-byte Label rather than two views.
class CountedString {
 public:
  CountedString() = default;  // empty
  // `copy` is what Snapshot::CopyCounted returned, or empty.
  static CountedString Of(std::string_view copy) {
    return copy.empty() ? CountedString() : CountedString(copy.data());
  }

  const char* data() const { return data_; }
  size_t size() const {
    const auto* p = reinterpret_cast<const unsigned char*>(data_);
    return p[-1] < 0x80 ? p[-1] : LongSize(p);
  }
  std::string_view view() const { return {data_, size()}; }

  // How the size is written: 7 bits a byte, the nearest byte holding the
  // lowest bits, its high bit set when a farther byte follows.
  static size_t PrefixSize(size_t size);
  // The bytes a string of `size` bytes takes counted.
  static size_t Footprint(size_t size) { return PrefixSize(size) + size; }
  // Writes `s` counted at `out`, which has room for Footprint(s.size())
  // bytes, and returns it there (empty or not).
  static CountedString Write(std::string_view s, char* out);

 private:
  explicit CountedString(const char* data) : data_(data) {}
  static size_t LongSize(const unsigned char* p);

  static constexpr char kEmpty[1] = {0};
  const char* data_ = kEmpty + 1;
};

// One metadata label. Keys are unique within a Labels list. Made by
// Snapshot::MakeLabel, or from strings Snapshot::CopyCounted made.
class Label {
 public:
  Label() = default;
  Label(CountedString key, CountedString value) : key_(key), value_(value) {}

  std::string_view key() const { return key_.view(); }
  std::string_view value() const { return value_.view(); }

  friend bool operator==(const Label& a, const Label& b) {
    return a.key() == b.key() && a.value() == b.value();
  }

 private:
  CountedString key_;
  CountedString value_;
};
static_assert(sizeof(Label) == 16);

// A view, not a container: a request's label lists are filled into a few
// large blocks the snapshot owns rather than allocated one per object (the
// per-pod allocations dominated conversion). Build lists with
// Snapshot::InternLabels (or AllocateLabels).
using Labels = std::span<const Label>;

// Value of `key` in `labels`, or nullopt when the key is absent.
std::optional<std::string_view> FindLabel(const Labels& labels,
                                          std::string_view key);

// Operators of label selectors (DaemonSet spec.selector: In, NotIn, Exists,
// DoesNotExist) and node selector requirements (all six).
enum class SelectorOperator : uint8_t {
  kIn,
  kNotIn,
  kExists,
  kDoesNotExist,
  kGt,
  kLt,
};

// Where a value is in a buffer that outlives it.
struct ValueRef {
  uint32_t offset;
  uint32_t size;
};

// A requirement's values: views, or references into one buffer when the
// converter took a DaemonSet's values out of the request together (8
// bytes a value rather than 16, and nothing made per value: a required
// affinity may list 100,000).
class RequirementValues {
 public:
  RequirementValues() = default;
  RequirementValues(std::initializer_list<std::string_view> values)
      : views_(values) {}
  explicit RequirementValues(std::vector<std::string_view> views)
      : views_(std::move(views)) {}
  // Views of `refs` into `base`, which both outlive this.
  RequirementValues(const char* base, std::span<const ValueRef> refs)
      : base_(base), refs_(refs) {}

  size_t size() const {
    return base_ != nullptr ? refs_.size() : views_.size();
  }
  bool empty() const { return size() == 0; }
  std::string_view operator[](size_t i) const {
    if (base_ == nullptr) return views_[i];
    return {base_ + refs_[i].offset, refs_[i].size};
  }

  // Views only (not for references into a buffer).
  void reserve(size_t n) { views_.reserve(n); }
  void push_back(std::string_view value) { views_.push_back(value); }
  std::vector<std::string_view>& views() { return views_; }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;
    const_iterator() = default;
    const_iterator(const RequirementValues* values, size_t i)
        : values_(values), i_(i) {}
    std::string_view operator*() const { return (*values_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    bool operator==(const const_iterator& other) const {
      return i_ == other.i_;
    }

   private:
    const RequirementValues* values_ = nullptr;
    size_t i_ = 0;
  };
  using value_type = std::string_view;
  using iterator = const_iterator;
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  // The same values in the same order, however each is kept.
  friend bool operator==(const RequirementValues& a,
                         const RequirementValues& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

 private:
  std::vector<std::string_view> views_;
  const char* base_ = nullptr;
  std::span<const ValueRef> refs_;
};

// A LabelSelectorRequirement or NodeSelectorRequirement.
struct Requirement {
  std::string_view key;
  SelectorOperator op = SelectorOperator::kIn;
  RequirementValues values;
};

// metav1.LabelSelector: matchLabels AND matchExpressions.
// A selector with no requirements at all selects everything (Kubernetes then
// refuses to act: the "SelectingAll" guard).
struct LabelSelector {
  Labels match_labels;
  std::vector<Requirement> match_expressions;
};

// core/v1 NodeSelectorTerm: all expressions and fields ANDed.
struct NodeSelectorTerm {
  std::vector<Requirement> match_expressions;  // against node labels
  std::vector<Requirement> match_fields;       // against metadata.name
};

enum class TaintEffect : uint8_t { kNoSchedule, kPreferNoSchedule, kNoExecute };

// core/v1 Taint. Unique by (key, effect) on a node. Made by
// Snapshot::MakeTaint.
//
// 16 bytes: a node may carry 1,000 taints, and a request of 2 MB 250,000
// (issue 11, shape 8: 9 bytes a taint on the wire). The snapshot keeps a
// taint's key (counted), its value and its time's seconds together; the
// value's size, the effect and the time's nanoseconds share one word.
class Taint {
 public:
  // The longest value a Taint holds, far above what validation lets
  // through (a label value: 63 bytes). A longer one is a caller's bug:
  // MakeTaint aborts rather than cut it.
  static constexpr size_t kMaxValueSize = (size_t{1} << 14) - 1;

  Taint() = default;

  std::string_view key() const { return key_.view(); }
  std::string_view value() const {
    return {key_.data() + key_.size(), value_size_};
  }
  TaintEffect effect() const { return static_cast<TaintEffect>(effect_); }

  // Set by the node lifecycle controller on NoExecute taints; only the
  // optional taint-eviction model reads it. Kept to the nanosecond, as a
  // protobuf Timestamp carries it.
  std::optional<absl::Time> time_added() const;

 private:
  friend struct Snapshot;

  CountedString key_;  // the value and the time's seconds follow its bytes
  uint64_t value_size_ : 14 = 0;
  uint64_t effect_ : 2 = 0;
  uint64_t has_time_ : 1 = 0;
  uint64_t added_nanos_ : 30 = 0;  // [0, 1e9)
};
static_assert(sizeof(Taint) == 16);

// Toleration operators. kLt/kGt are the alpha comparison operators of
// Kubernetes 1.35 (feature gate TaintTolerationComparisonOperators).
enum class TolerationOperator : uint8_t { kEqual, kExists, kLt, kGt };

// core/v1 Toleration.
struct Toleration {
  std::string_view key;  // empty: every key (operator must be Exists)
  TolerationOperator op = TolerationOperator::kEqual;
  std::string_view value;
  std::optional<TaintEffect> effect;  // nullopt: every effect
  // Only meaningful with effect NoExecute; nullopt tolerates forever.
  std::optional<int64_t> toleration_seconds;
};

// Like Labels: a view of a list the snapshot holds (AllocateTaints,
// InternTaints) rather than a vector per node, so that a Node is 48 bytes,
// not 56, and its taints cost no allocation of their own.
using Taints = std::span<const Taint>;

struct Node {
  std::string_view name;  // unique within the snapshot, non-empty
  Labels labels;
  Taints taints;
};

// intstr.IntOrString as used by maxUnavailable / maxSurge: an integer or a
// percentage of the desired number of nodes ("25%" is {25, true}).
struct IntOrPercent {
  int64_t value = 0;
  bool is_percent = false;
};

enum class UpdateStrategyType : uint8_t { kRollingUpdate, kOnDelete };

// apps/v1 DaemonSetUpdateStrategy after Kubernetes' defaulting.
struct UpdateStrategy {
  UpdateStrategyType type = UpdateStrategyType::kRollingUpdate;
  // nullopt with kRollingUpdate aborts the rolling update, as upstream does
  // for a nil maxUnavailable; the API default is 1.
  std::optional<IntOrPercent> max_unavailable = IntOrPercent{1, false};
  std::optional<IntOrPercent> max_surge;  // nullopt: 0

  // dsd extensions beyond upstream (off by default; the defaults give
  // upstream behaviour exactly).
  // Keep this many (or this percentage of desired) nodes on old revisions.
  std::optional<IntOrPercent> partition;
  // No rolling-update replacements at all; manage still creates pods on
  // nodes that have none (with the current template).
  bool paused = false;
  // When set, only nodes matching this selector get the new revision.
  std::optional<LabelSelector> node_selector;
};

// The failed-pod back-off entry upstream keeps per (DaemonSet, observed
// generation, node) in memory (flowcontrol.Backoff, 1 s doubling to 15 min).
// A stateless caller may send the entries it tracks to reproduce it exactly.
struct FailedPodBackoff {
  std::string_view node;
  absl::Time last_update;  // when the last failed pod was deleted
  absl::Duration delay;    // current back-off delay
};

// apps/v1 DaemonSet, with its pod template flattened in.
struct DaemonSet {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view uid;
  absl::Time creation_timestamp = absl::InfinitePast();  // unset: oldest
  bool being_deleted = false;  // metadata.deletionTimestamp is set
  int64_t generation = 0;
  // Annotation deprecated.daemonset.template.generation, when it parses.
  std::optional<int64_t> template_generation;
  // controller-revision-hash of the current ControllerRevision; empty when
  // unknown (then only template_generation identifies updated pods).
  std::string_view current_revision_hash;
  LabelSelector selector;

  // spec.template
  Labels template_labels;
  std::string_view node_name;  // template spec.nodeName; empty: any node
  Labels node_selector;
  // requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
  // nullopt when absent (no constraint), an empty vector matches nothing.
  std::optional<std::vector<NodeSelectorTerm>> required_node_affinity;
  std::vector<Toleration> tolerations;
  bool host_network = false;

  UpdateStrategy update_strategy;
  int64_t min_ready_seconds = 0;
  // Back-off entries for the DaemonSet's current observed generation. Empty:
  // behave as a controller with no entry (delete the first failed pod of
  // each node now).
  std::vector<FailedPodBackoff> failed_pod_backoffs;
};

enum class PodPhase : uint8_t {
  kUnset,
  kPending,
  kRunning,
  kSucceeded,
  kFailed,
  kUnknown,
};

struct Pod {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view uid;
  Labels labels;
  // UID of the ownerReference with controller: true; empty when none.
  std::string_view controller_uid;
  absl::Time creation_timestamp = absl::InfinitePast();  // unset: oldest
  std::string_view node_name;  // spec.nodeName; empty while unscheduled
  // Required node affinity terms. Only read for pods without node_name (the
  // DaemonSet controller targets unscheduled pods through matchFields); the
  // converter keeps only their match_fields.
  std::vector<NodeSelectorTerm> required_node_affinity;
  // (The small fields together: no padding between them. A request holds
  // up to hundreds of thousands of pods.)
  bool terminating = false;  // metadata.deletionTimestamp is set
  PodPhase phase = PodPhase::kUnset;
  bool ready = false;  // condition Ready has status True
  // The node named node_name, when whoever built the snapshot looked it up
  // (the converter does, while checking the pod): its index in
  // Snapshot::nodes, or kNoSuchNode. kNodeNotLooked: Decide looks it up.
  static constexpr int32_t kNodeNotLooked = -1;
  static constexpr int32_t kNoSuchNode = -2;
  int32_t node_index = kNodeNotLooked;
  // lastTransitionTime of the Ready condition, if set.
  std::optional<absl::Time> ready_since;
};

// A consistent view of a cluster. Move-only: the views inside may point into
// `strings`, whose elements keep their addresses when the deque is moved.
struct Snapshot {
  Snapshot() = default;
  Snapshot(Snapshot&&) = default;
  Snapshot& operator=(Snapshot&&) = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  std::vector<Node> nodes;
  std::vector<DaemonSet> daemon_sets;
  std::vector<Pod> pods;

  // Copies `s` into storage owned by the snapshot and returns a view of it.
  // Only the synthetic cluster of tests/testing uses it (CopyString does
  // the same without a node per string); it goes with that generator.
  std::string_view Intern(std::string s) {
    return strings.emplace_back(std::move(s));
  }
  // Whole strings the snapshot owns: Intern's, and the selector values the
  // wire reader took out of each DaemonSet's bytes (views point into them).
  std::deque<std::string> strings;
  // Where those values are in them (RequirementValues' references).
  std::deque<std::vector<ValueRef>> value_refs;

  // Room for `n` labels (value-initialized) owned by the snapshot, for the
  // caller to fill: label lists are carved out of blocks of a few thousand
  // labels, so a whole request's lists take a few allocations.
  std::span<Label> AllocateLabels(size_t n);
  // Copies `labels` into storage owned by the snapshot; returns a view.
  Labels InternLabels(std::span<const Label> labels);
  Labels InternLabels(std::initializer_list<Label> labels) {
    return InternLabels(std::span<const Label>(labels.begin(), labels.size()));
  }
  // The same for taints.
  std::span<Taint> AllocateTaints(size_t n);
  Taints InternTaints(std::span<const Taint> taints);

  // Copies `s` into character blocks owned by the snapshot (like labels:
  // no allocation per string); returns a view. Converters copy hot strings
  // (node names) so that they sit together in memory.
  std::string_view CopyString(std::string_view s);
  // The same, its size written before it (see CountedString).
  std::string_view CopyCounted(std::string_view s);
  // A label of copies of `key` and `value`.
  Label MakeLabel(std::string_view key, std::string_view value) {
    return Label(CountedString::Of(CopyCounted(key)),
                 CountedString::Of(CopyCounted(value)));
  }
  // A taint of copies of `key` and `value`; `added`, when set, is finite
  // (below a nanosecond it is truncated).
  Taint MakeTaint(std::string_view key, std::string_view value,
                  TaintEffect effect,
                  std::optional<absl::Time> added = std::nullopt);
  // The blocks. Each vector only grows within its reserved capacity, so the
  // views into it stay valid; moving the snapshot moves the blocks' buffers.
  std::deque<std::vector<Label>> label_blocks;
  std::deque<std::vector<Taint>> taint_blocks;
  std::deque<std::vector<char>> char_blocks;
};

// How the engine decides. Every default reproduces current upstream.
struct Options {
  // Kubernetes minor version to emulate (1.<minor>): selects the default
  // daemon-pod tolerations table (rows carry the version they appeared in)
  // and the availability boundary (inclusive since 1.34). 0 means current.
  int kubernetes_minor = 0;
  // Fill DaemonSetPlan::explanations for every node.
  bool explain = false;
  // With `explain`: explain only this node, and only the DaemonSet
  // `explain_daemon_set` ("namespace/name"), when set (Explain's filters).
  // The decisions are the same either way.
  std::string_view explain_node = {};
  std::string_view explain_daemon_set = {};
  // With `explain`: the bytes of explanation text one Decide may produce
  // (0: no limit). Past it explaining stops and Plan::explain_over_budget
  // is set, so that a small request cannot ask for a huge answer.
  size_t explain_budget_bytes = 0;
  // With `explain`: keep only the explanations of nodes that a create or a
  // delete of the plan names (the budget counts only those).
  bool explain_action_nodes_only = false;
  // Model the taint-eviction controller: pods whose NoExecute toleration
  // expires (taint.time_added + smallest tolerationSeconds) are deleted with
  // reason kTaintEviction once due, and the deadline sets requeue_after.
  bool taint_eviction = false;
  // Feature gate TaintTolerationComparisonOperators (alpha in 1.35, off by
  // default): when off, Lt/Gt tolerations tolerate nothing.
  bool toleration_comparison_operators = false;
  // Plan the rolling update on the state after manage's own actions (the
  // "virtual apply" of the plan contract). When false, the rolling update is
  // planned only if manage produced no action (one-sync fidelity).
  bool rolling_update_after_manage = true;
};

// Why a pod is deleted. Stable names (DeleteReasonName) are part of the plan
// contract; the semantics doc section 12 maps each to its code path.
enum class DeleteReason : uint8_t {
  kNodeNameMismatch,
  kNodeAffinityMismatch,
  kUntoleratedNoExecuteTaint,
  kFailedPod,
  kSucceededPod,
  kDuplicatePod,
  kOldPodNotReady,
  kSurgeReplaced,
  kRollingUpdate,
  kRollingUpdateUnavailable,
  kSchedulingConstraintChanged,
  kNodeGone,
  kTaintEviction,
};

// "NodeNameMismatch", "FailedPod", ... (the contract's spelling).
std::string_view DeleteReasonName(DeleteReason reason);

struct PodCreate {
  std::string_view node;
};

struct PodDelete {
  std::string_view pod;
  std::string_view node;  // empty for unscheduled pods
  DeleteReason reason = DeleteReason::kDuplicatePod;
  std::string message;  // for people, e.g. "node label disk=hdd ..."
};

// The seven counters of apps/v1 DaemonSetStatus.
struct DaemonSetStatus {
  int32_t desired_number_scheduled = 0;
  int32_t current_number_scheduled = 0;
  int32_t number_misscheduled = 0;
  int32_t number_ready = 0;
  int32_t updated_number_scheduled = 0;
  int32_t number_available = 0;
  int32_t number_unavailable = 0;

  friend bool operator==(const DaemonSetStatus&,
                         const DaemonSetStatus&) = default;
};

// Why (not) this node, for one DaemonSet.
struct NodeExplanation {
  std::string_view node;
  bool should_run = false;
  bool should_continue_running = false;
  // Every predicate that failed, in plain words; empty when both are true.
  std::vector<std::string> failed_predicates;
};

struct DaemonSetPlan {
  std::string_view namespace_name;
  std::string_view name;
  std::vector<PodCreate> creates;  // sorted by node
  std::vector<PodDelete> deletes;  // sorted by pod name
  DaemonSetStatus status;          // from the snapshot as given
  // > 0: the plan changes by itself after this long (a pod becoming
  // available, a toleration expiring). Zero: nothing pending.
  absl::Duration requeue_after = absl::ZeroDuration();
  // No current revision hash was given: updated pods were identified by the
  // template generation alone.
  bool revision_unknown = false;
  // Things a person should know, e.g. why nothing was done at all.
  std::vector<std::string> notes;
  std::vector<NodeExplanation> explanations;  // sorted by node, if asked
};

struct Plan {
  std::vector<DaemonSetPlan> daemon_sets;  // sorted by namespace, then name
  bool cancelled = false;  // Decide's `cancelled` stopped the work: incomplete
  // The explanations outgrew Options::explain_budget_bytes: incomplete.
  bool explain_over_budget = false;
};

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_TYPES_H_
