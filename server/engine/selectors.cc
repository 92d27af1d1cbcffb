// Label and node selection, mirroring apimachinery/pkg/labels (Requirement,
// NewRequirement's validity rules) and component-helpers' nodeaffinity
// (GetRequiredNodeAffinity: nodeSelector AND required terms).
#include "server/engine/selectors.h"

#include <algorithm>
#include <span>

#include "server/common/hash.h"
#include "server/engine/internal/strings.h"
#include "server/engine/k8s_names.h"

namespace dsd::engine {
namespace {

constexpr std::string_view kNodeNameField = "metadata.name";

std::string_view OperatorName(SelectorOperator op) {
  switch (op) {
    case SelectorOperator::kIn:
      return "In";
    case SelectorOperator::kNotIn:
      return "NotIn";
    case SelectorOperator::kExists:
      return "Exists";
    case SelectorOperator::kDoesNotExist:
      return "DoesNotExist";
    case SelectorOperator::kGt:
      return "Gt";
    case SelectorOperator::kLt:
      return "Lt";
  }
  return "?";
}

const std::optional<std::vector<NodeSelectorTerm>> kNoAffinity;

// labels.NewRequirement's checks for a node-label requirement.
CompiledRequirement CompileLabelRequirement(const Requirement& r) {
  CompiledRequirement c{&r, false, 0, nullptr};
  if (!IsLabelKey(r.key)) return c;
  for (std::string_view v : r.values) {
    if (!IsLabelValue(v)) return c;
  }
  switch (r.op) {
    case SelectorOperator::kIn:
    case SelectorOperator::kNotIn:
      c.valid = !r.values.empty();
      if (r.values.size() > CompiledRequirement::kHashValuesAbove) {
        c.value_set = std::make_shared<const ValueSet>(r.values);
      }
      break;
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      c.valid = r.values.empty();
      break;
    case SelectorOperator::kGt:
    case SelectorOperator::kLt:
      if (r.values.size() == 1) {
        if (auto bound = ParseInt64(r.values[0])) {
          c.valid = true;
          c.bound = *bound;
        }
      }
      break;
  }
  return c;
}

// nodeSelectorRequirementsAsFieldSelector: In/NotIn with exactly one value.
CompiledRequirement CompileFieldRequirement(const Requirement& r) {
  CompiledRequirement c{&r, false, 0, nullptr};
  c.valid =
      (r.op == SelectorOperator::kIn || r.op == SelectorOperator::kNotIn) &&
      r.values.size() == 1;
  return c;
}

bool FieldMatches(const CompiledRequirement& c, const Node& node) {
  // Nodes expose only metadata.name; any other field reads as "".
  const std::string_view value =
      c.requirement->key == kNodeNameField ? node.name : std::string_view();
  const bool equal = value == c.requirement->values[0];
  return c.requirement->op == SelectorOperator::kIn ? equal : !equal;
}

}  // namespace

ValueSet::ValueSet(const RequirementValues& values)
    : set_(values.size(), Hash{&values}, Eq{&values}) {
  for (size_t i = 0; i < values.size(); ++i) {
    set_.insert(static_cast<uint32_t>(i));
  }
}

bool CompiledRequirement::HasValue(std::string_view value) const {
  if (value_set) return value_set->contains(value);
  for (std::string_view v : requirement->values) {
    if (common::Equal(v, value)) return true;
  }
  return false;
}

bool IsEmptySelector(const LabelSelector& selector) {
  return selector.match_labels.empty() && selector.match_expressions.empty();
}

bool RequirementMatchesLabels(const CompiledRequirement& c,
                              const Labels& labels) {
  const Requirement& r = *c.requirement;
  const std::optional<std::string_view> value = FindLabel(labels, r.key);
  switch (r.op) {
    case SelectorOperator::kIn:
      return value && c.HasValue(*value);
    case SelectorOperator::kNotIn:
      return !value || !c.HasValue(*value);
    case SelectorOperator::kExists:
      return value.has_value();
    case SelectorOperator::kDoesNotExist:
      return !value;
    case SelectorOperator::kGt:
    case SelectorOperator::kLt: {
      if (!value) return false;
      const std::optional<int64_t> n = ParseInt64(*value);
      if (!n) return false;
      return r.op == SelectorOperator::kGt ? *n > c.bound : *n < c.bound;
    }
  }
  return false;
}

LabelSelectorMatcher::LabelSelectorMatcher(const LabelSelector& selector)
    : match_labels_(selector.match_labels) {
  expressions_.reserve(selector.match_expressions.size());
  for (const Requirement& r : selector.match_expressions) {
    // LabelSelectorAsSelector accepts only the four set operators.
    if (r.op == SelectorOperator::kGt || r.op == SelectorOperator::kLt) {
      never_ = true;
    }
    expressions_.push_back(CompileLabelRequirement(r));
    never_ = never_ || !expressions_.back().valid;
  }
}

bool LabelSelectorMatcher::Matches(const Labels& labels) const {
  if (never_) return false;
  for (const Label& want : match_labels_) {
    const std::optional<std::string_view> have = FindLabel(labels, want.key());
    if (!have || !common::Equal(*have, want.value())) return false;
  }
  for (const CompiledRequirement& c : expressions_) {
    if (!RequirementMatchesLabels(c, labels)) return false;
  }
  return true;
}

bool SelectorMatches(const LabelSelector& selector, const Labels& labels) {
  return LabelSelectorMatcher(selector).Matches(labels);
}

NodeSelection::NodeSelection(const Labels& node_selector, std::nullopt_t)
    : NodeSelection(node_selector, kNoAffinity) {}

NodeSelection::NodeSelection(
    const Labels& node_selector,
    const std::optional<std::vector<NodeSelectorTerm>>& required)
    : node_selector_(node_selector), has_required_(required.has_value()) {
  if (!required) return;
  terms_.reserve(required->size());
  for (const NodeSelectorTerm& t : *required) {
    Term term;
    term.empty = t.match_expressions.empty() && t.match_fields.empty();
    for (const Requirement& r : t.match_expressions) {
      term.expressions.push_back(CompileLabelRequirement(r));
      term.valid = term.valid && term.expressions.back().valid;
    }
    for (const Requirement& r : t.match_fields) {
      term.fields.push_back(CompileFieldRequirement(r));
      term.valid = term.valid && term.fields.back().valid;
    }
    terms_.push_back(std::move(term));
  }
}

bool NodeSelection::TermMatches(const Term& term, const Node& node) const {
  if (term.empty || !term.valid) return false;
  for (const CompiledRequirement& c : term.expressions) {
    if (!RequirementMatchesLabels(c, node.labels)) return false;
  }
  // fields.Set is built only for nodes with a name (always, after convert).
  if (!node.name.empty()) {
    for (const CompiledRequirement& c : term.fields) {
      if (!FieldMatches(c, node)) return false;
    }
  }
  return true;
}

bool NodeSelection::Matches(const Node& node,
                            std::vector<std::string>* why) const {
  bool selector_ok = true;
  for (const Label& want : node_selector_) {
    const std::optional<std::string_view> have =
        FindLabel(node.labels, want.key());
    if (have && common::Equal(*have, want.value())) continue;
    selector_ok = false;
    if (why == nullptr) return false;
    if (have) {
      why->push_back(internal::Cat("node label ", want.key(), "=", *have,
                                   " does not match nodeSelector ", want.key(),
                                   "=", want.value()));
    } else {
      why->push_back(internal::Cat("node has no label ", want.key(),
                                   " required by nodeSelector ", want.key(),
                                   "=", want.value()));
    }
  }
  if (!has_required_) return selector_ok;

  for (const Term& term : terms_) {
    if (TermMatches(term, node)) return selector_ok;
  }
  if (why != nullptr) {
    if (terms_.empty()) {
      why->push_back(
          "required node affinity has no nodeSelectorTerms, so it matches no "
          "node");
    }
    for (size_t i = 0; i < terms_.size(); ++i) {
      const Term& term = terms_[i];
      std::string prefix =
          internal::Cat("required node affinity nodeSelectorTerms[", i, "]");
      if (term.empty) {
        why->push_back(internal::Cat(prefix, " is empty and matches no node"));
        continue;
      }
      std::vector<std::string> parts;
      for (const CompiledRequirement& c : term.expressions) {
        if (!c.valid) {
          parts.push_back(internal::Cat(DescribeRequirement(*c.requirement),
                                        " is not a valid requirement"));
        } else if (!RequirementMatchesLabels(c, node.labels)) {
          const auto have = FindLabel(node.labels, c.requirement->key);
          parts.push_back(internal::Cat(
              "node label ",
              have ? internal::Cat(c.requirement->key, "=", *have)
                   : internal::Cat(c.requirement->key, " (absent)"),
              " does not satisfy ", DescribeRequirement(*c.requirement)));
        }
      }
      for (const CompiledRequirement& c : term.fields) {
        if (!c.valid) {
          parts.push_back(internal::Cat("field ",
                                        DescribeRequirement(*c.requirement),
                                        " is not a valid requirement"));
        } else if (!FieldMatches(c, node)) {
          parts.push_back(internal::Cat("node name ", node.name,
                                        " does not satisfy field ",
                                        DescribeRequirement(*c.requirement)));
        }
      }
      why->push_back(internal::Cat(
          prefix, " does not match: ", internal::Join(parts, "; ")));
    }
  }
  return false;
}

std::string_view TargetNodeName(const Pod& pod) {
  if (!pod.node_name.empty()) return pod.node_name;
  for (const NodeSelectorTerm& term : pod.required_node_affinity) {
    for (const Requirement& r : term.match_fields) {
      if (r.key != kNodeNameField || r.op != SelectorOperator::kIn) continue;
      // GetTargetNodeName: the first such requirement decides; more than
      // one value is an error and the pod is then ignored.
      return r.values.size() == 1 ? r.values[0] : std::string_view();
    }
  }
  return {};
}

std::string DescribeRequirement(const Requirement& r) {
  switch (r.op) {
    case SelectorOperator::kExists:
    case SelectorOperator::kDoesNotExist:
      return internal::Cat(r.key, " ", OperatorName(r.op));
    default:
      break;
  }
  constexpr size_t kShown = 5;
  if (r.values.size() <= kShown + 1) {
    return internal::Cat(r.key, " ", OperatorName(r.op), " [",
                         internal::Join(r.values, ", "), "]");
  }
  std::vector<std::string_view> shown;
  for (size_t i = 0; i < kShown; ++i) shown.push_back(r.values[i]);
  return internal::Cat(r.key, " ", OperatorName(r.op), " [",
                       internal::Join(shown, ", "), ", ... (", r.values.size(),
                       " values)]");
}

}  // namespace dsd::engine
