// Single-object conversion: reuses the object converter by shaping the
// input as the object it expects (a daemon pod as a DaemonSet whose
// template is the pod), so there is one reading of each Kubernetes field.
#include "client/k8s/object_json.h"

#include <utility>

#include "client/k8s/internal/object_converter.h"

namespace dsd::client {
namespace {

using Json = nlohmann::json;

// The label both selector and template get when a pod has no labels: a
// DaemonSet's selector must be non-empty and match its template.
constexpr char kPlaceholderLabel[] = "dsd.dev/daemon-pod";

const Json* Member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const Json& object, const char* key) {
  const Json* value = Member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>()
                                                : std::string();
}

std::string ObjectLabel(const char* kind, const Json& object) {
  const Json* meta = Member(object, "metadata");
  if (meta == nullptr) return kind;
  std::string ns = StringMember(*meta, "namespace");
  std::string name = StringMember(*meta, "name");
  if (std::string(kind) == "Node") return "Node " + name;
  return std::string(kind) + " " + (ns.empty() ? "default" : ns) + "/" + name;
}

}  // namespace

v1::Node NodeFromJson(const Json& node, std::vector<InputProblem>& problems) {
  const internal::ObjectContext ctx{"", ObjectLabel("Node", node), &problems,
                                    nullptr, nullptr};
  if (!node.is_object()) {
    ctx.Add("", "must be a JSON object, got " + internal::Got(node));
    return v1::Node();
  }
  return internal::ConvertNode(node, ctx);
}

v1::DaemonSet DaemonSetFromJson(const Json& daemon_set,
                                std::vector<InputProblem>& problems) {
  const internal::ObjectContext ctx{"", ObjectLabel("DaemonSet", daemon_set),
                                    &problems, nullptr, nullptr};
  if (!daemon_set.is_object()) {
    ctx.Add("", "must be a JSON object, got " + internal::Got(daemon_set));
    return v1::DaemonSet();
  }
  return internal::ConvertDaemonSet(daemon_set, ctx);
}

std::optional<DaemonSetOwner> DaemonSetOwnerOf(const Json& pod) {
  const Json* meta = Member(pod, "metadata");
  if (meta == nullptr) return std::nullopt;
  const Json* refs = Member(*meta, "ownerReferences");
  if (refs == nullptr || !refs->is_array()) return std::nullopt;
  for (const Json& ref : *refs) {
    const Json* controller = Member(ref, "controller");
    if (controller == nullptr || !controller->is_boolean() ||
        !controller->get<bool>()) {
      continue;
    }
    // Kubernetes allows one controller reference; the first one decides.
    // apiVersion "apps/v1" (older: extensions/v1beta1, apps/v1beta2): the
    // group is what names the kind, so any "apps/" or "extensions/" one.
    const std::string api_version = StringMember(ref, "apiVersion");
    const bool apps_group = api_version.rfind("apps/", 0) == 0 ||
                            api_version.rfind("extensions/", 0) == 0;
    if (StringMember(ref, "kind") != "DaemonSet" || !apps_group) {
      return std::nullopt;
    }
    DaemonSetOwner owner;
    owner.name = StringMember(ref, "name");
    if (owner.name.empty()) return std::nullopt;
    owner.uid = StringMember(ref, "uid");
    owner.namespace_name = StringMember(*meta, "namespace");
    if (owner.namespace_name.empty()) owner.namespace_name = "default";
    return owner;
  }
  return std::nullopt;
}

v1::DaemonSet DaemonSetFromPod(const Json& pod, const DaemonSetOwner& owner,
                               std::vector<InputProblem>& problems) {
  // The pod as the template of a DaemonSet; problems found under
  // spec.template.X are the pod's own X.
  Json labels = Json::object();
  if (const Json* meta = Member(pod, "metadata")) {
    if (const Json* l = Member(*meta, "labels")) labels = *l;
  }
  if (labels.is_object() && labels.empty()) labels[kPlaceholderLabel] = "true";
  Json ds = {
      {"metadata",
       {{"namespace", owner.namespace_name},
        {"name", owner.name},
        {"uid", owner.uid}}},
      {"spec",
       {{"selector", {{"matchLabels", labels}}},
        {"template", {{"metadata", {{"labels", labels}}}}}}},
  };
  if (const Json* spec = Member(pod, "spec")) {
    ds["spec"]["template"]["spec"] = *spec;
  }
  std::vector<InputProblem> found;
  const internal::ObjectContext ctx{"", ObjectLabel("Pod", pod), &found,
                                    nullptr, nullptr};
  v1::DaemonSet out = internal::ConvertDaemonSet(ds, ctx);
  for (InputProblem& p : found) {
    static constexpr std::string_view kPrefix = "spec.template.";
    if (p.field.rfind(kPrefix, 0) == 0) p.field.erase(0, kPrefix.size());
    problems.push_back(std::move(p));
  }
  return out;
}

}  // namespace dsd::client
