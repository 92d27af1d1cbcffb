// Deterministic synthetic clusters for benchmarks and load tests: N nodes,
// D DaemonSets, one daemon pod per eligible node with a mix of states
// (missing, outdated, failed, not ready), labels and taints so that some
// nodes do not match. Same spec, same snapshot, byte for byte.
#ifndef DSD_TESTS_TESTING_SYNTHETIC_CLUSTER_H_
#define DSD_TESTS_TESTING_SYNTHETIC_CLUSTER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "server/engine/types.h"

namespace dsd::testing {

struct SyntheticSpec {
  int nodes = 100;
  int daemon_sets = 1;
  // Per-mille of daemon pods in each state; the rest are Running, Ready and
  // of the current revision.
  int missing_per_mille = 20;
  int outdated_per_mille = 50;
  int failed_per_mille = 10;
  int not_ready_per_mille = 20;
  // Every k-th node lacks the label that half of the DaemonSets select.
  int unlabelled_every = 10;
  // Control-plane nodes (tainted NoSchedule; every 4th DaemonSet tolerates).
  int control_plane_nodes = 3;
};

// The evaluation time the synthetic pods' timestamps are relative to.
absl::Time SyntheticNow();

// Builds the cluster; strings are interned in the returned snapshot.
engine::Snapshot MakeSyntheticCluster(const SyntheticSpec& spec);

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_SYNTHETIC_CLUSTER_H_
