// Label selectors (DaemonSet -> pod matching) and node selection
// (nodeSelector + required node affinity), with Kubernetes' semantics from
// apimachinery/pkg/labels and component-helpers/scheduling/corev1/nodeaffinity.
// Pure C++; no protobuf, gRPC or logging.
#ifndef DSD_SERVER_ENGINE_SELECTORS_H_
#define DSD_SERVER_ENGINE_SELECTORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/common/hash.h"
#include "server/engine/types.h"

namespace dsd::engine {

// True when `selector` has no requirement at all (it selects everything).
bool IsEmptySelector(const LabelSelector& selector);

// The values of an In/NotIn requirement with many of them, hashed once:
// a requirement of 100,000 values is matched against every node in O(1),
// not O(values). It holds 4-byte indices into the values, not 16-byte
// views: 100,000 values take 0.65 MB rather than 2.2.
class ValueSet {
 public:
  // `values` must outlive the set.
  explicit ValueSet(const RequirementValues& values);
  bool contains(std::string_view value) const { return set_.contains(value); }

 private:
  // Hash and equality over indices, and with a value for lookups.
  struct Hash {
    using is_transparent = void;
    const RequirementValues* values;
    size_t operator()(uint32_t i) const { return (*this)((*values)[i]); }
    size_t operator()(std::string_view s) const {
      return common::StringViewHash()(s);
    }
  };
  struct Eq {
    using is_transparent = void;
    const RequirementValues* values;
    std::string_view Of(uint32_t i) const { return (*values)[i]; }
    std::string_view Of(std::string_view s) const { return s; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return common::Equal(Of(a), Of(b));
    }
  };
  absl::flat_hash_set<uint32_t, Hash, Eq> set_;
};

// A requirement checked for match-time validity once, as
// labels.NewRequirement does: valid key and values, value count fitting the
// operator, Gt/Lt with exactly one int64 value.
struct CompiledRequirement {
  // Not a copy: a requirement may hold 100,000 values. It belongs to the
  // DaemonSet (or selector) compiled, which must outlive this.
  const Requirement* requirement = nullptr;
  bool valid = false;
  int64_t bound = 0;  // parsed value for Gt/Lt
  // In/NotIn with more than kHashValuesAbove values: the values, hashed
  // (shared: compiled requirements are copied with their DaemonSet's
  // predicates). Null for short lists, which a scan matches faster.
  std::shared_ptr<const ValueSet> value_set;

  static constexpr size_t kHashValuesAbove = 8;
  // Whether `value` is one of the requirement's values.
  bool HasValue(std::string_view value) const;
};

// A DaemonSet's spec.selector compiled once for matching many pods.
// Immutable; safe to share. The selector (its strings, label list and
// requirements) must outlive it.
class LabelSelectorMatcher {
 public:
  explicit LabelSelectorMatcher(const LabelSelector& selector);
  explicit LabelSelectorMatcher(LabelSelector&&) = delete;  // it must outlive
  bool Matches(const Labels& labels) const;

 private:
  Labels match_labels_;
  std::vector<CompiledRequirement> expressions_;
  bool never_ = false;  // an invalid expression: the selector matches nothing
};

// Whether `labels` satisfy the label selector: every matchLabels entry and
// every expression (In/NotIn/Exists/DoesNotExist; a Gt/Lt or malformed
// expression, which API validation rejects, matches nothing).
bool SelectorMatches(const LabelSelector& selector, const Labels& labels);

// A DaemonSet's nodeSelector and required node affinity, compiled once and
// matched against many nodes. Immutable after construction; safe to share.
// Keeps views of `node_selector` and `required`, which must outlive it.
class NodeSelection {
 public:
  NodeSelection(const Labels& node_selector,
                const std::optional<std::vector<NodeSelectorTerm>>& required);
  // The compiled requirements point into `required`: no temporary.
  NodeSelection(const Labels& node_selector,
                std::optional<std::vector<NodeSelectorTerm>>&&) = delete;
  NodeSelection(const Labels& node_selector, std::nullopt_t);

  // Whether the node passes both nodeSelector and the required affinity
  // (terms ORed; expressions and fields in a term ANDed; invalid or empty
  // terms never match). When `why` is non-null and the node does not match,
  // appends one plain-words reason per failed part.
  bool Matches(const Node& node, std::vector<std::string>* why) const;

 private:
  struct Term {
    std::vector<CompiledRequirement> expressions;
    std::vector<CompiledRequirement> fields;
    bool valid = true;
    bool empty = false;
  };
  bool TermMatches(const Term& term, const Node& node) const;

  Labels node_selector_;
  bool has_required_ = false;
  std::vector<Term> terms_;
};

// Evaluates one compiled node-label requirement (no validity check).
bool RequirementMatchesLabels(const CompiledRequirement& r,
                              const Labels& labels);

// The node a DaemonSet pod belongs to (GetTargetNodeName): spec.nodeName, or
// the first matchFields metadata.name In [x] of its required affinity.
// Empty when neither yields exactly one name (the pod is then ignored).
std::string_view TargetNodeName(const Pod& pod);

// "disk In [ssd, nvme]", "zone DoesNotExist", ... for explanations. A long
// value list is summarised: "name In [a, b, c, d, e, ... (100000 values)]",
// so that an explanation stays short whatever the request holds.
std::string DescribeRequirement(const Requirement& r);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_SELECTORS_H_
