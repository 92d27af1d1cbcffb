#include "client/k8s/internal/object_converter.h"

#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace dsd::client::internal {
namespace {

using Json = nlohmann::json;

// ------------------------------------------------------------ paths, values

// Kubernetes field paths as its validation prints them:
// spec.template.spec.tolerations[0].operator, metadata.labels["disk"].
std::string Child(const std::string& path, std::string_view name) {
  if (path.empty()) return std::string(name);
  return path + "." + std::string(name);
}
std::string Indexed(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}
std::string Keyed(const std::string& path, const std::string& key) {
  return path + "[\"" + key + "\"]";
}

// Reads typed values out of JSON for one object. Absent and null members
// both read as "not set" (encoding/json leaves a Go field at its zero value
// for null). A wrong type is reported with its path and reads as not set.
class Reader {
 public:
  explicit Reader(const ObjectContext& ctx) : ctx_(ctx) {}

  const ObjectContext& ctx() const { return ctx_; }

  static const Json* Member(const Json& parent, std::string_view key) {
    if (!parent.is_object()) return nullptr;
    const auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return nullptr;
    return &*it;
  }

  // The value at `path` must be a map; nullptr (and a problem) otherwise.
  const Json* AsObject(const Json& value, const std::string& path) const {
    if (value.is_object()) return &value;
    ctx_.Add(path, "must be a map, got " + Got(value, ctx_.numbers));
    return nullptr;
  }
  const Json* Object(const Json& parent, std::string_view key,
                     const std::string& path) const {
    const Json* value = Member(parent, key);
    return value == nullptr ? nullptr : AsObject(*value, path);
  }

  const Json* Array(const Json& parent, std::string_view key,
                    const std::string& path) const {
    const Json* value = Member(parent, key);
    if (value == nullptr || value->is_array()) return value;
    ctx_.Add(path, "must be a list, got " + Got(*value, ctx_.numbers));
    return nullptr;
  }

  std::optional<std::string> AsString(const Json& value,
                                      const std::string& path) const {
    if (value.is_string()) return value.get<std::string>();
    ctx_.Add(path, "must be a string, got " + Got(value, ctx_.numbers));
    return std::nullopt;
  }
  std::optional<std::string> String(const Json& parent, std::string_view key,
                                    const std::string& path) const {
    const Json* value = Member(parent, key);
    if (value == nullptr) return std::nullopt;
    return AsString(*value, path);
  }
  // Absent, null and wrongly typed all read as "".
  std::string StringOr(const Json& parent, std::string_view key,
                       const std::string& path) const {
    return String(parent, key, path).value_or("");
  }

  std::optional<int64_t> Int64(const Json& parent, std::string_view key,
                               const std::string& path) const {
    const Json* value = Member(parent, key);
    if (value == nullptr) return std::nullopt;
    if (std::optional<int64_t> n = ToInt64(*value)) return n;
    ctx_.Add(path, "must be an integer, got " + Got(*value, ctx_.numbers));
    return std::nullopt;
  }
  std::optional<int32_t> Int32(const Json& parent, std::string_view key,
                               const std::string& path) const {
    const Json* value = Member(parent, key);
    if (value == nullptr) return std::nullopt;
    if (std::optional<int32_t> n = ToInt32(*value)) return n;
    ctx_.Add(path,
             "must be a 32-bit integer, got " + Got(*value, ctx_.numbers));
    return std::nullopt;
  }

  std::optional<bool> Bool(const Json& parent, std::string_view key,
                           const std::string& path) const {
    const Json* value = Member(parent, key);
    if (value == nullptr) return std::nullopt;
    if (value->is_boolean()) return value->get<bool>();
    ctx_.Add(path, "must be true or false, got " + Got(*value, ctx_.numbers));
    return std::nullopt;
  }

  // metav1.Time: RFC 3339 ("2026-01-02T03:04:05Z", optional fraction and
  // offset). Returns whether `out` was set.
  bool Time(const Json& parent, std::string_view key, const std::string& path,
            google::protobuf::Timestamp* out) const {
    const std::optional<std::string> text = String(parent, key, path);
    if (!text) return false;
    if (google::protobuf::util::TimeUtil::FromString(*text, out)) return true;
    out->Clear();
    ctx_.Add(path,
             "must be an RFC 3339 time like \"2026-01-02T03:04:05Z\", got " +
                 Quote(*text));
    return false;
  }

