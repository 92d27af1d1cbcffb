// One read of a cluster for dsd: Nodes, DaemonSets, Pods and
// ControllerRevisions, each as one paged list (so each kind is one
// consistent snapshot: the continue tokens carry the first page's
// resourceVersion), written as one kubectl `List` JSON text, the input
// SnapshotLoader reads. `dsdctl decide/explain` without -f and `dsdctl
// snapshot` use it. No decisions here.
#ifndef DSD_CLIENT_KUBE_CLUSTER_LIST_H_
#define DSD_CLIENT_KUBE_CLUSTER_LIST_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "client/kube/client.h"

namespace dsd::kube {

struct ClusterListOptions {
  // DaemonSets, Pods and ControllerRevisions of this namespace only; empty:
  // every namespace. Nodes are always all (a DaemonSet's pods may go to
  // any).
  std::string namespace_;
  int64_t page_size = 500;  // `limit` of each page
  // After each page of `resource` (items so far, pages so far) and once
  // more with done=true when its list is complete; may be empty.
  std::function<void(const Resource& resource, size_t items, int pages,
                     bool done)>
      progress;
};

// The four kinds in the order above (items of a kind in the API server's
// order), each object slimmed as the reflector's store keeps it
// (SlimObject: no managed fields, last-applied annotation, containers,
// volumes, container statuses, ControllerRevision data, node images) and
// given its apiVersion and kind, one item a line:
//   {"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},
//    "items":[...]}
// as `kubectl get nodes,ds,pods,controllerrevisions -A -o json` prints
// (metadata.resourceVersion empty, as kubectl has it). The first failed
// list's error (it names the request and the HTTP answer).
absl::StatusOr<std::string> ListCluster(Client& client,
                                        const ClusterListOptions& options);

}  // namespace dsd::kube

#endif  // DSD_CLIENT_KUBE_CLUSTER_LIST_H_
