// dsd.v1.DecideOptions from kube-style flags (--kubernetes-version,
// --feature-gates, --taint-eviction, --one-sync), the one place that reads
// them for decide, explain and load. No CLI parser here: main registers the
// flags into DecideOptionFlags and calls ToDecideOptions.
#ifndef DSD_CLIENT_COMMON_DECIDE_OPTIONS_H_
#define DSD_CLIENT_COMMON_DECIDE_OPTIONS_H_

#include <string>

#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

// The Kubernetes versions the engine emulates: 1.8 to 1.35 (the newest is
// engine::kCurrentKubernetesMinor; tests/e2e checks the two agree).
inline constexpr int kOldestKubernetesMinor = 8;
inline constexpr int kNewestKubernetesMinor = 35;

// The feature gate --feature-gates knows (DecideOptions
// .toleration_comparison_operators).
inline constexpr char kTaintTolerationComparisonOperatorsGate[] =
    "TaintTolerationComparisonOperators";

// The flags as typed. Empty strings and false: the defaults (current
// upstream behaviour).
struct DecideOptionFlags {
  // --kubernetes-version: "1.29", "v1.29" or "1.29.3"; empty: current.
  std::string kubernetes_version;
  // --feature-gates: "Gate=true,Other=false", as Kubernetes components.
  std::string feature_gates;
  bool taint_eviction = false;  // --taint-eviction
  bool one_sync = false;        // --one-sync
};

// Fills `out` from `flags`. Returns "" or a usage error naming the flag as
// typed: a version that is not 1.<minor> or outside 1.8..1.35, an unknown
// feature gate, a gate value that is not true or false.
std::string ToDecideOptions(const DecideOptionFlags& flags,
                            v1::DecideOptions& out);

}  // namespace dsd::client

#endif  // DSD_CLIENT_COMMON_DECIDE_OPTIONS_H_