  // A map[string]string (labels, annotations, nodeSelector, matchLabels).
  // A null value reads as "" (what encoding/json stores, and what YAML's
  // `key:` with nothing after it means).
  std::map<std::string, std::string> StringMap(const Json& parent,
                                               std::string_view key,
                                               const std::string& path) const {
    std::map<std::string, std::string> out;
    const Json* map = Member(parent, key);
    if (map == nullptr) return out;
    if (!map->is_object()) {
      ctx_.Add(path,
               "must be a map of strings, got " + Got(*map, ctx_.numbers));
      return out;
    }
    for (const auto& [name, value] : map->items()) {
      if (value.is_null()) {
        out[name] = "";
      } else if (value.is_string()) {
        out[name] = value.get<std::string>();
      } else {
        ctx_.Add(Keyed(path, name),
                 "must be a string, got " + Got(value, ctx_.numbers));
      }
    }
    return out;
  }
  // The same, into repeated Labels (sorted by key).
  void Labels(const Json& parent, std::string_view key, const std::string& path,
              google::protobuf::RepeatedPtrField<v1::Label>* out) const {
    for (auto& [name, value] : StringMap(parent, key, path)) {
      v1::Label* label = out->Add();
      label->set_key(name);
      label->set_value(std::move(value));
    }
  }

  // A []string (requirement values).
  void Strings(const Json& parent, std::string_view key,
               const std::string& path,
               google::protobuf::RepeatedPtrField<std::string>* out) const {
    const Json* list = Array(parent, key, path);
    if (list == nullptr) return;
    for (size_t i = 0; i < list->size(); ++i) {
      if (std::optional<std::string> s =
              AsString((*list)[i], Indexed(path, i))) {
        out->Add(std::move(*s));
      }
    }
  }

  // Integers, also from integral floats (YAML `3.0`, JSON `3.0`: sigs.k8s.io
  // yaml turns the former into 3 before Kubernetes decodes it).
  static std::optional<int64_t> ToInt64(const Json& value) {
    if (value.is_number_unsigned()) {
      const uint64_t u = value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return std::nullopt;
      }
      return static_cast<int64_t>(u);
    }
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_float()) {
      const double d = value.get<double>();
      // 2^63 is exactly representable; anything below it that is integral
      // converts exactly.
      constexpr double kLimit = 9223372036854775808.0;
      if (std::isfinite(d) && std::trunc(d) == d && d >= -kLimit &&
          d < kLimit) {
        return static_cast<int64_t>(d);
      }
    }
    return std::nullopt;
  }
  static std::optional<int32_t> ToInt32(const Json& value) {
    const std::optional<int64_t> n = ToInt64(value);
    if (!n || *n < std::numeric_limits<int32_t>::min() ||
        *n > std::numeric_limits<int32_t>::max()) {
      return std::nullopt;
    }
    return static_cast<int32_t>(*n);
  }

 private:
  const ObjectContext& ctx_;
};

// ------------------------------------------------------------ enums

// core/v1 TaintEffect; "" is UNSPECIFIED (every effect for a toleration, and
// "required" for a taint, which the server reports).
std::optional<v1::TaintEffect> ParseEffect(const Reader& r,
                                           const std::optional<std::string>& s,
                                           const std::string& path) {
  if (!s || s->empty()) return v1::TAINT_EFFECT_UNSPECIFIED;
  if (*s == "NoSchedule") return v1::TAINT_EFFECT_NO_SCHEDULE;
  if (*s == "PreferNoSchedule") return v1::TAINT_EFFECT_PREFER_NO_SCHEDULE;
  if (*s == "NoExecute") return v1::TAINT_EFFECT_NO_EXECUTE;
  r.ctx().Add(path, "must be NoSchedule, PreferNoSchedule or NoExecute, got " +
                        Quote(*s));
  return std::nullopt;
}

// LabelSelectorOperator (set operators only) or, with `node_rules`,
// NodeSelectorOperator (adds Gt and Lt).
std::optional<v1::SelectorOperator> ParseSelectorOperator(
    const Reader& r, const std::optional<std::string>& s,
    const std::string& path, bool node_rules) {
  const std::string text = s.value_or("");
  if (text == "In") return v1::SELECTOR_OPERATOR_IN;
  if (text == "NotIn") return v1::SELECTOR_OPERATOR_NOT_IN;
  if (text == "Exists") return v1::SELECTOR_OPERATOR_EXISTS;
  if (text == "DoesNotExist") return v1::SELECTOR_OPERATOR_DOES_NOT_EXIST;
  if (node_rules && text == "Gt") return v1::SELECTOR_OPERATOR_GT;
  if (node_rules && text == "Lt") return v1::SELECTOR_OPERATOR_LT;
  r.ctx().Add(path, node_rules
                        ? "must be In, NotIn, Exists, DoesNotExist, Gt or Lt, "
                          "got " +
                              Quote(text)
                        : "must be In, NotIn, Exists or DoesNotExist, got " +
                              Quote(text));
  return std::nullopt;
}

