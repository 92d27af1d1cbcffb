// The RollingUpdate pass of one DaemonSet (pkg/controller/daemon/update.go):
// budgets from maxUnavailable / maxSurge, then either deletions of old pods
// within the unavailability budget (maxSurge 0) or new pods beside old ones
// within the surge budget. Internal to the engine; Decide calls it on the
// state after manage's own actions. Pure; no I/O.
#ifndef DSD_SERVER_ENGINE_ROLLING_UPDATE_H_
#define DSD_SERVER_ENGINE_ROLLING_UPDATE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "server/engine/eligibility.h"
#include "server/engine/pods.h"
#include "server/engine/types.h"

namespace dsd::engine {

// The pods of one DaemonSet grouped on one node name, as the rolling update
// sees them (terminal-and-terminating pods already dropped).
struct NodeGroup {
  std::string_view node_name;
  const Node* node = nullptr;  // nullptr: the node is not in the snapshot
  Eligibility eligibility;     // meaningful only when node != nullptr
  // A view of the caller's storage (one buffer for all groups: no
  // allocation per node).
  std::span<const Pod* const> pods;
  // IsPodUpdated of each of `pods` (computed once per pod by the caller).
  std::span<const uint8_t> updated;
};

struct RollingUpdateInput {
  const DaemonSet* ds = nullptr;
  AvailabilityRule availability;
  absl::Time now;
  int64_t desired = 0;  // nodes with shouldRun
  // Every node with pods, plus every shouldRun node (empty group), sorted by
  // node name: the order in which budget-limited choices are made.
  std::vector<NodeGroup> groups;
};

struct RollingUpdateResult {
  std::vector<PodCreate> creates;
  std::vector<PodDelete> deletes;
  // Set when upstream would abort this pass (an unusable budget, an old
  // pod on a node missing from the snapshot while surging).
  std::optional<std::string> aborted;
};

// Scaled budget (intstr.GetScaledValueFromIntOrPercent with round-up).
int64_t ScaledValue(const IntOrPercent& v, int64_t total);

// Whether manage runs surge-aware (AllowsSurge): RollingUpdate with a
// maxSurge that is positive when scaled against one node.
bool AllowsSurge(const DaemonSet& ds);

RollingUpdateResult PlanRollingUpdate(const RollingUpdateInput& in);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_ROLLING_UPDATE_H_
