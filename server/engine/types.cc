#include "server/engine/types.h"

namespace dsd::engine {

std::optional<std::string_view> FindLabel(const Labels& labels,
                                          std::string_view key) {
  for (const Label& l : labels) {
    if (l.key == key) return l.value;
  }
  return std::nullopt;
}

std::string_view DeleteReasonName(DeleteReason reason) {
  switch (reason) {
    case DeleteReason::kNodeNameMismatch:
      return "NodeNameMismatch";
    case DeleteReason::kNodeAffinityMismatch:
      return "NodeAffinityMismatch";
    case DeleteReason::kUntoleratedNoExecuteTaint:
      return "UntoleratedNoExecuteTaint";
    case DeleteReason::kFailedPod:
      return "FailedPod";
    case DeleteReason::kSucceededPod:
      return "SucceededPod";
    case DeleteReason::kDuplicatePod:
      return "DuplicatePod";
    case DeleteReason::kOldPodNotReady:
      return "OldPodNotReady";
    case DeleteReason::kSurgeReplaced:
      return "SurgeReplaced";
    case DeleteReason::kRollingUpdate:
      return "RollingUpdate";
    case DeleteReason::kRollingUpdateUnavailable:
      return "RollingUpdateUnavailable";
    case DeleteReason::kSchedulingConstraintChanged:
      return "SchedulingConstraintChanged";
    case DeleteReason::kNodeGone:
      return "NodeGone";
    case DeleteReason::kTaintEviction:
      return "TaintEviction";
  }
  return "Unknown";
}

}  // namespace dsd::engine