// ------------------------------------------------------------ shared parts

void ConvertRequirements(
    const Reader& r, const Json& parent, std::string_view key,
    const std::string& path, bool node_rules,
    google::protobuf::RepeatedPtrField<v1::SelectorRequirement>* out) {
  const Json* list = r.Array(parent, key, path);
  if (list == nullptr) return;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string item_path = Indexed(path, i);
    const Json* item = r.AsObject((*list)[i], item_path);
    v1::SelectorRequirement* req = out->Add();
    if (item == nullptr) continue;
    req->set_key(r.StringOr(*item, "key", Child(item_path, "key")));
    const std::string op_path = Child(item_path, "operator");
    if (const std::optional<v1::SelectorOperator> op = ParseSelectorOperator(
            r, r.String(*item, "operator", op_path), op_path, node_rules)) {
      req->set_operator_(*op);
    }
    r.Strings(*item, "values", Child(item_path, "values"),
              req->mutable_values());
  }
}

// metav1.LabelSelector.
void ConvertLabelSelector(const Reader& r, const Json& selector,
                          const std::string& path, v1::LabelSelector* out) {
  r.Labels(selector, "matchLabels", Child(path, "matchLabels"),
           out->mutable_match_labels());
  ConvertRequirements(r, selector, "matchExpressions",
                      Child(path, "matchExpressions"), /*node_rules=*/false,
                      out->mutable_match_expressions());
}

// spec.affinity of a pod or pod template: only
// nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution matters.
// `Owner` is v1::Pod or v1::PodTemplate.
template <typename Owner>
void ConvertAffinity(const Reader& r, const Json& pod_spec,
                     const std::string& spec_path, Owner* owner) {
  const std::string affinity_path = Child(spec_path, "affinity");
  const Json* affinity = r.Object(pod_spec, "affinity", affinity_path);
  if (affinity == nullptr) return;
  const std::string node_path = Child(affinity_path, "nodeAffinity");
  const Json* node_affinity = r.Object(*affinity, "nodeAffinity", node_path);
  if (node_affinity == nullptr) return;
  const std::string required_path =
      Child(node_path, "requiredDuringSchedulingIgnoredDuringExecution");
  const Json* required =
      r.Object(*node_affinity, "requiredDuringSchedulingIgnoredDuringExecution",
               required_path);
  if (required == nullptr) return;
  v1::RequiredNodeAffinity* out = owner->mutable_required_node_affinity();
  const std::string terms_path = Child(required_path, "nodeSelectorTerms");
  const Json* terms = r.Array(*required, "nodeSelectorTerms", terms_path);
  if (terms == nullptr) return;
  for (size_t i = 0; i < terms->size(); ++i) {
    const std::string term_path = Indexed(terms_path, i);
    const Json* term = r.AsObject((*terms)[i], term_path);
    v1::NodeSelectorTerm* out_term = out->add_node_selector_terms();
    if (term == nullptr) continue;
    ConvertRequirements(
        r, *term, "matchExpressions", Child(term_path, "matchExpressions"),
        /*node_rules=*/true, out_term->mutable_match_expressions());
    ConvertRequirements(r, *term, "matchFields",
                        Child(term_path, "matchFields"), /*node_rules=*/true,
                        out_term->mutable_match_fields());
  }
}

// core/v1 Toleration, with the API's defaulting of operator "" to Equal.
void ConvertToleration(const Reader& r, const Json& item,
                       const std::string& path, v1::Toleration* out) {
  out->set_key(r.StringOr(item, "key", Child(path, "key")));
  const std::string op_path = Child(path, "operator");
  const std::string op = r.StringOr(item, "operator", op_path);
  if (op.empty() || op == "Equal") {
    out->set_operator_(v1::TOLERATION_OPERATOR_EQUAL);
  } else if (op == "Exists") {
    out->set_operator_(v1::TOLERATION_OPERATOR_EXISTS);
  } else if (op == "Lt") {
    // Alpha (TaintTolerationComparisonOperators): the server decides
    // whether the gate is on.
    out->set_operator_(v1::TOLERATION_OPERATOR_LT);
  } else if (op == "Gt") {
    out->set_operator_(v1::TOLERATION_OPERATOR_GT);
  } else {
    // Kubernetes' message lists only the GA operators.
    r.ctx().Add(op_path, "must be Exists or Equal, got " + Quote(op));
  }
  out->set_value(r.StringOr(item, "value", Child(path, "value")));
  const std::string effect_path = Child(path, "effect");
  if (const std::optional<v1::TaintEffect> effect =
          ParseEffect(r, r.String(item, "effect", effect_path), effect_path)) {
    out->set_effect(*effect);
  }
  if (const std::optional<int64_t> seconds = r.Int64(
          item, "tolerationSeconds", Child(path, "tolerationSeconds"))) {
    out->set_toleration_seconds(*seconds);
  }
}

