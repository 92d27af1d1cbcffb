#include "tests/testing/synthetic_cluster.h"

#include <string>
#include <vector>

#include "client/load/split_mix.h"

namespace dsd::testing {
namespace {

std::string Pad(int i) {
  std::string s = std::to_string(i);
  return std::string(s.size() < 5 ? 5 - s.size() : 0, '0') + s;
}

}  // namespace

absl::Time SyntheticNow() { return absl::FromUnixSeconds(1767225600); }

engine::Snapshot MakeSyntheticCluster(const SyntheticSpec& spec) {
  using engine::Label;
  engine::Snapshot snap;
  client::SplitMix64 rng(42);
  const absl::Time now = SyntheticNow();

  const auto k = [&](const char* s) { return snap.Intern(s); };
  const std::string_view kPool = k("dsd.example/pool");
  const std::string_view kGeneral = k("general");
  const std::string_view kZone = k("topology.kubernetes.io/zone");
  const std::string_view kHostname = k("kubernetes.io/hostname");
  const std::string_view kOs = k("kubernetes.io/os");
  const std::string_view kLinux = k("linux");
  const std::string_view kControlPlane =
      k("node-role.kubernetes.io/control-plane");
  const std::string_view zones[] = {k("zone-a"), k("zone-b"), k("zone-c")};

  snap.nodes.reserve(static_cast<size_t>(spec.nodes));
  for (int i = 0; i < spec.nodes; ++i) {
    engine::Node node;
    node.name = snap.Intern("node-" + Pad(i));
    std::vector<Label> labels = {
        {kHostname, node.name}, {kOs, kLinux}, {kZone, zones[i % 3]}};
    if (spec.unlabelled_every <= 0 || i % spec.unlabelled_every != 0) {
      labels.push_back({kPool, kGeneral});
    }
    if (i < spec.control_plane_nodes) {
      labels.push_back({kControlPlane, k("")});
      node.taints.push_back(
          {kControlPlane, k(""), engine::TaintEffect::kNoSchedule, {}});
    }
    node.labels = snap.InternLabels(labels);
    snap.nodes.push_back(std::move(node));
  }

  const std::string_view kApp = k("app");
  const std::string_view kHash = k("controller-revision-hash");
  const std::string_view kGeneration = k("pod-template-generation");
  const std::string_view kNamespace = k("kube-system");
  for (int d = 0; d < spec.daemon_sets; ++d) {
    engine::DaemonSet ds;
    ds.namespace_name = kNamespace;
    ds.name = snap.Intern("agent-" + Pad(d));
    ds.uid = snap.Intern("uid-ds-" + Pad(d));
    ds.creation_timestamp = now - absl::Hours(24);
    ds.current_revision_hash = snap.Intern("rev-" + Pad(d) + "-b");
    ds.template_generation = 2;
    ds.selector.match_labels = snap.InternLabels({{kApp, ds.name}});
    ds.template_labels = ds.selector.match_labels;
    if (d % 2 == 1) ds.node_selector = snap.InternLabels({{kPool, kGeneral}});
    if (d % 4 == 0) {
      ds.tolerations.push_back({kControlPlane,
                                engine::TolerationOperator::kExists,
                                {},
                                engine::TaintEffect::kNoSchedule,
                                {}});
    }
    snap.daemon_sets.push_back(ds);
  }

  // One pod per (DaemonSet, eligible node), in the state mix of the spec.
  const std::string_view old_generation = k("1");
  const std::string_view new_generation = k("2");
  for (const engine::DaemonSet& ds : snap.daemon_sets) {
    const std::string_view old_hash =
        snap.Intern(std::string(ds.current_revision_hash) + "-old");
    const bool tolerates_cp = !ds.tolerations.empty();
    for (int i = 0; i < spec.nodes; ++i) {
      const engine::Node& node = snap.nodes[static_cast<size_t>(i)];
      if (!ds.node_selector.empty() && !engine::FindLabel(node.labels, kPool)) {
        continue;
      }
      if (i < spec.control_plane_nodes && !tolerates_cp) continue;
      int roll = rng.PerMille();
      if ((roll -= spec.missing_per_mille) < 0) continue;
      engine::Pod pod;
      pod.namespace_name = ds.namespace_name;
      pod.name = snap.Intern(std::string(ds.name) + "-" + Pad(i));
      pod.uid = snap.Intern(std::string(ds.uid) + "-pod-" + Pad(i));
      pod.controller_uid = ds.uid;
      pod.node_name = node.name;
      pod.creation_timestamp = now - absl::Hours(1);
      pod.phase = engine::PodPhase::kRunning;
      pod.ready = true;
      pod.ready_since = now - absl::Minutes(50);
      bool outdated = false;
      if ((roll -= spec.outdated_per_mille) < 0) {
        outdated = true;
      } else if ((roll -= spec.failed_per_mille) < 0) {
        pod.phase = engine::PodPhase::kFailed;
        pod.ready = false;
      } else if ((roll -= spec.not_ready_per_mille) < 0) {
        pod.ready = false;
      }
      pod.labels = snap.InternLabels(
          {{kApp, ds.name},
           {kHash, outdated ? old_hash : ds.current_revision_hash},
           {kGeneration, outdated ? old_generation : new_generation}});
      snap.pods.push_back(std::move(pod));
    }
  }
  return snap;
}

}  // namespace dsd::testing
