// Single Kubernetes objects, already parsed as JSON, -> dsd.v1 messages,
// for callers that receive objects one at a time rather than as files
// (dsd-extender). The same converter as SnapshotLoader, with the same
// defaulting and problems; no gRPC, no I/O.
#ifndef DSD_CLIENT_K8S_OBJECT_JSON_H_
#define DSD_CLIENT_K8S_OBJECT_JSON_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/k8s/snapshot_loader.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

// A core/v1 Node object -> dsd.v1.Node (name, labels, taints). Problems
// (wrong types, unknown taint effects) are appended to `problems`, named
// by Kubernetes field path with `object` "Node NAME"; the node is complete
// even then (unusable fields left empty).
v1::Node NodeFromJson(const nlohmann::json& node,
                      std::vector<InputProblem>& problems);

// An apps/v1 DaemonSet object -> dsd.v1.DaemonSet (identity, selector,
// template, update strategy and dsd's rollout annotations), read as
// SnapshotLoader reads it, with the same defaulting. current_revision_hash
// stays empty (it needs the ControllerRevisions). Problems are appended to
// `problems` with `object` "DaemonSet NS/NAME"; the result is complete even
// then (unusable fields left at their defaults).
v1::DaemonSet DaemonSetFromJson(const nlohmann::json& daemon_set,
                                std::vector<InputProblem>& problems);

// The controller ownerReference of a pod (the entry with controller: true)
// when it names an apps DaemonSet: its name and uid. nullopt for any other
// pod (no controller, another kind, a reference without a name), and for
// JSON that is not an object. Never reports problems: a pod it cannot read
// is simply not a daemon pod.
struct DaemonSetOwner {
  std::string namespace_name;  // the pod's; "default" when absent
  std::string name;
  std::string uid;  // may be empty in hand-written pods
};
std::optional<DaemonSetOwner> DaemonSetOwnerOf(const nlohmann::json& pod);

// The DaemonSet a daemon pod shows: identity from `owner`, template from
// the pod itself (labels, nodeName, nodeSelector, required node affinity,
// tolerations, hostNetwork), selector = the pod's labels (a placeholder
// label on both when it has none, so the DaemonSet validates), default
// update strategy. Used when the DaemonSet itself is unknown. Problems are
// named by the pod's own field paths (spec.tolerations[0].operator), with
// `object` "Pod NS/NAME".
v1::DaemonSet DaemonSetFromPod(const nlohmann::json& pod,
                               const DaemonSetOwner& owner,
                               std::vector<InputProblem>& problems);

}  // namespace dsd::client

#endif  // DSD_CLIENT_K8S_OBJECT_JSON_H_