// intstr.IntOrString as maxUnavailable/maxSurge take it: an integer, or a
// string "N%" (Kubernetes rejects any other string, "3" included).
void ConvertIntOrPercent(const Reader& r, const Json& value,
                         const std::string& path, v1::IntOrPercent* out) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    const bool percent =
        text.size() >= 2 && text.back() == '%' &&
        text.find_first_not_of("0123456789") == text.size() - 1;
    if (percent) {
      out->set_percent(text);
      return;
    }
  } else if (const std::optional<int32_t> count = Reader::ToInt32(value)) {
    out->set_count(*count);
    return;
  }
  r.ctx().Add(path, "must be an integer or a percentage like \"25%\", got " +
                        Got(value, r.ctx().numbers));
}

// apps/v1 DaemonSetUpdateStrategy after SetDefaults_DaemonSet: type ""
// -> RollingUpdate; for RollingUpdate, rollingUpdate created and
// maxUnavailable defaulted to 1 (maxSurge stays unset, which means 0).
void ConvertUpdateStrategy(const Reader& r, const Json* spec,
                           v1::UpdateStrategy* out) {
  const std::string path = "spec.updateStrategy";
  const Json* strategy =
      spec == nullptr ? nullptr : r.Object(*spec, "updateStrategy", path);
  const std::string type =
      strategy == nullptr ? "" : r.StringOr(*strategy, "type", path + ".type");
  if (type == "OnDelete") {
    // rollingUpdate is ignored for OnDelete (neither defaulted nor
    // validated by Kubernetes).
    out->set_type(v1::UPDATE_STRATEGY_TYPE_ON_DELETE);
    return;
  }
  if (!type.empty() && type != "RollingUpdate") {
    r.ctx().Add(path + ".type",
                "must be RollingUpdate or OnDelete, got " + Quote(type));
    return;
  }
  out->set_type(v1::UPDATE_STRATEGY_TYPE_ROLLING_UPDATE);
  const std::string rolling_path = path + ".rollingUpdate";
  const Json* rolling =
      strategy == nullptr ? nullptr
                          : r.Object(*strategy, "rollingUpdate", rolling_path);
  const Json* unavailable =
      rolling == nullptr ? nullptr : Reader::Member(*rolling, "maxUnavailable");
  if (unavailable == nullptr) {
    out->mutable_max_unavailable()->set_count(1);
  } else {
    ConvertIntOrPercent(r, *unavailable, rolling_path + ".maxUnavailable",
                        out->mutable_max_unavailable());
  }
  const Json* surge =
      rolling == nullptr ? nullptr : Reader::Member(*rolling, "maxSurge");
  if (surge != nullptr) {
    ConvertIntOrPercent(r, *surge, rolling_path + ".maxSurge",
                        out->mutable_max_surge());
  }
}

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits.
std::optional<int64_t> ParseDecimalInt64(const std::string& s) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  if (i == s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
  uint64_t magnitude = 0;
  const char* end = s.data() + s.size();
  const auto [stop, ec] = std::from_chars(s.data() + i, end, magnitude);
  if (ec != std::errc() || stop != end) return std::nullopt;
  constexpr uint64_t kMax =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (magnitude > kMax) return std::nullopt;
    return static_cast<int64_t>(magnitude);
  }
  if (magnitude == kMax + 1) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(magnitude);
}

// ------------------------------------------------------------ dsd annotations

