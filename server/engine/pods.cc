#include "server/engine/pods.h"

#include <string>

#include "server/common/hash.h"
#include "server/engine/internal/strings.h"

namespace dsd::engine {

bool IsPodAvailable(const Pod& pod, const AvailabilityRule& rule,
                    absl::Time now) {
  if (!pod.ready) return false;
  if (rule.min_ready_seconds == 0) return true;
  if (!pod.ready_since) return false;
  const absl::Time at =
      *pod.ready_since + absl::Seconds(rule.min_ready_seconds);
  return rule.inclusive ? at <= now : at < now;
}

std::optional<absl::Time> BecomesAvailableAt(const Pod& pod,
                                             const AvailabilityRule& rule,
                                             absl::Time now) {
  if (!pod.ready || !pod.ready_since || IsPodAvailable(pod, rule, now)) {
    return std::nullopt;
  }
  const absl::Time at =
      *pod.ready_since + absl::Seconds(rule.min_ready_seconds);
  // Before 1.34 the comparison is strict: available only after `at`.
  return rule.inclusive ? at : at + absl::Nanoseconds(1);
}

Revision Revision::Of(const DaemonSet& ds) {
  return Revision{ds.current_revision_hash,
                  ds.template_generation
                      ? internal::Cat(*ds.template_generation)
                      : std::string()};
}

bool IsPodUpdated(const Pod& pod, const Revision& revision) {
  if (!revision.hash.empty()) {
    const auto label = FindLabel(pod.labels, kRevisionHashLabel);
    if (label && common::Equal(*label, revision.hash)) return true;
  }
  if (!revision.generation.empty()) {
    const auto label = FindLabel(pod.labels, kTemplateGenerationLabel);
    if (label && common::Equal(*label, revision.generation)) return true;
  }
  return false;
}

bool PodBefore(const Pod& a, const Pod& b) {
  const bool a_bound = !a.node_name.empty();
  const bool b_bound = !b.node_name.empty();
  if (a_bound != b_bound) return a_bound;
  if (a.creation_timestamp != b.creation_timestamp) {
    return a.creation_timestamp < b.creation_timestamp;
  }
  return a.name < b.name;
}

}  // namespace dsd::engine
