// The synthetic cluster (client/synthetic) as a real API server would serve
// it: Node, DaemonSet, ControllerRevision and Pod objects in Kubernetes JSON
// with everything a real cluster's carry and dsd never reads (containers
// with env, probes and mounts, volumes, managedFields, container statuses,
// node images), about 6 KB a pod. For the JSON decoding benchmark and the
// adapter benchmark's fake API server. Deterministic.
#ifndef DSD_BENCH_KUBE_OBJECTS_H_
#define DSD_BENCH_KUBE_OBJECTS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dsd/v1/dsd.pb.h"

namespace dsd::bench {

// Objects with kind and apiVersion, as `kubectl get -o json` shows them.
nlohmann::ordered_json KubeNode(const v1::Node& node);
nlohmann::ordered_json KubeDaemonSet(const v1::DaemonSet& ds);
// The DaemonSet's current revision (controller-revision-hash label, owner).
nlohmann::ordered_json KubeControllerRevision(const v1::DaemonSet& ds);
nlohmann::ordered_json KubePod(const v1::Pod& pod);

// Every object of `snapshot` in order: nodes, DaemonSets with their
// revisions, pods. `lean`: without what the slim store drops anyway
// (managedFields, containers, volumes, container statuses, node images,
// revision data), for a fake API server holding 150,000 pods.
std::vector<nlohmann::ordered_json> KubeObjects(const v1::Snapshot& snapshot,
                                                bool lean = false);

// `object` without what the slim store drops (see lean above).
void MakeLean(nlohmann::ordered_json& object);

// A PodList page as the API server sends it (items without kind and
// apiVersion, metadata.continue set): pods [first, first + count) of the
// snapshot.
std::string KubePodListPage(const v1::Snapshot& snapshot, int first, int count);

}  // namespace dsd::bench

#endif  // DSD_BENCH_KUBE_OBJECTS_H_
