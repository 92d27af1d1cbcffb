#include "client/adapter/history.h"

#include <utility>

#include "client/adapter/json_fields.h"

namespace dsd::adapter {
namespace {

// Without nulls and empty objects, recursively (what Go's omitempty and
// nil pointers make of the same struct).
nlohmann::json Normalized(const nlohmann::json& value) {
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const nlohmann::json& v : value) out.push_back(Normalized(v));
    return out;
  }
  if (!value.is_object()) return value;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    nlohmann::json v = Normalized(it.value());
    if (v.is_null() || (v.is_object() && v.empty())) continue;
    out[it.key()] = std::move(v);
  }
  return out;
}

nlohmann::json NormalizedTemplate(nlohmann::json pod_template) {
  if (pod_template.is_object()) pod_template.erase("$patch");
  return Normalized(pod_template);
}

}  // namespace

nlohmann::json RevisionData(const nlohmann::json& daemon_set) {
  nlohmann::json pod_template = Member(Member(daemon_set, "spec"), "template");
  if (!pod_template.is_object()) pod_template = nlohmann::json::object();
  pod_template["$patch"] = "replace";
  return {{"spec", {{"template", std::move(pod_template)}}}};
}

bool RevisionMatches(const nlohmann::json& daemon_set,
                     const nlohmann::json& revision) {
  const nlohmann::json& held =
      Member(Member(Member(revision, "data"), "spec"), "template");
  const nlohmann::json& current =
      Member(Member(daemon_set, "spec"), "template");
  return held.is_object() && current.is_object() &&
         NormalizedTemplate(held) == NormalizedTemplate(current);
}

std::string RevisionHash(const nlohmann::json& pod_template,
                         std::optional<int32_t> collision_count) {
  uint32_t hash = 2166136261u;  // FNV-32a
  auto add = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 16777619u;
  };
  // Sorted keys, no whitespace: one text per template.
  for (const char c : NormalizedTemplate(pod_template).dump()) {
    add(static_cast<unsigned char>(c));
  }
  if (collision_count) {
    // As ComputeHash: the count as 4 little-endian bytes in an 8-byte
    // buffer.
    const auto count = static_cast<uint32_t>(*collision_count);
    for (int i = 0; i < 8; ++i) {
      add(static_cast<unsigned char>(i < 4 ? (count >> (8 * i)) & 0xFF : 0));
    }
  }
  // rand.SafeEncodeString(fmt.Sprint(sum)).
  static constexpr char kAlphanums[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (const char digit : std::to_string(hash)) {
    out += kAlphanums[static_cast<unsigned char>(digit) % 27];
  }
  return out;
}

nlohmann::json NewRevision(const nlohmann::json& daemon_set,
                           const std::string& hash, int64_t revision) {
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  const std::string name = Text(meta, "name");
  nlohmann::json labels =
      Member(Member(Member(Member(daemon_set, "spec"), "template"), "metadata"),
             "labels");
  if (!labels.is_object()) labels = nlohmann::json::object();
  labels["controller-revision-hash"] = hash;
  nlohmann::json out_meta = {
      {"name", name + "-" + hash},
      {"labels", std::move(labels)},
      {"ownerReferences", nlohmann::json::array({ControllerRef(daemon_set)})}};
  const nlohmann::json& annotations = Member(meta, "annotations");
  if (annotations.is_object() && !annotations.empty()) {
    out_meta["annotations"] = annotations;
  }
  return {{"apiVersion", "apps/v1"},
          {"kind", "ControllerRevision"},
          {"metadata", std::move(out_meta)},
          {"data", RevisionData(daemon_set)},
          {"revision", revision}};
}

}  // namespace dsd::adapter
