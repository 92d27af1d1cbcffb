// The clusters the benchmarks measure, from the one synthetic-cluster
// generator (client/synthetic): the request bytes a client sends, and, for
// benchmarks of the engine alone, that request converted once the way
// dsd-server converts it (convert/wire.h), outside any timed loop.
#ifndef DSD_BENCH_CLUSTER_H_
#define DSD_BENCH_CLUSTER_H_

#include <memory>

#include "absl/time/time.h"
#include "client/synthetic/synthetic_cluster.h"
#include "dsd/v1/dsd.pb.h"
#include "server/engine/types.h"

namespace dsd::bench {

// `nodes` x `daemon_sets` in the generator's default state mix, with no
// rack-selective DaemonSet (pods_per_node 0): each DaemonSet has a pod on
// about 93% of the nodes its nodeSelector (odd ones: the pool label, which
// every tenth node lacks) and the control-plane taint (3 nodes, tolerated
// by every fourth) allow. The cluster the benchmarks have always measured.
client::SyntheticClusterSpec BenchClusterSpec(int nodes, int daemon_sets);

// The Decide request of BenchClusterSpec(nodes, daemon_sets).
v1::DecideRequest BenchRequest(int nodes, int daemon_sets);

// A request as the engine receives it: its nodes and DaemonSets (which the
// snapshot's strings view) and the converted snapshot.
struct EngineCluster {
  v1::Snapshot objects;
  engine::Snapshot snapshot;
  absl::Time now;
};

// `request` read and converted by the production path (ReadRequestHead,
// WirePods, ValidateAndConvertSnapshot), as dsd-server does. Aborts when
// the request is invalid: a benchmark must not measure an error path.
std::unique_ptr<EngineCluster> ToEngineCluster(
    const v1::DecideRequest& request);

}  // namespace dsd::bench

#endif  // DSD_BENCH_CLUSTER_H_
