// NodeShouldRunDaemonPod and its predicates (daemon_controller.go): the
// template nodeName, node affinity (nodeSelector + required terms), then the
// scheduler's TaintToleration filter twice: NoSchedule and NoExecute taints
// decide shouldRun, NoExecute taints alone decide shouldContinueRunning.
#include "server/engine/eligibility.h"

#include <algorithm>
#include <optional>

#include "server/engine/internal/strings.h"
#include "server/engine/taints.h"

namespace dsd::engine {
namespace {

bool SameLabels(const Labels& a, const Labels& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool SameRequirements(const std::vector<Requirement>& a,
                      const std::vector<Requirement>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Requirement& x, const Requirement& y) {
                      return x.key == y.key && x.op == y.op &&
                             x.values == y.values;
                    });
}

bool SameTerms(const std::optional<std::vector<NodeSelectorTerm>>& a,
               const std::optional<std::vector<NodeSelectorTerm>>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return std::equal(a->begin(), a->end(), b->begin(), b->end(),
                    [](const NodeSelectorTerm& x, const NodeSelectorTerm& y) {
                      return SameRequirements(x.match_expressions,
                                              y.match_expressions) &&
                             SameRequirements(x.match_fields, y.match_fields);
                    });
}

bool SameTolerations(const std::vector<Toleration>& a,
                     const std::vector<Toleration>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Toleration& x, const Toleration& y) {
                      return x.key == y.key && x.op == y.op &&
                             x.value == y.value && x.effect == y.effect &&
                             x.toleration_seconds == y.toleration_seconds;
                    });
}

}  // namespace

DaemonSetPredicates::DaemonSetPredicates(const DaemonSet& ds,
                                         const Options& options)
    : ds_(ds),
      selection_(ds.node_selector, ds.required_node_affinity),
      tolerations_(DaemonPodTolerations(
                       ds, EmulatedKubernetesMinor(options.kubernetes_minor)),
                   options.toleration_comparison_operators),
      comparison_operators_(options.toleration_comparison_operators) {}

Eligibility DaemonSetPredicates::Evaluate(const Node& node,
                                          std::vector<std::string>* why) const {
  // Upstream stops at the first predicate that decides (false, false). An
  // explanation lists every failed predicate, so with `why` all are checked;
  // the decision is the same either way.
  const bool name_ok = ds_.node_name.empty() || ds_.node_name == node.name;
  if (!name_ok) {
    if (why == nullptr) return {false, false, DeleteReason::kNodeNameMismatch};
    why->push_back(internal::Cat("pod template nodeName ", ds_.node_name,
                                 " names another node"));
  }
  const bool selection_ok = selection_.Matches(node, why);
  if (!selection_ok && why == nullptr) {
    return {false, false, DeleteReason::kNodeAffinityMismatch};
  }

  bool no_schedule_ok = true;
  bool no_execute_ok = true;
  size_t untold = 0;  // reasons past kMaxReasons
  for (const Taint& taint : node.taints) {
    if (taint.effect() == TaintEffect::kPreferNoSchedule) continue;
    if (tolerations_.Tolerated(taint)) continue;
    if (taint.effect() == TaintEffect::kNoExecute) {
      no_execute_ok = false;
    } else {
      no_schedule_ok = false;
    }
    if (why != nullptr && why->size() >= kMaxReasons) {
      ++untold;
    } else if (why != nullptr) {
      why->push_back(internal::Cat(
          "taint ", DescribeTaint(taint), " is not tolerated",
          taint.effect() == TaintEffect::kNoExecute
              ? " (NoExecute: running daemon pods are deleted)"
              : " (NoSchedule: no new pod; a running one may stay)"));
    } else if (!no_execute_ok) {
      break;  // (false, false) is decided
    }
  }
  if (why != nullptr && why->size() > kMaxReasons) {
    untold += why->size() - kMaxReasons;
    why->resize(kMaxReasons);
  }
  if (untold > 0) {
    why->push_back(internal::Cat("... and ", untold, " more"));
  }
  if (!name_ok) return {false, false, DeleteReason::kNodeNameMismatch};
  if (!selection_ok) return {false, false, DeleteReason::kNodeAffinityMismatch};
  if (!no_execute_ok) {
    return {false, false, DeleteReason::kUntoleratedNoExecuteTaint};
  }
  return {no_schedule_ok, true, DeleteReason::kNodeAffinityMismatch};
}

bool DaemonSetPredicates::SameDecisions(
    const DaemonSetPredicates& other) const {
  // Evaluate reads exactly these (the selection is compiled from the node
  // selector and the affinity).
  return ds_.node_name == other.ds_.node_name &&
         comparison_operators_ == other.comparison_operators_ &&
         SameLabels(ds_.node_selector, other.ds_.node_selector) &&
         SameTerms(ds_.required_node_affinity,
                   other.ds_.required_node_affinity) &&
         SameTolerations(tolerations(), other.tolerations());
}

}  // namespace dsd::engine
