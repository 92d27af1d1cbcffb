#include "client/synthetic/synthetic_cluster.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "client/synthetic/split_mix.h"

namespace dsd::client {
namespace {

constexpr char kControlPlaneKey[] = "node-role.kubernetes.io/control-plane";
// A rack holds this many consecutive nodes.
constexpr int kNodesPerRack = 10;
// Bound on the generated work: DaemonSets x nodes.
constexpr int64_t kMaxPairs = 5'000'000;

std::string Pad(int i, size_t width) {
  std::string s = std::to_string(i);
  return std::string(s.size() < width ? width - s.size() : 0, '0') + s;
}

// A version-4 UUID, as the API server assigns metadata.uid.
std::string Uuid(SplitMix64& rng) {
  const uint64_t hi = (rng.Next() & ~0xf000ULL) | 0x4000ULL;
  const uint64_t lo = (rng.Next() & ~(3ULL << 62)) | (2ULL << 62);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 15; i >= 0; --i) {
    out += kHex[(hi >> (4 * i)) & 0xf];
    if (i == 8 || i == 4) out += '-';
  }
  out += '-';
  for (int i = 15; i >= 0; --i) {
    out += kHex[(lo >> (4 * i)) & 0xf];
    if (i == 12) out += '-';
  }
  return out;
}

// A controller-revision-hash: 10 characters of the alphabet Kubernetes'
// rand.SafeEncodeString uses (no vowels, so no words).
std::string RevisionHash(SplitMix64& rng) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint64_t bits = rng.Next();
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out += kAlphabet[bits % (sizeof(kAlphabet) - 1)];
    bits /= sizeof(kAlphabet) - 1;
  }
  return out;
}

template <typename Repeated>
void AddLabel(Repeated* labels, const std::string& key,
              const std::string& value) {
  v1::Label* label = labels->Add();
  label->set_key(key);
  label->set_value(value);
}

void SetTime(int64_t unix_seconds, google::protobuf::Timestamp* out) {
  out->set_seconds(unix_seconds);
}

bool HasPoolLabel(const SyntheticClusterSpec& spec, int node) {
  return spec.unlabelled_every <= 0 || node % spec.unlabelled_every != 0;
}

std::string RackOf(int node) {
  return "rack-" + std::to_string((node / kNodesPerRack) % kSyntheticRacks);
}

