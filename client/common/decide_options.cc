#include "client/common/decide_options.h"

#include <charconv>
#include <string_view>
#include <system_error>

namespace dsd::client {
namespace {

// Decimal digits only, no sign; false on overflow or anything else.
bool ParseNumber(std::string_view text, int& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != text.npos) {
    return false;
  }
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "1.29", "v1.29", "1.29.3" -> 29; "" (and `minor` set) or the problem.
std::string ParseKubernetesVersion(std::string_view text, int& minor) {
  const std::string typed(text);
  std::string_view v = text;
  if (v.starts_with('v')) v.remove_prefix(1);
  const size_t dot = v.find('.');
  const size_t patch = dot == v.npos ? v.npos : v.find('.', dot + 1);
  int major = 0;
  int patch_number = 0;
  if (dot == v.npos || !ParseNumber(v.substr(0, dot), major) ||
      !ParseNumber(
          v.substr(dot + 1, patch == v.npos ? v.npos : patch - dot - 1),
          minor) ||
      (patch != v.npos && !ParseNumber(v.substr(patch + 1), patch_number))) {
    return "--kubernetes-version " + typed +
           ": not a Kubernetes version like 1.29";
  }
  if (major != 1 || minor < kOldestKubernetesMinor ||
      minor > kNewestKubernetesMinor) {
    return "--kubernetes-version " + typed + ": dsd emulates 1." +
           std::to_string(kOldestKubernetesMinor) + " to 1." +
           std::to_string(kNewestKubernetesMinor);
  }
  return "";
}

}  // namespace

std::string ToDecideOptions(const DecideOptionFlags& flags,
                            v1::DecideOptions& out) {
  if (!flags.kubernetes_version.empty()) {
    int minor = 0;
    if (std::string e = ParseKubernetesVersion(flags.kubernetes_version, minor);
        !e.empty()) {
      return e;
    }
    out.set_kubernetes_minor(minor);
  }
  std::string_view gates = flags.feature_gates;
  while (!gates.empty()) {
    const size_t comma = gates.find(',');
    const std::string_view gate = gates.substr(0, comma);
    gates = comma == gates.npos ? std::string_view() : gates.substr(comma + 1);
    if (gate.empty()) continue;
    const size_t eq = gate.find('=');
    const std::string_view name = gate.substr(0, eq);
    const std::string_view value =
        eq == gate.npos ? std::string_view() : gate.substr(eq + 1);
    if (name != kTaintTolerationComparisonOperatorsGate) {
      return "--feature-gates: unrecognized feature gate \"" +
             std::string(name) + "\" (dsd knows " +
             kTaintTolerationComparisonOperatorsGate + ")";
    }
    if (value != "true" && value != "false") {
      return "--feature-gates: " + std::string(name) +
             " must be =true or =false, got \"" + std::string(gate) + "\"";
    }
    out.set_toleration_comparison_operators(value == "true");
  }
  out.set_taint_eviction(flags.taint_eviction);
  out.set_one_sync(flags.one_sync);
  return "";
}

}  // namespace dsd::client
