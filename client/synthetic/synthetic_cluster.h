// The one synthetic-cluster generator: a deterministic cluster as a dsd.v1
// request, for `dsdctl load` and anything that replays its bytes (h2load,
// ghz), the benchmarks (bench/cluster.h) and the tests: N nodes, D DaemonSets,
// daemon pods in a mix of states, labels and taints so that some nodes do
// not match. Protobuf only: no server library. Same spec, same bytes.
#ifndef DSD_CLIENT_SYNTHETIC_SYNTHETIC_CLUSTER_H_
#define DSD_CLIENT_SYNTHETIC_SYNTHETIC_CLUSTER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

// The request's `now`: 2026-01-01T00:00:00Z, so every run decides alike.
inline constexpr int64_t kSyntheticNowUnixSeconds = 1767225600;

// Node labels the DaemonSets' nodeSelectors read.
inline constexpr char kSyntheticPoolLabel[] = "dsd.example/pool";  // "general"
inline constexpr char kSyntheticRackLabel[] = "dsd.example/rack";  // "rack-<r>"
// Racks of 10 consecutive nodes, numbered modulo this: a rack-selective
// DaemonSet matches about 1/kSyntheticRacks of the nodes.
inline constexpr int kSyntheticRacks = 10;

// What to generate. Plain data; every field has a default.
//
// Layout: node i has kubernetes.io/hostname, os, arch, a zone (i % 3), the
// rack label rack-<(i / 10) % 10>, and pool=general unless i is a multiple of
// unlabelled_every. The first control_plane_nodes nodes carry the
// node-role.kubernetes.io/control-plane label and a NoSchedule taint of that
// key, which every 4th DaemonSet (d % 4 == 0) tolerates. Odd DaemonSets
// select pool=general through their nodeSelector; "rack-selective" ones
// (spread evenly over the indexes) also select rack-<d % 10>. Every
// DaemonSet rolls out with maxUnavailable 1 at template generation 2.
struct SyntheticClusterSpec {
  int nodes = 1000;      // >= 0
  int daemon_sets = 10;  // >= 0
  // Target average number of daemon pods per node: the generator makes the
  // number of DaemonSets rack-selective whose expected pod count is nearest
  // to it (each one moves the count by about 0.86 x nodes; all of them
  // still give about daemon_sets / 10 per node). Without a target the count
  // is about 0.93 x daemon_sets per node. The default, 30, gives ~150,000
  // pods for 5,000 nodes x 50 DaemonSets and does not bind at 10
  // DaemonSets. 0: no target (no DaemonSet is rack-selective).
  double pods_per_node = 30;
  // Per mille of the (DaemonSet, eligible node) pairs in each state; the
  // rest are Running, Ready and up to date. The sum must be <= 1000.
  int missing_per_mille = 20;    // no pod: the controller creates one
  int outdated_per_mille = 50;   // old controller-revision-hash, generation 1
  int failed_per_mille = 10;     // phase Failed: deleted and recreated
  int not_ready_per_mille = 20;  // Running, not Ready
  // Every k-th node (i % k == 0) lacks pool=general; 0: none lacks it.
  int unlabelled_every = 10;
  // Tainted control-plane nodes, the first ones; <= nodes.
  int control_plane_nodes = 3;
  // Seeds the SplitMix64 generator (uids, revision hashes, pod states).
  uint64_t seed = 42;
};

// OK, or INVALID_ARGUMENT naming the first field out of range (negative
// counts, a state mix over 1000, more than 5,000,000 DaemonSet-node pairs).
absl::Status ValidateSyntheticClusterSpec(const SyntheticClusterSpec& spec);

// How many of `spec`'s DaemonSets are rack-selective (see pods_per_node),
// and whether DaemonSet `index` is one of them.
int SyntheticRackSelectiveCount(const SyntheticClusterSpec& spec);
bool SyntheticIsRackSelective(const SyntheticClusterSpec& spec, int index);

// The Decide request for `spec` (precondition: the spec is valid), valid
// per dsd.proto's rules, with now = kSyntheticNowUnixSeconds and default
// options. Deterministic: equal specs give byte-identical serializations.
v1::DecideRequest MakeSyntheticDecideRequest(const SyntheticClusterSpec& spec);

}  // namespace dsd::client

#endif  // DSD_CLIENT_SYNTHETIC_SYNTHETIC_CLUSTER_H_
