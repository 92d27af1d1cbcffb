// One Kubernetes object (as nlohmann::json) -> its dsd.v1 message, with
// Kubernetes' API defaulting, reporting wrong types and values Kubernetes
// would reject that the proto cannot express as InputProblems named by the
// Kubernetes field path. Internal to dsd::client_k8s; never throws.
#ifndef DSD_CLIENT_K8S_INTERNAL_OBJECT_CONVERTER_H_
#define DSD_CLIENT_K8S_INTERNAL_OBJECT_CONVERTER_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/k8s/internal/document_parser.h"
#include "client/k8s/snapshot_loader.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::client::internal {

// Where problems about one object go. `source` and `object` are copied into
// every problem; `problems` is not owned and must outlive the context.
struct ObjectContext {
  std::string source;
  std::string object;
  std::vector<InputProblem>* problems = nullptr;
  // The input's text of numbers that print differently (may be null).
  const NumberTexts* numbers = nullptr;
  // Where warnings go, one line each ("warning: ..."); may be null.
  std::vector<std::string>* warnings = nullptr;

  void Add(std::string field, std::string message) const;
  void Warn(const std::string& field, const std::string& message) const;
};

// dsd's own DaemonSet annotations (README "Rollout annotations"): the
// rollout extensions of dsd.v1.UpdateStrategy, which Kubernetes has no field
// for. Any other annotation with the prefix gets a warning.
inline constexpr char kDsdAnnotationPrefix[] = "dsd.dev/";
// A number of nodes (>= 0) or a percentage of desired ("20%") that stay on
// old revisions.
inline constexpr char kRolloutPartitionAnnotation[] =
    "dsd.dev/rollout-partition";
// "true": no rolling-update replacements (nodes without a pod still get
// one); "false": the default.
inline constexpr char kRolloutPausedAnnotation[] = "dsd.dev/rollout-paused";
// A label selector in kubectl syntax ("zone in (a,b),!canary-excluded"):
// only matching nodes get the new revision.
inline constexpr char kRolloutNodeSelectorAnnotation[] =
    "dsd.dev/rollout-node-selector";

// The label Kubernetes puts on ControllerRevisions and pods.
inline constexpr char kControllerRevisionHashLabel[] =
    "controller-revision-hash";
inline constexpr char kPodTemplateGenerationLabel[] = "pod-template-generation";
inline constexpr char kTemplateGenerationAnnotation[] =
    "deprecated.daemonset.template.generation";

// The parts of an apps/v1 ControllerRevision that name a revision hash.
struct ControllerRevision {
  std::string namespace_name;  // "default" when absent
  std::string name;
  std::map<std::string, std::string> labels;
  bool has_controller = false;  // an ownerReference with controller: true
  std::string controller_uid;   // its uid
  int64_t revision = 0;
};

// A stable stand-in for metadata.uid, which objects written by hand (or
// `kubectl create --dry-run -o yaml`) do not have: "uid:<ns>/<name>".
std::string SynthesizedUid(const std::string& namespace_name,
                           const std::string& name);

// Each converts `object` (a JSON object whose kind was already checked) and
// reports problems to `ctx`; the result is complete even when problems
// were reported (unusable fields are left at their defaults).
v1::Node ConvertNode(const nlohmann::json& object, const ObjectContext& ctx);
v1::DaemonSet ConvertDaemonSet(const nlohmann::json& object,
                               const ObjectContext& ctx);
v1::Pod ConvertPod(const nlohmann::json& object, const ObjectContext& ctx);
ControllerRevision ConvertControllerRevision(const nlohmann::json& object,
                                             const ObjectContext& ctx);

// A JSON value as problem messages show it: strings quoted, numbers as the
// input wrote them (from `numbers`, when given and listed there), other
// scalars as JSON, maps and lists by shape ("a map", "a list").
std::string Got(const nlohmann::json& value,
                const NumberTexts* numbers = nullptr);

// "\"Like\"": a string quoted and escaped as JSON (Go's %q for the ASCII
// text Kubernetes values hold), shortened to its first 100 bytes and its
// length when longer than 200. Never throws on invalid UTF-8.
std::string Quote(const std::string& text);

}  // namespace dsd::client::internal

#endif  // DSD_CLIENT_K8S_INTERNAL_OBJECT_CONVERTER_H_