// Whether `ds` places a pod on `node`: every nodeSelector entry among the
// node's labels (as the scheduler's NodeAffinity filter), and the
// control-plane taint tolerated (TaintToleration). The only taint we set is
// NoSchedule on the first control_plane_nodes nodes.
bool Eligible(const v1::DaemonSet& ds, const v1::Node& node, bool tainted) {
  if (tainted && ds.template_().tolerations().empty()) return false;
  for (const v1::Label& want : ds.template_().node_selector()) {
    bool found = false;
    for (const v1::Label& have : node.labels()) {
      if (have.key() == want.key() && have.value() == want.value()) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

// The order in which DaemonSets turn rack-selective: by Fibonacci hashing
// of the index, a low-discrepancy sequence, so that any first s of them are
// spread evenly over the indexes (and mix with the pool and toleration
// patterns), and s + 1 adds one DaemonSet to the s chosen before: the pod
// count falls one DaemonSet at a time.
std::vector<int> SelectionOrder(int count) {
  std::vector<int> order(static_cast<size_t>(std::max(count, 0)));
  for (int d = 0; d < count; ++d) order[static_cast<size_t>(d)] = d;
  const auto key = [](int d) {
    return static_cast<uint32_t>(d) * uint32_t{2654435769U};  // mod 2^32
  };
  std::sort(order.begin(), order.end(),
            [&key](int a, int b) { return key(a) < key(b); });
  return order;
}

// Which DaemonSets of `count` are rack-selective when `selective` are.
std::vector<bool> RackSelectiveSet(int selective, int count) {
  std::vector<bool> set(static_cast<size_t>(std::max(count, 0)), false);
  const std::vector<int> order = SelectionOrder(count);
  for (int k = 0; k < selective && k < count; ++k) {
    set[static_cast<size_t>(order[static_cast<size_t>(k)])] = true;
  }
  return set;
}

}  // namespace

absl::Status ValidateSyntheticClusterSpec(const SyntheticClusterSpec& spec) {
  const auto bad = [](const std::string& what) {
    return absl::InvalidArgumentError(what);
  };
  if (spec.nodes < 0) return bad("--nodes must be >= 0");
  if (spec.daemon_sets < 0) return bad("--daemonsets must be >= 0");
  if (static_cast<int64_t>(spec.nodes) * spec.daemon_sets > kMaxPairs) {
    return bad(
        "--nodes x --daemonsets must be <= 5,000,000 (the request "
        "would exceed protobuf's 2 GiB limit)");
  }
  if (!(spec.pods_per_node >= 0)) return bad("--pods_per_node must be >= 0");
  if (spec.missing_per_mille < 0 || spec.outdated_per_mille < 0 ||
      spec.failed_per_mille < 0 || spec.not_ready_per_mille < 0) {
    return bad("the pod state mix (--*_per_mille) must be >= 0");
  }
  if (spec.missing_per_mille + spec.outdated_per_mille + spec.failed_per_mille +
          spec.not_ready_per_mille >
      1000) {
    return bad("the pod state mix (--*_per_mille) must add up to <= 1000");
  }
  if (spec.unlabelled_every < 0) return bad("--unlabelled_every must be >= 0");
  if (spec.control_plane_nodes < 0 || spec.control_plane_nodes > spec.nodes) {
    return bad("--control_plane_nodes must be between 0 and --nodes");
  }
  return absl::OkStatus();
}

int SyntheticRackSelectiveCount(const SyntheticClusterSpec& spec) {
  if (spec.pods_per_node <= 0 || spec.nodes <= 0 || spec.daemon_sets <= 0) {
    return 0;
  }
  // Eligible nodes per kind of DaemonSet, counted over the node layout:
  // [rack selected + 1 (0: any rack)][selects pool][tolerates control plane].
  int64_t eligible[kSyntheticRacks + 1][2][2] = {};
  for (int i = 0; i < spec.nodes; ++i) {
    const int rack = (i / kNodesPerRack) % kSyntheticRacks;
    for (int pool = 0; pool < 2; ++pool) {
      for (int tolerates = 0; tolerates < 2; ++tolerates) {
        if (pool == 1 && !HasPoolLabel(spec, i)) continue;
        if (tolerates == 0 && i < spec.control_plane_nodes) continue;
        ++eligible[0][pool][tolerates];
        ++eligible[rack + 1][pool][tolerates];
      }
    }
  }
  // The expected pod count as DaemonSets turn rack-selective one by one;
  // keep the count nearest the target (the fewest DaemonSets on a tie).
  const auto pairs_of = [&eligible](int d, bool rack_selective) {
    return eligible[rack_selective ? d % kSyntheticRacks + 1 : 0][d % 2]
                   [d % 4 == 0 ? 1 : 0];
  };
  int64_t pairs = 0;
  for (int d = 0; d < spec.daemon_sets; ++d) pairs += pairs_of(d, false);
  const double kept = 1 - spec.missing_per_mille / 1000.0;
  const double target = spec.pods_per_node * spec.nodes;
  const auto distance = [&](int64_t p) {
    return std::abs(static_cast<double>(p) * kept - target);
  };
  const std::vector<int> order = SelectionOrder(spec.daemon_sets);
  int best = 0;
  double best_distance = distance(pairs);
  for (int s = 1; s <= spec.daemon_sets; ++s) {
    const int d = order[static_cast<size_t>(s - 1)];
    pairs += pairs_of(d, true) - pairs_of(d, false);
    if (distance(pairs) < best_distance) {
      best = s;
      best_distance = distance(pairs);
    }
  }
  return best;
}

bool SyntheticIsRackSelective(const SyntheticClusterSpec& spec, int index) {
  if (index < 0 || index >= spec.daemon_sets) return false;
  return RackSelectiveSet(SyntheticRackSelectiveCount(spec),
                          spec.daemon_sets)[static_cast<size_t>(index)];
}

v1::DecideRequest MakeSyntheticDecideRequest(const SyntheticClusterSpec& spec) {
  v1::DecideRequest request;
  const int64_t now = kSyntheticNowUnixSeconds;
  SetTime(now, request.mutable_now());
  v1::Snapshot& snapshot = *request.mutable_snapshot();
  SplitMix64 rng(spec.seed);

  static constexpr const char* kZones[] = {"zone-a", "zone-b", "zone-c"};
  snapshot.mutable_nodes()->Reserve(spec.nodes);
  for (int i = 0; i < spec.nodes; ++i) {
    v1::Node& node = *snapshot.add_nodes();
    node.set_name("node-" + Pad(i, 5));
    AddLabel(node.mutable_labels(), "kubernetes.io/arch", "amd64");
    AddLabel(node.mutable_labels(), "kubernetes.io/hostname", node.name());
    AddLabel(node.mutable_labels(), "kubernetes.io/os", "linux");
    AddLabel(node.mutable_labels(), "topology.kubernetes.io/zone",
             kZones[i % 3]);
    AddLabel(node.mutable_labels(), kSyntheticRackLabel, RackOf(i));
    if (HasPoolLabel(spec, i)) {
      AddLabel(node.mutable_labels(), kSyntheticPoolLabel, "general");
    }
    if (i < spec.control_plane_nodes) {
      AddLabel(node.mutable_labels(), kControlPlaneKey, "");
      v1::Taint& taint = *node.add_taints();
      taint.set_key(kControlPlaneKey);
      taint.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
    }
  }

  const std::vector<bool> rack_selective =
      RackSelectiveSet(SyntheticRackSelectiveCount(spec), spec.daemon_sets);
  static constexpr const char* kNamespaces[] = {"kube-system", "monitoring",
                                                "logging"};
  std::vector<std::string> old_hashes;
  snapshot.mutable_daemon_sets()->Reserve(spec.daemon_sets);
  for (int d = 0; d < spec.daemon_sets; ++d) {
    v1::DaemonSet& ds = *snapshot.add_daemon_sets();
    ds.set_namespace_(kNamespaces[d % 3]);
    ds.set_name("agent-" + Pad(d, 3));
    ds.set_uid(Uuid(rng));
    // Thirty days old, one minute apart: a stable adoption order.
    SetTime(now - int64_t{30} * 86400 + int64_t{60} * d,
            ds.mutable_creation_timestamp());
    ds.set_generation(2);
    ds.set_template_generation(2);
    ds.set_current_revision_hash(RevisionHash(rng));
    old_hashes.push_back(RevisionHash(rng));
    AddLabel(ds.mutable_selector()->mutable_match_labels(), "app", ds.name());
    v1::PodTemplate& t = *ds.mutable_template_();
    AddLabel(t.mutable_labels(), "app", ds.name());
    if (rack_selective[static_cast<size_t>(d)]) {
      AddLabel(t.mutable_node_selector(), kSyntheticRackLabel,
               "rack-" + std::to_string(d % kSyntheticRacks));
    }
    if (d % 2 == 1) {
      AddLabel(t.mutable_node_selector(), kSyntheticPoolLabel, "general");
    }
    if (d % 4 == 0) {
      v1::Toleration& tol = *t.add_tolerations();
      tol.set_key(kControlPlaneKey);
      tol.set_operator_(v1::TOLERATION_OPERATOR_EXISTS);
      tol.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
    }
    v1::UpdateStrategy& strategy = *ds.mutable_update_strategy();
    strategy.set_type(v1::UPDATE_STRATEGY_TYPE_ROLLING_UPDATE);
    strategy.mutable_max_unavailable()->set_count(1);
  }

  // One pod per (DaemonSet, eligible node), in the state mix of the spec.
  // Pods were created two hours ago and became ready 110 minutes ago;
  // unready ones changed five minutes ago.
  for (int d = 0; d < spec.daemon_sets; ++d) {
    const v1::DaemonSet& ds = snapshot.daemon_sets(d);
    for (int i = 0; i < spec.nodes; ++i) {
      const v1::Node& node = snapshot.nodes(i);
      if (!Eligible(ds, node, i < spec.control_plane_nodes)) continue;
      int roll = rng.PerMille();
      if ((roll -= spec.missing_per_mille) < 0) continue;
      v1::Pod& pod = *snapshot.add_pods();
      pod.set_namespace_(ds.namespace_());
      pod.set_name(ds.name() + "-" + Pad(i, 5));
      pod.set_uid(Uuid(rng));
      pod.set_controller_uid(ds.uid());
      SetTime(now - 7200, pod.mutable_creation_timestamp());
      pod.set_node_name(node.name());
      pod.set_phase(v1::POD_PHASE_RUNNING);
      pod.set_ready(true);
      int64_t ready_since = now - 6600;
      bool outdated = false;
      if ((roll -= spec.outdated_per_mille) < 0) {
        outdated = true;
      } else if ((roll -= spec.failed_per_mille) < 0) {
        pod.set_phase(v1::POD_PHASE_FAILED);
        pod.set_ready(false);
        ready_since = now - 300;
      } else if ((roll -= spec.not_ready_per_mille) < 0) {
        pod.set_ready(false);
        ready_since = now - 300;
      }
      SetTime(ready_since, pod.mutable_ready_transition_time());
      AddLabel(pod.mutable_labels(), "app", ds.name());
      AddLabel(pod.mutable_labels(), "controller-revision-hash",
               outdated ? old_hashes[static_cast<size_t>(d)]
                        : ds.current_revision_hash());
      AddLabel(pod.mutable_labels(), "pod-template-generation",
               outdated ? "1" : "2");
    }
  }
  return request;
}

}  // namespace dsd::client