// kubectl's label-selector syntax (k8s.io/apimachinery labels.Parse):
// requirements separated by commas, each `key`, `!key`, `key=value`,
// `key==value`, `key!=value`, `key in (v1,v2)` or `key notin (v1,v2)`.
// Every requirement becomes one match expression (`=` is In with one
// value), so a key may repeat. Returns "" or why the text does not parse.
std::string ParseSelectorText(std::string_view text, v1::LabelSelector* out) {
  size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  const auto at = [&](size_t position) {
    return position >= text.size()
               ? std::string(" at the end")
               : " at position " + std::to_string(position + 1);
  };
  // A key or value: anything up to a space or one of !=(),<>.
  const auto word = [&] {
    const size_t start = i;
    while (i < text.size() && std::string_view(" \t!=(),<>").find(text[i]) ==
                                  std::string_view::npos) {
      ++i;
    }
    return std::string(text.substr(start, i - start));
  };
  skip_space();
  if (i == text.size()) return "is empty (it would select every node)";
  while (true) {
    skip_space();
    v1::SelectorRequirement* req = out->add_match_expressions();
    const size_t start = i;
    if (i < text.size() && text[i] == '!') {
      ++i;
      skip_space();
      req->set_key(word());
      if (req->key().empty()) return "a key must follow '!'" + at(start);
      req->set_operator_(v1::SELECTOR_OPERATOR_DOES_NOT_EXIST);
    } else {
      req->set_key(word());
      if (req->key().empty()) return "expected a label key" + at(start);
      skip_space();
      const size_t op_start = i;
      std::string_view rest = text.substr(i);
      if (rest.empty() || rest[0] == ',') {
        req->set_operator_(v1::SELECTOR_OPERATOR_EXISTS);
      } else if (rest.starts_with("==") || rest.starts_with("=") ||
                 rest.starts_with("!=")) {
        const bool negated = rest[0] == '!';
        i += rest.starts_with("==") || negated ? size_t{2} : size_t{1};
        req->set_operator_(negated ? v1::SELECTOR_OPERATOR_NOT_IN
                                   : v1::SELECTOR_OPERATOR_IN);
        skip_space();
        req->add_values(word());
      } else if (rest[0] == '<' || rest[0] == '>') {
        return "operator " + std::string(1, rest[0]) +
               " is not allowed in a label selector" + at(op_start);
      } else {
        const std::string op = word();
        if (op != "in" && op != "notin") {
          return "expected =, ==, !=, in or notin after \"" + req->key() +
                 "\"" + at(op_start);
        }
        req->set_operator_(op == "in" ? v1::SELECTOR_OPERATOR_IN
                                      : v1::SELECTOR_OPERATOR_NOT_IN);
        skip_space();
        if (i >= text.size() || text[i] != '(') {
          return "expected ( after " + op + at(i);
        }
        ++i;
        while (true) {
          skip_space();
          const size_t value_start = i;
          std::string value = word();
          skip_space();
          if (value.empty() && i < text.size() && text[i] != ')') {
            return "expected a value" + at(value_start);
          }
          if (!value.empty()) req->add_values(std::move(value));
          if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
          }
          if (i < text.size() && text[i] == ')') {
            ++i;
            break;
          }
          return "expected , or ) in the values of \"" + req->key() + "\"" +
                 at(i);
        }
        if (req->values().empty()) {
          return "\"" + req->key() + " " + op +
                 " ()\" needs at least one "
                 "value" +
                 at(start);
        }
      }
    }
    skip_space();
    if (i == text.size()) return "";
    if (text[i] != ',') return "expected , between requirements" + at(i);
    ++i;
  }
}

// Reads the dsd.dev/ annotations of a DaemonSet into its update strategy
// (the rollout extensions, as OpenKruise's Advanced DaemonSet offers them);
// unknown dsd.dev/ annotations get a warning.
void ConvertDsdAnnotations(
    const Reader& r, const std::map<std::string, std::string>& annotations,
    v1::UpdateStrategy* out) {
  for (const auto& [name, value] : annotations) {
    if (!name.starts_with(kDsdAnnotationPrefix)) continue;
    const std::string path = Keyed("metadata.annotations", name);
    if (name == kRolloutPartitionAnnotation) {
      const bool percent = value.size() >= 2 && value.back() == '%';
      const std::string digits =
          percent ? value.substr(0, value.size() - 1) : value;
      const std::optional<int64_t> n =
          digits.find_first_not_of("0123456789") == std::string::npos
              ? ParseDecimalInt64(digits)
              : std::nullopt;
      if (!n || *n > std::numeric_limits<int32_t>::max() ||
          (percent && *n > 100)) {
        r.ctx().Add(path,
                    "must be a number of nodes (0 or more) or a percentage "
                    "like \"20%\", got " +
                        Quote(value));
      } else if (percent) {
        out->mutable_partition()->set_percent(value);
      } else {
        out->mutable_partition()->set_count(static_cast<int32_t>(*n));
      }
    } else if (name == kRolloutPausedAnnotation) {
      if (value == "true" || value == "false") {
        out->set_paused(value == "true");
      } else {
        r.ctx().Add(path, "must be \"true\" or \"false\", got " + Quote(value));
      }
    } else if (name == kRolloutNodeSelectorAnnotation) {
      v1::LabelSelector selector;
      if (const std::string why = ParseSelectorText(value, &selector);
          !why.empty()) {
        r.ctx().Add(path,
                    "must be a label selector like \"zone in (a,b),"
                    "!canary-excluded\": " +
                        why + ", got " + Quote(value));
      } else {
        *out->mutable_rollout_node_selector() = std::move(selector);
      }
    } else {
      r.ctx().Warn(path, "unknown dsd annotation, ignored (dsdctl reads " +
                             std::string(kRolloutPartitionAnnotation) + ", " +
                             kRolloutPausedAnnotation + " and " +
                             kRolloutNodeSelectorAnnotation + ")");
    }
  }
}

