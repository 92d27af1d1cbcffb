// Taints and tolerations with Kubernetes' rules (core/v1 toleration.go,
// component-helpers/scheduling/corev1), and the default tolerations the
// DaemonSet controller adds to every daemon pod (daemonset_util.go), kept as
// one data table with the Kubernetes version each row appeared in.
#ifndef DSD_SERVER_ENGINE_TAINTS_H_
#define DSD_SERVER_ENGINE_TAINTS_H_

#include <array>
#include <climits>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/common/hash.h"
#include "server/engine/types.h"

namespace dsd::engine {

// The Kubernetes minor version dsd emulates when Options::kubernetes_minor is
// 0.
inline constexpr int kCurrentKubernetesMinor = 35;

// The minor version Options::kubernetes_minor selects: itself, or
// kCurrentKubernetesMinor when it is 0 (or negative). The one place that
// resolves it.
inline int EmulatedKubernetesMinor(int kubernetes_minor) {
  return kubernetes_minor > 0 ? kubernetes_minor : kCurrentKubernetesMinor;
}

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

// A pod's tolerations compiled once for matching many taints: which is the
// first toleration (in the pod's order) that tolerates a taint. A short
// list is scanned; a long one is indexed by key (Exists) and by key and
// value (Equal), so that a node with 60,000 taints against a pod with
// 60,000 tolerations costs 60,000 lookups, not 3.6 billion comparisons.
// Lt/Gt tolerations and ones with an empty key but not Exists (which API
// validation rejects) are always scanned. Copyable; the tolerations'
// strings must outlive it.
class TolerationMatcher {
 public:
  TolerationMatcher(std::vector<Toleration> tolerations,
                    bool comparison_operators);

  const std::vector<Toleration>& tolerations() const { return tolerations_; }

  // The index of the first toleration tolerating `taint`, or -1.
  int FirstTolerating(const Taint& taint) const;
  bool Tolerated(const Taint& taint) const {
    return FirstTolerating(taint) >= 0;
  }

  static constexpr size_t kIndexAbove = 16;

 private:
  // The first toleration index per taint effect (kNoSchedule,
  // kPreferNoSchedule, kNoExecute); kNone where none applies.
  using FirstByEffect = std::array<int32_t, 3>;
  static constexpr int32_t kNone = INT32_MAX;
  static void Note(FirstByEffect& first, const Toleration& t, int32_t index);

  std::vector<Toleration> tolerations_;
  bool comparison_operators_;
  bool indexed_ = false;
  FirstByEffect any_key_{};  // empty key, Exists
  // Hashed with common/hash.h: Abseil's hash falls back to std::hash
  // for std::string_view here (see there).
  struct PairHash {
    size_t operator()(
        const std::pair<std::string_view, std::string_view>& p) const {
      return common::HashString(p.second, common::HashString(p.first));
    }
  };
  absl::flat_hash_map<std::string_view, FirstByEffect, common::StringViewHash,
                      common::StringViewEq>
      exists_;
  absl::flat_hash_map<std::pair<std::string_view, std::string_view>,
                      FirstByEffect, PairHash>
      equal_;
  std::vector<int32_t> scanned_;  // the rest, in order
};

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
