// Taints and tolerations with Kubernetes' rules (core/v1 toleration.go,
// component-helpers/scheduling/corev1), and the default tolerations the
// DaemonSet controller adds to every daemon pod (daemonset_util.go), kept as
// one data table with the Kubernetes version each row appeared in.
#ifndef DSD_SERVER_ENGINE_TAINTS_H_
#define DSD_SERVER_ENGINE_TAINTS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/types.h"

namespace dsd::engine {

// The Kubernetes minor version dsd emulates when Options::kubernetes_minor is
// 0.
inline constexpr int kCurrentKubernetesMinor = 35;

// One row of the default daemon-pod tolerations table.
struct DefaultToleration {
  std::string_view key;
  TaintEffect effect;
  bool host_network_only;  // added only when the template sets hostNetwork
  int since_minor;         // first Kubernetes 1.<minor> that adds it
};

// The whole table, in the order the controller applies it.
std::span<const DefaultToleration> DefaultDaemonTolerations();

// Whether one toleration tolerates one taint (ToleratesTaint). Lt/Gt only
// with the comparison-operators gate.
bool Tolerates(const Toleration& toleration, const Taint& taint,
               bool comparison_operators);

// The tolerations of a daemon pod: the template's, merged with the default
// table for `minor` as AddOrUpdateTolerationInPodSpec does (a template
// toleration equal in key, operator, value and effect is replaced in place
// by the default; otherwise the default is appended; nothing changes when a
// toleration identical to the default is already there). `minor` <= 0
// means the current version.
std::vector<Toleration> DaemonPodTolerations(const DaemonSet& ds, int minor);

// "key=value:Effect" (or "key:Effect" for an empty value).
std::string DescribeTaint(const Taint& taint);
std::string_view TaintEffectName(TaintEffect effect);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_TAINTS_H_