// The metadata every kind shares. `namespaced`: an absent or empty
// namespace is "default", as the API server fills it from the request.
struct Metadata {
  std::string namespace_name;
  std::string name;
  std::string uid;  // synthesized when absent
};

Metadata ConvertMetadata(const Reader& r, const Json* meta, bool namespaced) {
  Metadata out;
  if (meta != nullptr) {
    out.name = r.StringOr(*meta, "name", "metadata.name");
    if (namespaced) {
      out.namespace_name = r.StringOr(*meta, "namespace", "metadata.namespace");
    }
    out.uid = r.StringOr(*meta, "uid", "metadata.uid");
  }
  if (out.name.empty()) r.ctx().Add("metadata.name", "is required");
  if (namespaced && out.namespace_name.empty()) out.namespace_name = "default";
  if (out.uid.empty()) out.uid = SynthesizedUid(out.namespace_name, out.name);
  return out;
}

// The controller reference among metadata.ownerReferences (the entry with
// controller: true; Kubernetes allows at most one).
std::optional<std::string> ControllerUid(const Reader& r, const Json* meta) {
  if (meta == nullptr) return std::nullopt;
  const std::string path = "metadata.ownerReferences";
  const Json* refs = r.Array(*meta, "ownerReferences", path);
  if (refs == nullptr) return std::nullopt;
  std::optional<std::string> out;
  for (size_t i = 0; i < refs->size(); ++i) {
    const std::string ref_path = Indexed(path, i);
    const Json* ref = r.AsObject((*refs)[i], ref_path);
    if (ref == nullptr) continue;
    const std::string uid = r.StringOr(*ref, "uid", Child(ref_path, "uid"));
    if (!r.Bool(*ref, "controller", Child(ref_path, "controller"))
             .value_or(false)) {
      continue;
    }
    if (out) {
      r.ctx().Add(Child(ref_path, "controller"),
                  "only one reference can have controller set to true");
      continue;
    }
    if (uid.empty()) r.ctx().Add(Child(ref_path, "uid"), "is required");
    out = uid;
  }
  return out;
}

}  // namespace

void ObjectContext::Add(std::string field, std::string message) const {
  problems->push_back(
      InputProblem{source, object, std::move(field), std::move(message)});
}

void ObjectContext::Warn(const std::string& field,
                         const std::string& message) const {
  if (warnings == nullptr) return;
  warnings->push_back("warning: " +
                      InputProblem{source, object, field, message}.ToString());
}

std::string SynthesizedUid(const std::string& namespace_name,
                           const std::string& name) {
  return namespace_name.empty() ? "uid:" + name
                                : "uid:" + namespace_name + "/" + name;
}

