// The pod upstream's DaemonSet controller creates for a node, as JSON for
// POST /api/v1/namespaces/{ns}/pods (cluster-integration 3.2; upstream
// pkg/controller/daemon: syncNodes, util.CreatePodTemplate,
// util.ReplaceDaemonSetPodNodeNameNodeAffinity,
// util.AddOrUpdateDaemonPodTolerations; pkg/controller:
// GetPodFromTemplate). Pure: no I/O.
#ifndef DSD_CLIENT_ADAPTER_POD_BODY_H_
#define DSD_CLIENT_ADAPTER_POD_BODY_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace dsd::adapter {

// The body for one daemon pod of `daemon_set` (an apps/v1 DaemonSet as the
// API server serves it) on `node`:
//   - metadata: generateName "<name>-" (the name alone when the dash would
//     make it too long), the template's labels plus
//     controller-revision-hash: `revision_hash` (when not empty) and
//     pod-template-generation (when the DaemonSet has the
//     deprecated.daemonset.template.generation annotation), the template's
//     annotations and finalizers, and one controller owner reference with
//     blockOwnerDeletion; no name, no namespace (the URL has it);
//   - spec: the template's, with the required node affinity replaced by
//     matchFields metadata.name In [node] and the default daemon
//     tolerations added or updated by upstream's rule (current Kubernetes).
// INVALID_ARGUMENT, naming the field, for a DaemonSet it cannot build a
// pod from (no name or uid, no template labels, a generation annotation
// that is not an integer), as upstream refuses to create it.
absl::StatusOr<nlohmann::json> DaemonPod(const nlohmann::json& daemon_set,
                                         const std::string& node,
                                         const std::string& revision_hash);

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_POD_BODY_H_
