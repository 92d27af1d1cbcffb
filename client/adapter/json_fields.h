// Reading Kubernetes JSON that may be anything: a member that is absent,
// or of another type, reads as Go's zero value; nothing throws. And the
// controller reference dsd-adapter's objects carry.
#ifndef DSD_CLIENT_ADAPTER_JSON_FIELDS_H_
#define DSD_CLIENT_ADAPTER_JSON_FIELDS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dsd::adapter {

// `object`'s member `key`; null when `object` is no object or has none.
inline const nlohmann::json& Member(const nlohmann::json& object,
                                    const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

// A string member; "" when absent or not a string.
inline std::string Text(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Member(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// An integer member; 0 when absent or not an integer.
inline int64_t Int(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Member(object, key);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

// metav1.NewControllerRef for a DaemonSet: the one owner reference of
// the pods and ControllerRevisions its controller creates.
inline nlohmann::json ControllerRef(const nlohmann::json& daemon_set) {
  const nlohmann::json& meta = Member(daemon_set, "metadata");
  return {{"apiVersion", "apps/v1"},    {"kind", "DaemonSet"},
          {"name", Text(meta, "name")}, {"uid", Text(meta, "uid")},
          {"controller", true},         {"blockOwnerDeletion", true}};
}

}  // namespace dsd::adapter

#endif  // DSD_CLIENT_ADAPTER_JSON_FIELDS_H_
