// Pod predicates the DaemonSet controller uses (pkg/api/v1/pod/util.go and
// daemon/util): readiness, availability, "updated", and the controller's
// "oldest first" order. Pure functions of the pod, the DaemonSet and `now`.
#ifndef DSD_SERVER_ENGINE_PODS_H_
#define DSD_SERVER_ENGINE_PODS_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/engine/types.h"

namespace dsd::engine {

inline constexpr std::string_view kRevisionHashLabel =
    "controller-revision-hash";
inline constexpr std::string_view kTemplateGenerationLabel =
    "pod-template-generation";

inline bool IsTerminal(const Pod& pod) {
  return pod.phase == PodPhase::kFailed || pod.phase == PodPhase::kSucceeded;
}

// Availability rule of the emulated Kubernetes version: since 1.34 a pod is
// available at exactly ready_since + minReadySeconds (kubernetes#132122).
struct AvailabilityRule {
  int64_t min_ready_seconds = 0;
  bool inclusive = true;
};

// IsPodAvailable: Ready, and minReadySeconds elapsed since the Ready
// condition's lastTransitionTime (never, when that time is unset).
bool IsPodAvailable(const Pod& pod, const AvailabilityRule& rule,
                    absl::Time now);

// When a Ready pod that is not available yet becomes available; nullopt if
// it is not Ready, has no transition time, or is available already.
std::optional<absl::Time> BecomesAvailableAt(const Pod& pod,
                                             const AvailabilityRule& rule,
                                             absl::Time now);

// The current revision of a DaemonSet as pods carry it in their labels.
struct Revision {
  std::string_view hash;   // controller-revision-hash; empty when unknown
  std::string generation;  // decimal template generation; empty when unknown

  static Revision Of(const DaemonSet& ds);
  bool known() const { return !hash.empty() || !generation.empty(); }
};

// IsPodUpdated: the pod's controller-revision-hash equals the revision's
// hash (when known), or its pod-template-generation equals the revision's
// generation (when known).
bool IsPodUpdated(const Pod& pod, const Revision& revision);

// podByCreationTimestampAndPhase: bound pods first, then older
// creationTimestamp, then name.
bool PodBefore(const Pod& a, const Pod& b);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_PODS_H_