std::string Got(const Json& value, const NumberTexts* numbers) {
  // Containers by shape: they can be large.
  if (value.is_object()) return "a map";
  if (value.is_array()) return "a list";
  if (value.is_string()) return Quote(value.get<std::string>());
  if (numbers != nullptr) {
    if (const auto it = numbers->find(&value); it != numbers->end()) {
      return it->second;  // digits, sign, '.', 'e', 'x', '_' only
    }
  }
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string Quote(const std::string& text) {
  constexpr size_t kLong = 200;
  constexpr size_t kShown = 100;
  if (text.size() > kLong) {
    return Json(text.substr(0, kShown))
               .dump(-1, ' ', false, Json::error_handler_t::replace) +
           "... (" + std::to_string(text.size()) + " bytes)";
  }
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

v1::Node ConvertNode(const Json& object, const ObjectContext& ctx) {
  const Reader r(ctx);
  v1::Node node;
  const Json* meta = r.Object(object, "metadata", "metadata");
  node.set_name(ConvertMetadata(r, meta, /*namespaced=*/false).name);
  if (meta != nullptr) {
    r.Labels(*meta, "labels", "metadata.labels", node.mutable_labels());
  }
  const Json* spec = r.Object(object, "spec", "spec");
  const Json* taints =
      spec == nullptr ? nullptr : r.Array(*spec, "taints", "spec.taints");
  if (taints == nullptr) return node;
  for (size_t i = 0; i < taints->size(); ++i) {
    const std::string path = Indexed("spec.taints", i);
    const Json* item = r.AsObject((*taints)[i], path);
    v1::Taint* taint = node.add_taints();
    if (item == nullptr) continue;
    taint->set_key(r.StringOr(*item, "key", Child(path, "key")));
    taint->set_value(r.StringOr(*item, "value", Child(path, "value")));
    const std::string effect_path = Child(path, "effect");
    if (const std::optional<v1::TaintEffect> effect = ParseEffect(
            r, r.String(*item, "effect", effect_path), effect_path)) {
      taint->set_effect(*effect);
    }
    if (!r.Time(*item, "timeAdded", Child(path, "timeAdded"),
                taint->mutable_time_added())) {
      taint->clear_time_added();
    }
  }
  return node;
}

v1::DaemonSet ConvertDaemonSet(const Json& object, const ObjectContext& ctx) {
  const Reader r(ctx);
  v1::DaemonSet ds;
  const Json* meta = r.Object(object, "metadata", "metadata");
  Metadata m = ConvertMetadata(r, meta, /*namespaced=*/true);
  ds.set_namespace_(std::move(m.namespace_name));
  ds.set_name(std::move(m.name));
  ds.set_uid(std::move(m.uid));
  std::map<std::string, std::string> annotations;
  if (meta != nullptr) {
    if (!r.Time(*meta, "creationTimestamp", "metadata.creationTimestamp",
                ds.mutable_creation_timestamp())) {
      ds.clear_creation_timestamp();
    }
    if (!r.Time(*meta, "deletionTimestamp", "metadata.deletionTimestamp",
                ds.mutable_deletion_timestamp())) {
      ds.clear_deletion_timestamp();
    }
    ds.set_generation(
        r.Int64(*meta, "generation", "metadata.generation").value_or(0));
    annotations = r.StringMap(*meta, "annotations", "metadata.annotations");
    const auto it = annotations.find(kTemplateGenerationAnnotation);
    if (it != annotations.end()) {
      if (const std::optional<int64_t> generation =
              ParseDecimalInt64(it->second)) {
        ds.set_template_generation(*generation);
      } else {
        ctx.Add(Keyed("metadata.annotations", kTemplateGenerationAnnotation),
                "must be an integer, got " + Quote(it->second));
      }
    }
  }

  const Json* spec = r.Object(object, "spec", "spec");
  v1::PodTemplate* tmpl = ds.mutable_template_();
  if (spec != nullptr) {
    if (const Json* selector = r.Object(*spec, "selector", "spec.selector")) {
      ConvertLabelSelector(r, *selector, "spec.selector",
                           ds.mutable_selector());
    }
    const Json* template_json = r.Object(*spec, "template", "spec.template");
    if (template_json != nullptr) {
      if (const Json* tmeta =
              r.Object(*template_json, "metadata", "spec.template.metadata")) {
        r.Labels(*tmeta, "labels", "spec.template.metadata.labels",
                 tmpl->mutable_labels());
      }
      const std::string spec_path = "spec.template.spec";
      if (const Json* pod_spec = r.Object(*template_json, "spec", spec_path)) {
        tmpl->set_node_name(
            r.StringOr(*pod_spec, "nodeName", spec_path + ".nodeName"));
        r.Labels(*pod_spec, "nodeSelector", spec_path + ".nodeSelector",
                 tmpl->mutable_node_selector());
        ConvertAffinity(r, *pod_spec, spec_path, tmpl);
        const std::string tolerations_path = spec_path + ".tolerations";
        if (const Json* tolerations =
                r.Array(*pod_spec, "tolerations", tolerations_path)) {
          for (size_t i = 0; i < tolerations->size(); ++i) {
            const std::string path = Indexed(tolerations_path, i);
            v1::Toleration* toleration = tmpl->add_tolerations();
            if (const Json* item = r.AsObject((*tolerations)[i], path)) {
              ConvertToleration(r, *item, path, toleration);
            }
          }
        }
        tmpl->set_host_network(
            r.Bool(*pod_spec, "hostNetwork", spec_path + ".hostNetwork")
                .value_or(false));
      }
    }
    ds.set_min_ready_seconds(
        r.Int32(*spec, "minReadySeconds", "spec.minReadySeconds").value_or(0));
  }
  ConvertUpdateStrategy(r, spec, ds.mutable_update_strategy());
  ConvertDsdAnnotations(r, annotations, ds.mutable_update_strategy());
  return ds;
}

v1::Pod ConvertPod(const Json& object, const ObjectContext& ctx) {
  const Reader r(ctx);
  v1::Pod pod;
  const Json* meta = r.Object(object, "metadata", "metadata");
  Metadata m = ConvertMetadata(r, meta, /*namespaced=*/true);
  pod.set_namespace_(std::move(m.namespace_name));
  pod.set_name(std::move(m.name));
  pod.set_uid(std::move(m.uid));
  if (meta != nullptr) {
    r.Labels(*meta, "labels", "metadata.labels", pod.mutable_labels());
    if (std::optional<std::string> uid = ControllerUid(r, meta)) {
      pod.set_controller_uid(std::move(*uid));
    }
    if (!r.Time(*meta, "creationTimestamp", "metadata.creationTimestamp",
                pod.mutable_creation_timestamp())) {
      pod.clear_creation_timestamp();
    }
    if (!r.Time(*meta, "deletionTimestamp", "metadata.deletionTimestamp",
                pod.mutable_deletion_timestamp())) {
      pod.clear_deletion_timestamp();
    }
  }
  if (const Json* spec = r.Object(object, "spec", "spec")) {
    pod.set_node_name(r.StringOr(*spec, "nodeName", "spec.nodeName"));
    ConvertAffinity(r, *spec, "spec", &pod);
  }
  const Json* status = r.Object(object, "status", "status");
  if (status == nullptr) return pod;
  const std::string phase = r.StringOr(*status, "phase", "status.phase");
  if (phase == "Pending") {
    pod.set_phase(v1::POD_PHASE_PENDING);
  } else if (phase == "Running") {
    pod.set_phase(v1::POD_PHASE_RUNNING);
  } else if (phase == "Succeeded") {
    pod.set_phase(v1::POD_PHASE_SUCCEEDED);
  } else if (phase == "Failed") {
    pod.set_phase(v1::POD_PHASE_FAILED);
  } else if (phase == "Unknown") {
    pod.set_phase(v1::POD_PHASE_UNKNOWN);
  } else if (!phase.empty()) {
    ctx.Add("status.phase",
            "must be Pending, Running, Succeeded, Failed or Unknown, got " +
                Quote(phase));
  }
  const Json* conditions = r.Array(*status, "conditions", "status.conditions");
  if (conditions == nullptr) return pod;
  // IsPodReady reads the first condition of type Ready.
  for (size_t i = 0; i < conditions->size(); ++i) {
    const std::string path = Indexed("status.conditions", i);
    const Json* condition = r.AsObject((*conditions)[i], path);
    if (condition == nullptr ||
        r.StringOr(*condition, "type", Child(path, "type")) != "Ready") {
      continue;
    }
    pod.set_ready(r.StringOr(*condition, "status", Child(path, "status")) ==
                  "True");
    if (!r.Time(*condition, "lastTransitionTime",
                Child(path, "lastTransitionTime"),
                pod.mutable_ready_transition_time())) {
      pod.clear_ready_transition_time();
    }
    break;
  }
  return pod;
}

ControllerRevision ConvertControllerRevision(const Json& object,
                                             const ObjectContext& ctx) {
  const Reader r(ctx);
  ControllerRevision out;
  const Json* meta = r.Object(object, "metadata", "metadata");
  Metadata m = ConvertMetadata(r, meta, /*namespaced=*/true);
  out.namespace_name = std::move(m.namespace_name);
  out.name = std::move(m.name);
  if (meta != nullptr) {
    out.labels = r.StringMap(*meta, "labels", "metadata.labels");
    if (std::optional<std::string> uid = ControllerUid(r, meta)) {
      out.has_controller = true;
      out.controller_uid = std::move(*uid);
    }
  }
  out.revision = r.Int64(object, "revision", "revision").value_or(0);
  return out;
}

}  // namespace dsd::client::internal
