#include "bench/cluster.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "server/convert/snapshot.h"
#include "server/convert/wire.h"

namespace dsd::bench {

client::SyntheticClusterSpec BenchClusterSpec(int nodes, int daemon_sets) {
  client::SyntheticClusterSpec spec;
  spec.nodes = nodes;
  spec.daemon_sets = daemon_sets;
  spec.pods_per_node = 0;
  spec.control_plane_nodes = nodes < 3 ? nodes : 3;
  return spec;
}

v1::DecideRequest BenchRequest(int nodes, int daemon_sets) {
  return client::MakeSyntheticDecideRequest(
      BenchClusterSpec(nodes, daemon_sets));
}

std::unique_ptr<EngineCluster> ToEngineCluster(
    const v1::DecideRequest& request) {
  const std::string bytes = request.SerializeAsString();
  const convert::OpenBytes open = OpenArray(bytes);
  auto cluster = std::make_unique<EngineCluster>();
  v1::DecideRequest head;
  const absl::StatusOr<int> pod_count =
      convert::ReadRequestHead(open, head, cluster->objects);
  std::vector<convert::Violation> violations;
  if (pod_count.ok()) {
    convert::WirePods pods(open, *pod_count);
    convert::ValidateAndConvertSnapshot(cluster->objects, pods, head.options(),
                                        "snapshot", violations,
                                        &cluster->snapshot);
  }
  if (!pod_count.ok() || !violations.empty()) {
    std::fprintf(stderr, "the synthetic request is invalid\n");
    std::abort();
  }
  cluster->now = absl::FromUnixSeconds(head.now().seconds()) +
                 absl::Nanoseconds(head.now().nanos());
  return cluster;
}

}  // namespace dsd::bench
