#include "client/adapter/pod_body.h"

#include <charconv>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "client/adapter/json_fields.h"

namespace dsd::adapter {
namespace {

// util.AddOrUpdateDaemonPodTolerations, in its order; the last only for
// hostNetwork pods. All operator Exists, no value, no tolerationSeconds.
struct DefaultToleration {
  const char* key;
  const char* effect;
};
constexpr DefaultToleration kDefaultTolerations[] = {
    {"node.kubernetes.io/not-ready", "NoExecute"},
    {"node.kubernetes.io/unreachable", "NoExecute"},
    {"node.kubernetes.io/disk-pressure", "NoSchedule"},
    {"node.kubernetes.io/memory-pressure", "NoSchedule"},
    {"node.kubernetes.io/pid-pressure", "NoSchedule"},
    {"node.kubernetes.io/unschedulable", "NoSchedule"},
};
constexpr DefaultToleration kHostNetworkToleration = {
    "node.kubernetes.io/network-unavailable", "NoSchedule"};

// v1helper.AddOrUpdateTolerationInPodSpec: a toleration that
// MatchToleration-s the default (same key, operator, value and effect) is
// replaced by it in place; if one of them already equals it (no
// tolerationSeconds), nothing changes; with none, it is appended.
void AddOrUpdate(nlohmann::json& tolerations, const DefaultToleration& d) {
  const nlohmann::json toleration = {
      {"key", d.key}, {"operator", "Exists"}, {"effect", d.effect}};
  bool updated = false;
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& t : tolerations) {
    const bool matches =
        Text(t, "key") == d.key && Text(t, "operator") == "Exists" &&
        Text(t, "value").empty() && Text(t, "effect") == d.effect;
    if (!matches) {
      out.push_back(t);
      continue;
    }
    const auto seconds = t.find("tolerationSeconds");
    if (seconds == t.end() || seconds->is_null()) return;  // DeepEqual
    out.push_back(toleration);
    updated = true;
  }
  if (!updated) out.push_back(toleration);
  tolerations = std::move(out);
}

// strconv.ParseInt(s, 10, 64): an optional sign, then decimal digits.
bool ParseInt64(std::string_view s, int64_t& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
  return error == std::errc() && end == s.data() + s.size();
}

absl::Status Invalid(const std::string& what, const std::string& field,
                     const std::string& problem) {
  return absl::InvalidArgumentError(what + ": " + field + ": " + problem);
}

}  // namespace

absl::StatusOr<nlohmann::json> DaemonPod(const nlohmann::json& daemon_set,
                                         const std::string& node,
                                         const std::string& revision_hash) {
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  const std::string name = Text(meta, "name");
  const std::string what = "DaemonSet " + Text(meta, "namespace") + "/" + name;
  if (name.empty()) return Invalid(what, "metadata.name", "required");
  if (Text(meta, "uid").empty()) {
    return Invalid(what, "metadata.uid", "required");
  }
  const nlohmann::json& pod_template =
      Member(Member(daemon_set, "spec"), "template");
  if (!pod_template.is_object()) {
    return Invalid(what, "spec.template", "required");
  }
  const nlohmann::json& template_meta = Member(pod_template, "metadata");
  nlohmann::json labels = Member(template_meta, "labels");
  if (!labels.is_object() || labels.empty()) {
    // podControl.createPods: "unable to create pods, no labels".
    return Invalid(what, "spec.template.metadata.labels",
                   "required: unable to create pods, no labels");
  }

  // util.CreatePodTemplate: the generation and hash labels.
  const nlohmann::json& value = Member(
      Member(meta, "annotations"), "deprecated.daemonset.template.generation");
  if (!value.is_null()) {
    int64_t generation = 0;
    if (!value.is_string() ||
        !ParseInt64(value.get<std::string>(), generation)) {
      return Invalid(
          what,
          "metadata.annotations[deprecated.daemonset.template.generation]",
          "not an integer");
    }
    labels["pod-template-generation"] = std::to_string(generation);
  }
  if (!revision_hash.empty()) {
    labels["controller-revision-hash"] = revision_hash;
  }

  // GetPodFromTemplate: generateName, labels, annotations, finalizers and
  // the controller reference; nothing else of the template's metadata.
  // getPodsPrefix: "<name>-" unless that fails pod-name validation, which
  // for a valid DaemonSet name means longer than 253 characters.
  nlohmann::json pod_meta = {
      {"generateName", name.size() < 253 ? name + "-" : name},
      {"labels", std::move(labels)},
      {"ownerReferences", nlohmann::json::array({ControllerRef(daemon_set)})}};
  for (const char* key : {"annotations", "finalizers"}) {
    const nlohmann::json& v = Member(template_meta, key);
    if (!v.is_null() && !v.empty()) pod_meta[key] = v;
  }

  nlohmann::json spec = Member(pod_template, "spec");
  if (spec.is_null()) spec = nlohmann::json::object();
  if (!spec.is_object()) {
    return Invalid(what, "spec.template.spec", "not an object");
  }
  nlohmann::json& tolerations = spec["tolerations"];
  if (!tolerations.is_array()) tolerations = nlohmann::json::array();
  for (const DefaultToleration& d : kDefaultTolerations) {
    AddOrUpdate(tolerations, d);
  }
  if (Member(spec, "hostNetwork") == true) {
    AddOrUpdate(tolerations, kHostNetworkToleration);
  }
  // util.ReplaceDaemonSetPodNodeNameNodeAffinity: one required term,
  // whatever the template required (the plan already checked it for this
  // node); preferred terms and pod (anti-)affinity stay.
  nlohmann::json& affinity = spec["affinity"];
  if (!affinity.is_object()) affinity = nlohmann::json::object();
  nlohmann::json& node_affinity = affinity["nodeAffinity"];
  if (!node_affinity.is_object()) node_affinity = nlohmann::json::object();
  nlohmann::json& required =
      node_affinity["requiredDuringSchedulingIgnoredDuringExecution"];
  if (!required.is_object()) required = nlohmann::json::object();
  required["nodeSelectorTerms"] = {
      {{"matchFields",
        {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {node}}}}}}};

  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", std::move(pod_meta)},
                        {"spec", std::move(spec)}};
}

}  // namespace dsd::adapter
