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
#include <utility>
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

// One DaemonSet's sync after manage, as the rolling update reads it
// ("virtual apply", the semantics doc 7.7): manage's deletes are gone, its
// creates are not-ready pods of the current revision. Views of Decide's
// data, valid for the call below.
struct AfterManage {
  const Snapshot* snapshot = nullptr;
  const DaemonSet* ds = nullptr;
  const Revision* revision = nullptr;  // known()
  AvailabilityRule availability;
  absl::Time now;
  int64_t desired = 0;  // nodes with shouldRun
  // Node indices in node-name order, and each node's eligibility (by index).
  std::span<const int32_t> nodes_by_name;
  std::span<const Eligibility> eligibility;
  // The DaemonSet's pods by node index: by_node[start[n] .. start[n + 1]).
  std::span<const uint32_t> start;
  std::span<const Pod* const> by_node;
  // Its pods whose node is not in the snapshot, sorted by node name.
  std::span<const std::pair<std::string_view, const Pod*>> missing;
  // The nodes manage creates a pod on, in node-name order.
  std::span<const int32_t> created_on;
  // Per snapshot pod (by index in snapshot->pods): deleted by manage, and
  // IsPodUpdated (meaningful for this DaemonSet's pods).
  std::span<const uint8_t> deleted;
  std::span<const uint8_t> updated;
};

// Assembles the rolling update's input from `state` and plans it: a group
// for every node (and vanished node) with pods left, plus every shouldRun
// node; with a rollout node selector (a dsd extension) only matching nodes,
// and no vanished ones. `pod_buffer` and `updated_buffer` are scratch
// reused across calls. `available_at` is set to the earliest time after
// `state.now` at which one of the groups' pods becomes available (the
// budgets change then), else reset.
RollingUpdateResult PlanRollingUpdateAfterManage(
    const AfterManage& state, std::vector<const Pod*>& pod_buffer,
    std::vector<uint8_t>& updated_buffer,
    std::optional<absl::Time>& available_at);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_ROLLING_UPDATE_H_
