// Tolerations against taints (core/v1 Toleration.ToleratesTaint) and the
// daemon-pod default tolerations (AddOrUpdateDaemonPodTolerations).
#include "server/engine/taints.h"

#include <algorithm>
#include <array>
#include <utility>

#include "server/engine/internal/strings.h"
#include "server/engine/k8s_names.h"

namespace dsd::engine {
namespace {

// The default tolerations table, in the order upstream applies it. Versions:
// the DaemonSet docs' table ("1.13+" not-ready/unreachable, "1.8+" pressure,
// "1.12+" unschedulable and network-unavailable) and kubernetes#67036 for
// pid-pressure (documented as 1.14). All are Exists, empty value, forever.
constexpr std::array<DefaultToleration, 7> kDefaultTolerations = {{
    {"node.kubernetes.io/not-ready", TaintEffect::kNoExecute, false, 13},
    {"node.kubernetes.io/unreachable", TaintEffect::kNoExecute, false, 13},
    {"node.kubernetes.io/disk-pressure", TaintEffect::kNoSchedule, false, 8},
    {"node.kubernetes.io/memory-pressure", TaintEffect::kNoSchedule, false, 8},
    {"node.kubernetes.io/pid-pressure", TaintEffect::kNoSchedule, false, 14},
    {"node.kubernetes.io/unschedulable", TaintEffect::kNoSchedule, false, 12},
    {"node.kubernetes.io/network-unavailable", TaintEffect::kNoSchedule, true,
     12},
}};

// AddOrUpdateTolerationInPodSpec's notion of "the same toleration":
// key, operator, value and effect equal (tolerationSeconds ignored).
bool SameToleration(const Toleration& a, const Toleration& b) {
  return a.key == b.key && a.op == b.op && a.value == b.value &&
         a.effect == b.effect;
}

}  // namespace

std::span<const DefaultToleration> DefaultDaemonTolerations() {
  return kDefaultTolerations;
}

bool Tolerates(const Toleration& toleration, const Taint& taint,
               bool comparison_operators) {
  if (toleration.effect && *toleration.effect != taint.effect()) return false;
  if (!toleration.key.empty() && toleration.key != taint.key()) return false;
  switch (toleration.op) {
    case TolerationOperator::kEqual:
      return toleration.value == taint.value();
    case TolerationOperator::kExists:
      return true;
    case TolerationOperator::kLt:
    case TolerationOperator::kGt: {
      if (!comparison_operators) return false;
      const auto want = ParseCanonicalInt64(toleration.value);
      const auto have = ParseCanonicalInt64(taint.value());
      if (!want || !have) return false;
      return toleration.op == TolerationOperator::kLt ? *have < *want
                                                      : *have > *want;
    }
  }
  return false;
}

TolerationMatcher::TolerationMatcher(std::vector<Toleration> tolerations,
                                     bool comparison_operators)
    : tolerations_(std::move(tolerations)),
      comparison_operators_(comparison_operators),
      indexed_(tolerations_.size() > kIndexAbove) {
  if (!indexed_) return;
  constexpr FirstByEffect kEmpty = {kNone, kNone, kNone};
  any_key_ = kEmpty;
  for (size_t i = 0; i < tolerations_.size(); ++i) {
    const Toleration& t = tolerations_[i];
    const auto index = static_cast<int32_t>(i);
    FirstByEffect* first = nullptr;
    if (t.op == TolerationOperator::kExists) {
      first = t.key.empty() ? &any_key_
                            : &exists_.try_emplace(t.key, kEmpty).first->second;
    } else if (t.op == TolerationOperator::kEqual && !t.key.empty()) {
      first =
          &equal_.try_emplace(std::pair(t.key, t.value), kEmpty).first->second;
    } else {
      scanned_.push_back(index);
      continue;
    }
    Note(*first, t, index);
  }
}

void TolerationMatcher::Note(FirstByEffect& first, const Toleration& t,
                             int32_t index) {
  for (size_t e = 0; e < first.size(); ++e) {
    if (t.effect && static_cast<size_t>(*t.effect) != e) continue;
    first[e] = std::min(first[e], index);
  }
}

int TolerationMatcher::FirstTolerating(const Taint& taint) const {
  const std::vector<Toleration>& all = tolerations_;
  if (!indexed_) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (Tolerates(all[i], taint, comparison_operators_)) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  const auto effect = static_cast<size_t>(taint.effect());
  int32_t best = any_key_[effect];
  if (const auto it = exists_.find(taint.key()); it != exists_.end()) {
    best = std::min(best, it->second[effect]);
  }
  if (const auto it = equal_.find(std::pair(taint.key(), taint.value()));
      it != equal_.end()) {
    best = std::min(best, it->second[effect]);
  }
  for (int32_t i : scanned_) {
    if (i >= best) break;
    if (Tolerates(all[static_cast<size_t>(i)], taint, comparison_operators_)) {
      best = i;
      break;
    }
  }
  return best == kNone ? -1 : best;
}

std::vector<Toleration> DaemonPodTolerations(const DaemonSet& ds, int minor) {
  minor = EmulatedKubernetesMinor(minor);
  std::vector<Toleration> result = ds.tolerations;
  for (const DefaultToleration& d : kDefaultTolerations) {
    if (d.since_minor > minor) continue;
    if (d.host_network_only && !ds.host_network) continue;
    const Toleration def{d.key, TolerationOperator::kExists, "", d.effect,
                         std::nullopt};
    // AddOrUpdateTolerationInPodSpec returns unchanged as soon as it meets
    // a toleration deep-equal to the default (tolerationSeconds included).
    const bool present =
        std::any_of(result.begin(), result.end(), [&](const Toleration& t) {
          return SameToleration(t, def) && !t.toleration_seconds;
        });
    if (present) continue;
    bool replaced = false;
    for (Toleration& t : result) {
      if (SameToleration(t, def)) {
        t = def;  // drops tolerationSeconds: daemon pods tolerate forever
        replaced = true;
      }
    }
    if (!replaced) result.push_back(def);
  }
  return result;
}

std::string_view TaintEffectName(TaintEffect effect) {
  switch (effect) {
    case TaintEffect::kNoSchedule:
      return "NoSchedule";
    case TaintEffect::kPreferNoSchedule:
      return "PreferNoSchedule";
    case TaintEffect::kNoExecute:
      return "NoExecute";
  }
  return "?";
}

std::string DescribeTaint(const Taint& taint) {
  if (taint.value().empty()) {
    return internal::Cat(taint.key(), ":", TaintEffectName(taint.effect()));
  }
  return internal::Cat(taint.key(), "=", taint.value(), ":",
                       TaintEffectName(taint.effect()));
}

}  // namespace dsd::engine
