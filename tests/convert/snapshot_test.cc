// Pins server/convert request validation, error building and conversion:
// every rule of daemonset-semantics.md section 10 (10.1 names, labels; 10.2
// taints; 10.3 tolerations; 10.4 node selector requirements; 10.5 the
// DaemonSet, its selector and update strategy) and the per-field rules in
// proto/dsd/v1/dsd.proto (uniqueness, uids, enums, options, timestamps);
// field paths and the INVALID_ARGUMENT shape of style.md section 5; the
// proto -> engine conversion and the plan -> DecideResponse conversion of
// plan-contract.md (reasons by name, requeueAfterSeconds rounded up).
#include "server/convert/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "server/convert/errors.h"
#include "server/convert/from_proto.h"
#include "server/convert/plan.h"
#include "server/convert/time.h"
#include "server/engine/selectors.h"
#include "server/engine/types.h"
#include "tests/testing/param_name.h"
#include "tests/testing/status_matchers.h"

namespace dsd::convert {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// Request JSON, built from a valid base by replacing one piece at a time.

// A JSON object as ordered (name, raw JSON value) pairs.
class Obj {
 public:
  Obj() = default;
  Obj(std::initializer_list<std::pair<std::string, std::string>> fields)
      : fields_(fields) {}

  // A copy with `name` set to the raw JSON `value` (replaced in place, or
  // appended).
  Obj Set(const std::string& name, const std::string& value) const {
    Obj out = *this;
    for (auto& [n, v] : out.fields_) {
      if (n == name) {
        v = value;
        return out;
      }
    }
    out.fields_.emplace_back(name, value);
    return out;
  }
  Obj Without(const std::string& name) const {
    Obj out;
    for (const auto& f : fields_) {
      if (f.first != name) out.fields_.push_back(f);
    }
    return out;
  }
  std::string Json() const {
    std::string out = "{";
    for (const auto& [n, v] : fields_) {
      if (out.size() > 1) out += ", ";
      absl::StrAppend(&out, "\"", n, "\": ", v);
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

std::string Array(const std::vector<Obj>& objs) {
  std::string out = "[";
  for (const Obj& o : objs) {
    if (out.size() > 1) out += ", ";
    out += o.Json();
  }
  return out + "]";
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

constexpr char kAppX[] = R"([{"key": "app", "value": "x"}])";

Obj BaseNode() {
  return Obj(
      {{"name", R"("n1")"},
       {"labels", R"([{"key": "kubernetes.io/os", "value": "linux"}])"}});
}

Obj BaseTemplate() { return Obj({{"labels", kAppX}}); }

Obj BaseStrategy() {
  return Obj({{"type", R"("UPDATE_STRATEGY_TYPE_ROLLING_UPDATE")"},
              {"maxUnavailable", R"({"count": 1})"}});
}

Obj BaseDs() {
  return Obj({{"namespace", R"("default")"},
              {"name", R"("ds")"},
              {"uid", R"("u1")"},
              {"selector", absl::StrCat(R"({"matchLabels": )", kAppX, "}")},
              {"template", BaseTemplate().Json()},
              {"updateStrategy", BaseStrategy().Json()}});
}

Obj BasePod() {
  return Obj({{"namespace", R"("default")"},
              {"name", R"("ds-abc")"},
              {"uid", R"("p1")"},
              {"labels", kAppX},
              {"controllerUid", R"("u1")"},
              {"nodeName", R"("n1")"},
              {"phase", R"("POD_PHASE_RUNNING")"},
              {"ready", "true"}});
}

std::string Request(const std::vector<Obj>& nodes = {BaseNode()},
                    const std::vector<Obj>& daemon_sets = {BaseDs()},
                    const std::vector<Obj>& pods = {BasePod()},
                    const Obj& options = Obj()) {
  return absl::StrCat(R"({"snapshot": {"nodes": )", Array(nodes),
                      R"(, "daemonSets": )", Array(daemon_sets),
                      R"(, "pods": )", Array(pods), R"(}, "options": )",
                      options.Json(), "}");
}

std::string WithNode(const Obj& node) { return Request({node}); }
std::string WithNodeField(const std::string& name, const std::string& value) {
  return WithNode(BaseNode().Set(name, value));
}
std::string WithDs(const Obj& ds) { return Request({BaseNode()}, {ds}); }
// `n` NoSchedule taints with keys k0 .. k<n-1>, then one more repeating
// taint `repeat`'s key: a JSON list.
std::string ManyTaints(int n, int repeat) {
  std::string out = "[";
  for (int i = 0; i <= n; ++i) {
    absl::StrAppend(&out, i > 0 ? ", " : "", R"({"key": "k)",
                    i < n ? i : repeat,
                    R"(", "effect": "TAINT_EFFECT_NO_SCHEDULE"})");
  }
  return out + "]";
}

// `n` back-off entries for nodes n0 .. n<n-1>, then one more for entry
// `repeat`'s node: a JSON list.
std::string ManyBackoffs(int n, int repeat) {
  std::string out = "[";
  for (int i = 0; i <= n; ++i) {
    absl::StrAppend(
        &out, i > 0 ? ", " : "", R"({"node": "n)", i < n ? i : repeat,
        R"(", "lastUpdate": "2026-01-01T00:00:00Z", "delay": "1s"})");
  }
  return out + "]";
}

std::string WithDsField(const std::string& name, const std::string& value) {
  return WithDs(BaseDs().Set(name, value));
}
std::string WithTemplateField(const std::string& name,
                              const std::string& value) {
  return WithDsField("template", BaseTemplate().Set(name, value).Json());
}
std::string WithAffinityTerms(const std::string& terms) {
  return WithTemplateField(
      "requiredNodeAffinity",
      absl::StrCat(R"({"nodeSelectorTerms": )", terms, "}"));
}
std::string WithToleration(const std::string& toleration,
                           const Obj& options = Obj()) {
  return Request(
      {BaseNode()},
      {BaseDs().Set("template",
                    BaseTemplate()
                        .Set("tolerations", absl::StrCat("[", toleration, "]"))
                        .Json())},
      {BasePod()}, options);
}
std::string WithStrategy(const Obj& strategy) {
  return WithDsField("updateStrategy", strategy.Json());
}
std::string WithPod(const Obj& pod) {
  return Request({BaseNode()}, {BaseDs()}, {pod});
}
std::string WithPodField(const std::string& name, const std::string& value) {
  return WithPod(BasePod().Set(name, value));
}
std::string WithOptions(const Obj& options) {
  return Request({BaseNode()}, {BaseDs()}, {BasePod()}, options);
}

v1::DecideRequest Parse(const std::string& json) {
  v1::DecideRequest request;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &request);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return request;
}

// Runs both validators as the service does (options first).
struct Validation {
  bool options_ok = true;
  bool snapshot_ok = true;
  std::vector<Violation> violations;
};

Validation Validate(const v1::DecideRequest& request) {
  Validation v;
  v.options_ok = ValidateOptions(request.options(), "options", v.violations);
  v.snapshot_ok = ValidateSnapshot(request.snapshot(), request.options(),
                                   "snapshot", v.violations);
  return v;
}

google::rpc::BadRequest BadRequestPayload(const absl::Status& status) {
  google::rpc::BadRequest details;
  const auto payload = status.GetPayload(kBadRequestTypeUrl);
  EXPECT_TRUE(payload.has_value()) << status;
  if (payload.has_value()) {
    EXPECT_TRUE(details.ParseFromString(std::string(*payload)));
  }
  return details;
}

// ---------------------------------------------------------------------------
// One malformed request per row: exactly one thing broken.

struct BadCase {
  BadCase(std::string name_in, std::string json_in, std::string field_in,
          std::string description_in,
          void (*mutate_in)(v1::DecideRequest&) = nullptr)
      : name(std::move(name_in)),
        json(std::move(json_in)),
        field(std::move(field_in)),
        description(std::move(description_in)),
        mutate(mutate_in) {}

  std::string name;
  std::string json;         // a v1::DecideRequest
  std::string field;        // the first violation's path, exactly
  std::string description;  // a substring of its description
  // Applied after parsing, for values proto3 JSON cannot spell.
  void (*mutate)(v1::DecideRequest&);
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

constexpr char kDs0[] = "snapshot.daemon_sets[0]";
constexpr char kTmpl[] = "snapshot.daemon_sets[0].template";
constexpr char kTol0[] = "snapshot.daemon_sets[0].template.tolerations[0]";
constexpr char kTerm0[] =
    "snapshot.daemon_sets[0].template.required_node_affinity."
    "node_selector_terms[0]";
constexpr char kStrategy[] = "snapshot.daemon_sets[0].update_strategy";

std::string P(const std::string& prefix, const std::string& leaf) {
  return absl::StrCat(prefix, ".", leaf);
}

std::vector<BadCase> BadCases() {
  const std::string long_name(64, 'a');
  const std::string value64(64, 'v');
  const Obj ds2 = BaseDs().Set("name", R"("ds2")").Set("uid", R"("u2")");
  const Obj pod2 = BasePod().Set("name", R"("ds-def")").Set("uid", R"("p2")");
  return {
      // ---- 10.1 / Node: names and labels.
      {"node_name_missing", WithNode(BaseNode().Without("name")),
       "snapshot.nodes[0].name", "required"},
      {"node_name_uppercase", WithNodeField("name", R"("N1")"),
       "snapshot.nodes[0].name", "DNS-1123"},
      {"node_name_too_long",
       WithNodeField("name", Quoted(std::string(254, 'a'))),
       "snapshot.nodes[0].name", "DNS-1123"},
      {"node_name_duplicate", Request({BaseNode(), BaseNode()}),
       "snapshot.nodes[1].name", "duplicate"},
      {"label_key_two_slashes",
       WithNodeField("labels", R"([{"key": "a/b/c", "value": "v"}])"),
       R"(snapshot.nodes[0].labels["a/b/c"])", "label key"},
      {"label_key_name_too_long",
       WithNodeField("labels", absl::StrCat(R"([{"key": "example.com/)",
                                            long_name, R"(", "value": "v"}])")),
       absl::StrCat(R"(snapshot.nodes[0].labels["example.com/)", long_name,
                    R"("])"),
       "label key"},
      {"label_key_empty",
       WithNodeField("labels", R"([{"key": "", "value": "v"}])"),
       R"(snapshot.nodes[0].labels[""])", "label key"},
      {"label_key_uppercase_prefix",
       WithNodeField("labels", R"([{"key": "Example.com/os", "value": "v"}])"),
       R"(snapshot.nodes[0].labels["Example.com/os"])", "label key"},
      {"label_value_leading_dash",
       WithNodeField("labels", R"([{"key": "app", "value": "-bad"}])"),
       R"(snapshot.nodes[0].labels["app"])", "label value"},
      {"label_value_64_chars",
       WithNodeField("labels", absl::StrCat(R"([{"key": "app", "value": ")",
                                            value64, R"("}])")),
       R"(snapshot.nodes[0].labels["app"])", "label value"},
      {"label_key_duplicate",
       WithNodeField(
           "labels",
           R"([{"key": "app", "value": "a"}, {"key": "app", "value": "b"}])"),
       R"(snapshot.nodes[0].labels["app"])", "duplicate"},

      // ---- 10.2 Taints.
      {"taint_key_missing",
       WithNodeField(
           "taints",
           R"([{"value": "v", "effect": "TAINT_EFFECT_NO_SCHEDULE"}])"),
       "snapshot.nodes[0].taints[0].key", "required"},
      {"taint_key_invalid",
       WithNodeField(
           "taints",
           R"([{"key": "a/b/c", "effect": "TAINT_EFFECT_NO_SCHEDULE"}])"),
       "snapshot.nodes[0].taints[0].key", "label key"},
      {"taint_value_invalid",
       WithNodeField("taints",
                     R"([{"key": "k", "value": "-v",
               "effect": "TAINT_EFFECT_NO_SCHEDULE"}])"),
       "snapshot.nodes[0].taints[0].value", "label value"},
      {"taint_effect_unspecified", WithNodeField("taints", R"([{"key": "k"}])"),
       "snapshot.nodes[0].taints[0].effect", "NoExecute"},
      {"taint_effect_unknown_number",
       WithNodeField("taints", R"([{"key": "k", "effect": 17}])"),
       "snapshot.nodes[0].taints[0].effect", "NoExecute"},
      {"taint_duplicate_key_effect",
       WithNodeField(
           "taints",
           R"([{"key": "k", "value": "a", "effect": "TAINT_EFFECT_NO_SCHEDULE"},
               {"key": "k", "value": "b",
                "effect": "TAINT_EFFECT_NO_SCHEDULE"}])"),
       "snapshot.nodes[0].taints[1]", "duplicate"},
      // Past the first 32 taints repeats are found by hashing: still the
      // first repeat, at its index.
      {"taint_duplicate_after_many", WithNodeField("taints", ManyTaints(40, 3)),
       "snapshot.nodes[0].taints[40]", "duplicate"},

      // ---- 10.1 / 10.5 DaemonSet identity and counters.
      {"ds_namespace_invalid", WithDsField("namespace", R"("Default")"),
       P(kDs0, "namespace"), "DNS-1123"},
      {"ds_namespace_dot", WithDsField("namespace", R"("kube.system")"),
       P(kDs0, "namespace"), "DNS-1123"},
      {"ds_namespace_missing", WithDs(BaseDs().Without("namespace")),
       P(kDs0, "namespace"), ""},
      {"ds_name_missing", WithDs(BaseDs().Without("name")), P(kDs0, "name"),
       "required"},
      {"ds_uid_missing", WithDs(BaseDs().Without("uid")), P(kDs0, "uid"),
       "required"},
      {"ds_uid_duplicate",
       Request({BaseNode()}, {BaseDs(), ds2.Set("uid", R"("u1")")}),
       "snapshot.daemon_sets[1].uid", "duplicate"},
      {"ds_namespace_name_duplicate",
       Request({BaseNode()}, {BaseDs(), BaseDs().Set("uid", R"("u2")")}),
       "snapshot.daemon_sets[1].name", "duplicate"},
      {"ds_generation_negative", WithDsField("generation", "-1"),
       P(kDs0, "generation"), ">= 0"},
      {"ds_template_generation_negative",
       WithDsField("templateGeneration", "-1"), P(kDs0, "template_generation"),
       ">= 0"},
      {"ds_min_ready_seconds_negative", WithDsField("minReadySeconds", "-1"),
       P(kDs0, "min_ready_seconds"), ">= 0"},

      // ---- Failed-pod back-off entries (semantics 6.5: flowcontrol.Backoff,
      // 1 s doubling to at most 15 min; one entry per node).
      {"backoff_node_missing",
       WithDsField(
           "failedPodBackoffs",
           R"([{"lastUpdate": "2026-01-01T00:00:00Z", "delay": "1s"}])"),
       P(kDs0, "failed_pod_backoffs[0].node"), "required"},
      {"backoff_node_not_subdomain",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "Node_1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "1s"}])"),
       P(kDs0, "failed_pod_backoffs[0].node"), "DNS-1123 subdomain"},
      {"backoff_node_duplicate",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "1s"},
                       {"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "2s"}])"),
       P(kDs0, "failed_pod_backoffs[1].node"), "duplicate"},
      {"backoff_node_duplicate_after_many",
       WithDsField("failedPodBackoffs", ManyBackoffs(40, 5)),
       P(kDs0, "failed_pod_backoffs[40].node"), "duplicate"},
      {"backoff_last_update_missing",
       WithDsField("failedPodBackoffs", R"([{"node": "n1", "delay": "1s"}])"),
       P(kDs0, "failed_pod_backoffs[0].last_update"), "required"},
      {"backoff_delay_missing",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z"}])"),
       P(kDs0, "failed_pod_backoffs[0].delay"), "required"},
      {"backoff_delay_zero",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "0s"}])"),
       P(kDs0, "failed_pod_backoffs[0].delay"), "more than 0"},
      {"backoff_delay_negative",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "-1s"}])"),
       P(kDs0, "failed_pod_backoffs[0].delay"), "more than 0"},
      {"backoff_delay_over_max",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "900.000000001s"}])"),
       P(kDs0, "failed_pod_backoffs[0].delay"), "at most 15m"},

      // ---- 10.5 Selector.
      {"selector_missing", WithDs(BaseDs().Without("selector")),
       P(kDs0, "selector"), "required"},
      {"selector_empty", WithDsField("selector", "{}"), P(kDs0, "selector"),
       "empty selector is invalid for daemonset"},
      {"selector_not_matching_template",
       WithDsField("selector",
                   R"({"matchLabels": [{"key": "app", "value": "y"}]})"),
       P(kDs0, "selector"), "does not match template labels"},
      {"selector_expression_not_matching_template",
       WithDsField("selector", R"({"matchExpressions": [{"key": "app",
           "operator": "SELECTOR_OPERATOR_NOT_IN", "values": ["x"]}]})"),
       P(kDs0, "selector"), "does not match template labels"},
      {"selector_operator_gt",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "app", "operator": "SELECTOR_OPERATOR_GT", "values": ["1"]}]})")),
       P(kDs0, "selector.match_expressions[0].operator"), "NotIn"},
      {"selector_operator_unspecified",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "app", "values": ["x"]}]})")),
       P(kDs0, "selector.match_expressions[0].operator"), "NotIn"},
      {"selector_in_without_values",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "app", "operator": "SELECTOR_OPERATOR_IN"}]})")),
       P(kDs0, "selector.match_expressions[0].values"), ""},
      {"selector_exists_with_values",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "app", "operator": "SELECTOR_OPERATOR_EXISTS",
           "values": ["x"]}]})")),
       P(kDs0, "selector.match_expressions[0].values"), ""},
      {"selector_expression_bad_key",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "a/b/c", "operator": "SELECTOR_OPERATOR_EXISTS"}]})")),
       P(kDs0, "selector.match_expressions[0].key"), "label key"},

      // ---- 10.1 Template label maps.
      {"template_node_selector_bad_value",
       WithTemplateField("nodeSelector",
                         R"([{"key": "disk", "value": "-ssd"}])"),
       P(kTmpl, R"(node_selector["disk"])"), "label value"},
      {"template_node_selector_duplicate_key",
       WithTemplateField("nodeSelector", R"([{"key": "disk", "value": "ssd"},
           {"key": "disk", "value": "hdd"}])"),
       P(kTmpl, R"(node_selector["disk"])"), "duplicate"},
      {"template_node_name_invalid", WithTemplateField("nodeName", R"("N1")"),
       P(kTmpl, "node_name"), "DNS-1123"},

      // ---- 10.4 Required node affinity.
      {"affinity_zero_terms", WithTemplateField("requiredNodeAffinity", "{}"),
       P(kTmpl, "required_node_affinity.node_selector_terms"), "at least one"},
      {"affinity_match_fields_key_not_metadata_name",
       WithAffinityTerms(R"([{"matchFields": [{"key": "metadata.namespace",
           "operator": "SELECTOR_OPERATOR_IN", "values": ["n1"]}]}])"),
       P(kTerm0, "match_fields[0].key"), "metadata.name"},
      {"affinity_match_fields_two_values",
       WithAffinityTerms(R"([{"matchFields": [{"key": "metadata.name",
           "operator": "SELECTOR_OPERATOR_IN", "values": ["n1", "n2"]}]}])"),
       P(kTerm0, "match_fields[0].values"), "exactly one"},
      {"affinity_match_fields_exists",
       WithAffinityTerms(R"([{"matchFields": [{"key": "metadata.name",
           "operator": "SELECTOR_OPERATOR_EXISTS", "values": ["n1"]}]}])"),
       P(kTerm0, "match_fields[0].operator"), "In"},
      {"affinity_gt_non_integer",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "cpus",
           "operator": "SELECTOR_OPERATOR_GT", "values": ["abc"]}]}])"),
       P(kTerm0, "match_expressions[0].values"), "integer"},
      {"affinity_gt_two_values",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "cpus",
           "operator": "SELECTOR_OPERATOR_GT", "values": ["1", "2"]}]}])"),
       P(kTerm0, "match_expressions[0].values"), "one"},
      // Semantics 3.4: "-5" is not a label value, so Gt ["-5"] is invalid.
      {"affinity_gt_negative_not_a_label_value",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "cpus",
           "operator": "SELECTOR_OPERATOR_GT", "values": ["-5"]}]}])"),
       P(kTerm0, "match_expressions[0].values[0]"), "label value"},
      {"affinity_operator_unspecified",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "disk",
           "values": ["ssd"]}]}])"),
       P(kTerm0, "match_expressions[0].operator"), "Gt"},
      {"affinity_in_without_values",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "disk",
           "operator": "SELECTOR_OPERATOR_IN"}]}])"),
       P(kTerm0, "match_expressions[0].values"), ""},
      {"affinity_in_bad_value",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "disk",
           "operator": "SELECTOR_OPERATOR_IN", "values": ["-ssd"]}]}])"),
       P(kTerm0, "match_expressions[0].values[0]"), "label value"},

      {"affinity_exists_with_values",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "disk",
           "operator": "SELECTOR_OPERATOR_EXISTS", "values": ["ssd"]}]}])"),
       P(kTerm0, "match_expressions[0].values"), ""},
      {"affinity_key_invalid",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "a/b/c",
           "operator": "SELECTOR_OPERATOR_EXISTS"}]}])"),
       P(kTerm0, "match_expressions[0].key"), "label key"},
      {"affinity_match_fields_bad_node_name",
       WithAffinityTerms(R"([{"matchFields": [{"key": "metadata.name",
           "operator": "SELECTOR_OPERATOR_IN", "values": ["N1"]}]}])"),
       P(kTerm0, "match_fields[0].values[0]"), "DNS-1123"},
      {"affinity_second_term_invalid",
       WithAffinityTerms(R"([{}, {"matchExpressions": [{"key": "disk",
           "operator": "SELECTOR_OPERATOR_LT"}]}])"),
       "snapshot.daemon_sets[0].template.required_node_affinity."
       "node_selector_terms[1].match_expressions[0].values",
       ""},

      // ---- 10.3 Tolerations.
      {"toleration_empty_key_equal",
       WithToleration(R"({"operator": "TOLERATION_OPERATOR_EQUAL"})"),
       P(kTol0, "operator"), "Exists"},
      {"toleration_operator_unspecified", WithToleration(R"({"key": "k"})"),
       P(kTol0, "operator"), "must be Exists or Equal"},
      {"toleration_exists_with_value",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS",
               "value": "v"})"),
       P(kTol0, "value"), "empty"},
      {"toleration_equal_bad_value",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EQUAL",
               "value": "-v"})"),
       P(kTol0, "value"), "label value"},
      {"toleration_lt_without_gate",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_LT",
               "value": "5"})"),
       P(kTol0, "operator"), "Exists or Equal"},
      {"toleration_lt_non_canonical",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_LT",
               "value": "007"})",
           Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_gt_not_a_number",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT",
               "value": "x"})",
           Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_seconds_with_no_schedule",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS",
               "effect": "TAINT_EFFECT_NO_SCHEDULE",
               "tolerationSeconds": 30})"),
       P(kTol0, "toleration_seconds"), "NoExecute"},
      {"toleration_seconds_without_effect",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS",
               "tolerationSeconds": 30})"),
       P(kTol0, "toleration_seconds"), "NoExecute"},
      {"toleration_key_invalid",
       WithToleration(
           R"({"key": "a/b/c", "operator": "TOLERATION_OPERATOR_EXISTS"})"),
       P(kTol0, "key"), "label key"},
      {"toleration_effect_unknown_number",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS",
               "effect": 17})"),
       P(kTol0, "effect"), "NoExecute"},

      // ---- 10.5 Update strategy.
      {"strategy_missing", WithDs(BaseDs().Without("updateStrategy")),
       kStrategy, "required"},
      {"strategy_type_unspecified",
       WithStrategy(BaseStrategy().Without("type")), P(kStrategy, "type"),
       "OnDelete"},
      {"strategy_max_unavailable_missing",
       WithStrategy(BaseStrategy().Without("maxUnavailable")),
       P(kStrategy, "max_unavailable"), "required"},
      {"strategy_both_zero",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"count": 0})")
                        .Set("maxSurge", R"({"count": 0})")),
       P(kStrategy, "max_unavailable"), "cannot be 0 when maxSurge is 0"},
      {"strategy_max_unavailable_zero_surge_absent",
       WithStrategy(BaseStrategy().Set("maxUnavailable", R"({"count": 0})")),
       P(kStrategy, "max_unavailable"), "cannot be 0 when maxSurge is 0"},
      {"strategy_both_zero_percent",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"percent": "0%"})")
                        .Set("maxSurge", R"({"percent": "0%"})")),
       P(kStrategy, "max_unavailable"), "cannot be 0 when maxSurge is 0"},
      {"strategy_both_non_zero",
       WithStrategy(BaseStrategy().Set("maxSurge", R"({"count": 1})")),
       P(kStrategy, "max_surge"),
       "may not be set when maxUnavailable is non-zero"},
      {"strategy_percent_150",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "150%"})")),
       P(kStrategy, "max_unavailable.percent"), "100%"},
      {"strategy_percent_abc",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "abc"})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_percent_negative",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "-5%"})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_surge_percent_101",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"count": 0})")
                        .Set("maxSurge", R"({"percent": "101%"})")),
       P(kStrategy, "max_surge.percent"), "100%"},
      {"strategy_count_negative",
       WithStrategy(BaseStrategy().Set("maxUnavailable", R"({"count": -1})")),
       P(kStrategy, "max_unavailable.count"), "0"},
      {"strategy_oneof_unset",
       WithStrategy(BaseStrategy().Set("maxUnavailable", "{}")),
       P(kStrategy, "max_unavailable"), ""},
      {"strategy_partition_negative",
       WithStrategy(BaseStrategy().Set("partition", R"({"count": -1})")),
       P(kStrategy, "partition.count"), "0"},

      // ---- More of 10.1: prefix and name limits, other label maps.
      {"label_key_prefix_254_chars",
       WithNodeField("labels",
                     absl::StrCat(R"([{"key": ")", std::string(254, 'p'),
                                  R"(/os", "value": "v"}])")),
       absl::StrCat(R"(snapshot.nodes[0].labels[")", std::string(254, 'p'),
                    R"(/os"])"),
       "label key"},
      {"label_key_empty_prefix",
       WithNodeField("labels", R"([{"key": "/os", "value": "v"}])"),
       R"(snapshot.nodes[0].labels["/os"])", "label key"},
      {"label_key_empty_name",
       WithNodeField("labels", R"([{"key": "kubernetes.io/", "value": "v"}])"),
       R"(snapshot.nodes[0].labels["kubernetes.io/"])", "label key"},
      {"label_key_name_leading_dot",
       WithNodeField("labels", R"([{"key": ".os", "value": "v"}])"),
       R"(snapshot.nodes[0].labels[".os"])", "label key"},
      {"label_value_with_space",
       WithNodeField("labels", R"([{"key": "app", "value": "a b"}])"),
       R"(snapshot.nodes[0].labels["app"])", "label value"},
      {"ds_namespace_64_chars",
       WithDsField("namespace", Quoted(std::string(64, 'n'))),
       P(kDs0, "namespace"), "DNS-1123"},
      {"template_label_bad_key",
       WithTemplateField("labels", R"([{"key": "app", "value": "x"},
           {"key": "a/b/c", "value": "x"}])"),
       P(kTmpl, R"(labels["a/b/c"])"), "label key"},
      {"selector_match_labels_bad_value",
       WithDsField("selector",
                   R"({"matchLabels": [{"key": "app", "value": "x-"}]})"),
       P(kDs0, R"(selector.match_labels["app"])"), "label value"},
      {"selector_expression_bad_value",
       WithDsField("selector", absl::StrCat(R"({"matchLabels": )", kAppX,
                                            R"(, "matchExpressions": [{"key":
           "app", "operator": "SELECTOR_OPERATOR_IN",
           "values": ["x", "-y"]}]})")),
       P(kDs0, "selector.match_expressions[0].values[1]"), "label value"},
      {"toleration_equal_value_64_chars",
       WithToleration(absl::StrCat(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EQUAL",
               "value": ")",
           std::string(64, 'v'), R"("})")),
       P(kTol0, "value"), "label value"},
      {"toleration_empty_key_exists_with_value",
       WithToleration(R"({"operator": "TOLERATION_OPERATOR_EXISTS",
           "value": "v"})"),
       P(kTol0, "value"), "empty"},
      {"toleration_gt_plus_sign",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT",
               "value": "+5"})",
           Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_lt_minus_zero",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_LT",
               "value": "-0"})",
           Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_gt_int64_overflow",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT",
               "value": "9223372036854775808"})",
           Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_gt_empty_with_gate",
       WithToleration(R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT"})",
                      Obj({{"tolerationComparisonOperators", "true"}})),
       P(kTol0, "value"), "integer"},
      {"toleration_operator_unknown_number",
       WithToleration(R"({"key": "k", "operator": 9})"), P(kTol0, "operator"),
       "must be Exists or Equal"},
      {"strategy_percent_no_sign",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "5"})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_percent_fraction",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "2.5%"})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_percent_only_sign",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "%"})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_percent_empty",
       WithStrategy(BaseStrategy().Set("maxUnavailable", R"({"percent": ""})")),
       P(kStrategy, "max_unavailable.percent"), ""},
      {"strategy_both_non_zero_percent",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"percent": "10%"})")
                        .Set("maxSurge", R"({"percent": "10%"})")),
       P(kStrategy, "max_surge"),
       "may not be set when maxUnavailable is non-zero"},
      {"strategy_zero_percent_and_zero_count",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"percent": "0%"})")
                        .Set("maxSurge", R"({"count": 0})")),
       P(kStrategy, "max_unavailable"), "cannot be 0 when maxSurge is 0"},
      {"strategy_max_surge_oneof_unset",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"count": 0})")
                        .Set("maxSurge", "{}")),
       P(kStrategy, "max_surge"), ""},
      {"strategy_partition_150_percent",
       WithStrategy(BaseStrategy().Set("partition", R"({"percent": "150%"})")),
       P(kStrategy, "partition.percent"), "100%"},
      {"strategy_rollout_node_selector_gt",
       WithStrategy(BaseStrategy().Set("rolloutNodeSelector",
                                       R"({"matchExpressions": [{"key": "zone",
               "operator": "SELECTOR_OPERATOR_GT", "values": ["1"]}]})")),
       P(kStrategy, "rollout_node_selector.match_expressions[0].operator"),
       "NotIn"},
      {"pod_namespace_missing", WithPod(BasePod().Without("namespace")),
       "snapshot.pods[0].namespace", ""},
      {"pod_label_duplicate_key",
       WithPodField("labels", R"([{"key": "app", "value": "x"},
           {"key": "app", "value": "x"}])"),
       R"(snapshot.pods[0].labels["app"])", "duplicate"},

      // ---- Pods.
      {"pod_name_invalid", WithPodField("name", R"("Ds_abc")"),
       "snapshot.pods[0].name", "DNS-1123"},
      {"pod_name_missing", WithPod(BasePod().Without("name")),
       "snapshot.pods[0].name", "required"},
      {"pod_namespace_invalid", WithPodField("namespace", R"("Default")"),
       "snapshot.pods[0].namespace", "DNS-1123"},
      {"pod_uid_missing", WithPod(BasePod().Without("uid")),
       "snapshot.pods[0].uid", "required"},
      {"pod_uid_duplicate",
       Request({BaseNode()}, {BaseDs()},
               {BasePod(), pod2.Set("uid", R"("p1")")}),
       "snapshot.pods[1].uid", "duplicate"},
      {"pod_namespace_name_duplicate",
       Request({BaseNode()}, {BaseDs()},
               {BasePod(), pod2.Set("name", R"("ds-abc")")}),
       "snapshot.pods[1].name", "duplicate"},
      {"pod_phase_unknown_number", WithPodField("phase", "17"),
       "snapshot.pods[0].phase", ""},
      {"pod_node_name_invalid", WithPodField("nodeName", R"("N1")"),
       "snapshot.pods[0].node_name", "DNS-1123"},
      {"pod_label_bad_value",
       WithPodField("labels", R"([{"key": "app", "value": "x-"}])"),
       R"(snapshot.pods[0].labels["app"])", "label value"},
      {"pod_affinity_match_fields_bad_node_name",
       WithPod(BasePod()
                   .Without("nodeName")
                   .Set("requiredNodeAffinity",
                        R"({"nodeSelectorTerms": [{"matchFields": [{"key":
               "metadata.name", "operator": "SELECTOR_OPERATOR_IN",
               "values": ["N1"]}]}]})")),
       "snapshot.pods[0].required_node_affinity.node_selector_terms[0]."
       "match_fields[0].values[0]",
       "DNS-1123"},

      // ---- Options.
      {"options_kubernetes_minor_99",
       WithOptions(Obj({{"kubernetesMinor", "99"}})),
       "options.kubernetes_minor", ""},
      {"options_kubernetes_minor_7",
       WithOptions(Obj({{"kubernetesMinor", "7"}})), "options.kubernetes_minor",
       ""},
      {"options_kubernetes_minor_36",
       WithOptions(Obj({{"kubernetesMinor", "36"}})),
       "options.kubernetes_minor", ""},
      {"options_kubernetes_minor_negative",
       WithOptions(Obj({{"kubernetesMinor", "-1"}})),
       "options.kubernetes_minor", ""},

      // ---- Timestamps (google.protobuf.Timestamp: 0001-01-01 .. 9999-12-31,
      // nanos 0 .. 999999999); proto3 JSON cannot spell these.
      {"ds_creation_timestamp_after_9999", Request(),
       P(kDs0, "creation_timestamp"), "",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()
             ->mutable_daemon_sets(0)
             ->mutable_creation_timestamp()
             ->set_seconds(253402300800);  // 10000-01-01T00:00:00Z
       }},
      {"pod_deletion_timestamp_before_0001", Request(),
       "snapshot.pods[0].deletion_timestamp", "",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()
             ->mutable_pods(0)
             ->mutable_deletion_timestamp()
             ->set_seconds(-62135596801);
       }},
      {"pod_ready_transition_negative_nanos", Request(),
       "snapshot.pods[0].ready_transition_time", "",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()
             ->mutable_pods(0)
             ->mutable_ready_transition_time()
             ->set_nanos(-1);
       }},
      {"taint_time_added_after_9999",
       WithNodeField("taints",
                     R"([{"key": "k", "effect": "TAINT_EFFECT_NO_EXECUTE"}])"),
       "snapshot.nodes[0].taints[0].time_added", "",
       [](v1::DecideRequest& r) {
         r.mutable_snapshot()
             ->mutable_nodes(0)
             ->mutable_taints(0)
             ->mutable_time_added()
             ->set_seconds(253402300800);
       }},
  };
}

class BadRequestTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadRequestTest, FirstViolationAndStatus) {
  const BadCase& c = GetParam();
  v1::DecideRequest request = Parse(c.json);
  if (c.mutate != nullptr) c.mutate(request);

  const Validation v = Validate(request);
  if (absl::StartsWith(c.field, "options.")) {
    EXPECT_FALSE(v.options_ok);
  } else {
    EXPECT_FALSE(v.snapshot_ok);
  }
  ASSERT_FALSE(v.violations.empty()) << c.json;
  EXPECT_EQ(v.violations[0].field, c.field);
  EXPECT_THAT(v.violations[0].description, HasSubstr(c.description));

  const absl::Status status = InvalidArgument(v.violations);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()), StartsWith(c.field + ": "));
  const google::rpc::BadRequest details = BadRequestPayload(status);
  ASSERT_GE(details.field_violations_size(), 1);
  EXPECT_EQ(details.field_violations(0).field(), c.field);
  EXPECT_EQ(details.field_violations(0).description(),
            v.violations[0].description);
}

INSTANTIATE_TEST_SUITE_P(Section10, BadRequestTest,
                         ::testing::ValuesIn(BadCases()),
                         ::dsd::testing::ParamName<BadCase>);

// ---------------------------------------------------------------------------
// Edge-of-the-rule requests that must be accepted.

struct GoodCase {
  std::string name;
  std::string json;
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }

std::vector<GoodCase> GoodCases() {
  const Obj gate({{"tolerationComparisonOperators", "true"}});
  return {
      {"base", Request()},
      {"no_pods", Request({BaseNode()}, {BaseDs()}, {})},
      {"empty_snapshot", "{}"},
      {"node_name_subdomain",
       WithNodeField("name", R"("ip-10-0-0-1.ec2.internal")")},
      {"label_value_empty",
       WithNodeField("labels", R"([{"key": "node-role.kubernetes.io/worker",
           "value": ""}])")},
      {"label_name_63_chars",
       WithNodeField("labels",
                     absl::StrCat(R"([{"key": ")", std::string(63, 'a'),
                                  R"(", "value": "A.b_c-D"}])"))},
      {"taints_same_key_different_effects",
       WithNodeField("taints",
                     R"([{"key": "k", "effect": "TAINT_EFFECT_NO_SCHEDULE"},
                         {"key": "k", "effect": "TAINT_EFFECT_NO_EXECUTE"}])")},
      {"same_name_in_two_namespaces",
       Request({BaseNode()},
               {BaseDs(), BaseDs()
                              .Set("namespace", R"("kube-system")")
                              .Set("uid", R"("u2")")})},
      {"selector_expressions_only",
       WithDsField("selector", R"({"matchExpressions": [{"key": "app",
           "operator": "SELECTOR_OPERATOR_IN", "values": ["x", "y"]}]})")},
      {"toleration_empty_key_exists",
       WithToleration(R"({"operator": "TOLERATION_OPERATOR_EXISTS"})")},
      {"toleration_effect_unspecified_tolerates_all",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EQUAL",
               "value": "v"})")},
      {"toleration_equal_empty_value",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EQUAL"})")},
      {"toleration_seconds_negative_no_execute",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS",
               "effect": "TAINT_EFFECT_NO_EXECUTE",
               "tolerationSeconds": -5})")},
      {"toleration_gt_with_gate",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT",
               "value": "7"})",
           gate)},
      {"toleration_lt_negative_with_gate",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_LT",
               "value": "-7"})",
           gate)},
      {"toleration_lt_zero_with_gate",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_LT",
               "value": "0"})",
           gate)},
      {"tolerations_duplicated", WithTemplateField("tolerations", R"([
           {"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS"},
           {"key": "k", "operator": "TOLERATION_OPERATOR_EXISTS"}])")},
      {"affinity_empty_term", WithAffinityTerms("[{}]")},
      {"affinity_gt_integer",
       WithAffinityTerms(R"([{"matchExpressions": [{"key": "cpus",
           "operator": "SELECTOR_OPERATOR_GT", "values": ["007"]}]}])")},
      {"affinity_match_fields_not_in",
       WithAffinityTerms(R"([{"matchFields": [{"key": "metadata.name",
           "operator": "SELECTOR_OPERATOR_NOT_IN", "values": ["n1"]}]}])")},
      {"strategy_on_delete_without_rolling_update",
       WithStrategy(Obj({{"type", R"("UPDATE_STRATEGY_TYPE_ON_DELETE")"}}))},
      {"strategy_surge_only",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"count": 0})")
                        .Set("maxSurge", R"({"count": 1})"))},
      {"strategy_percent_100",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "100%"})"))},
      {"strategy_zero_percent_with_surge_percent",
       WithStrategy(BaseStrategy()
                        .Set("maxUnavailable", R"({"percent": "0%"})")
                        .Set("maxSurge", R"({"percent": "25%"})"))},
      {"strategy_max_surge_zero_explicit",
       WithStrategy(BaseStrategy().Set("maxSurge", R"({"count": 0})"))},
      {"pod_phase_unspecified", WithPod(BasePod().Without("phase"))},
      {"pod_orphan_unscheduled_with_target",
       WithPod(BasePod()
                   .Without("nodeName")
                   .Without("controllerUid")
                   .Set("requiredNodeAffinity",
                        R"({"nodeSelectorTerms": [{"matchFields": [{"key":
               "metadata.name", "operator": "SELECTOR_OPERATOR_IN",
               "values": ["n1"]}]}]})"))},
      {"pod_on_node_not_in_snapshot", WithPodField("nodeName", R"("gone")")},
      {"options_kubernetes_minor_8",
       WithOptions(Obj({{"kubernetesMinor", "8"}}))},
      {"options_kubernetes_minor_35",
       WithOptions(Obj({{"kubernetesMinor", "35"}}))},
      {"node_name_253_chars",
       WithNodeField("name", Quoted(std::string(253, 'a')))},
      {"label_value_63_chars",
       WithNodeField("labels", absl::StrCat(R"([{"key": "app", "value": ")",
                                            std::string(63, 'v'), R"("}])"))},
      {"label_key_prefix_253_chars",
       WithNodeField("labels",
                     absl::StrCat(R"([{"key": ")", std::string(253, 'p'),
                                  R"(/os", "value": "v"}])"))},
      {"namespace_63_chars",
       Request({BaseNode()},
               {BaseDs().Set("namespace", Quoted(std::string(63, 'n')))}, {})},
      {"strategy_percent_leading_zero",
       WithStrategy(
           BaseStrategy().Set("maxUnavailable", R"({"percent": "050%"})"))},
      {"strategy_on_delete_ignores_rolling_update",
       WithStrategy(Obj({{"type", R"("UPDATE_STRATEGY_TYPE_ON_DELETE")"},
                         {"maxUnavailable", R"({"percent": "150%"})"}}))},
      {"strategy_partition_and_pause",
       WithStrategy(BaseStrategy()
                        .Set("partition", R"({"percent": "50%"})")
                        .Set("paused", "true")
                        .Set("rolloutNodeSelector",
                             R"({"matchLabels": [{"key": "zone",
                                 "value": "a"}]})"))},
      {"toleration_gt_int64_max_with_gate",
       WithToleration(
           R"({"key": "k", "operator": "TOLERATION_OPERATOR_GT",
               "value": "9223372036854775807"})",
           Obj({{"tolerationComparisonOperators", "true"}}))},
      {"uid_shared_by_pod_and_daemon_set",
       WithPod(BasePod().Set("uid", R"("u1")"))},
      {"generation_zero_and_min_ready_zero",
       WithDs(BaseDs()
                  .Set("generation", "0")
                  .Set("minReadySeconds", "0")
                  .Set("templateGeneration", "0"))},
      {"timestamps_at_range_ends",
       WithDs(BaseDs()
                  .Set("creationTimestamp", R"("0001-01-01T00:00:00Z")")
                  .Set("deletionTimestamp",
                       R"("9999-12-31T23:59:59.999999999Z")"))},
      // The smallest and the largest back-off delays upstream can hold; a
      // node the snapshot does not list is allowed (an entry outlives it).
      {"backoff_delays_1ns_and_15m",
       WithDsField("failedPodBackoffs",
                   R"([{"node": "n1", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "0.000000001s"},
                       {"node": "gone", "lastUpdate": "2026-01-01T00:00:00Z",
                        "delay": "900s"}])")},
  };
}

class GoodRequestTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodRequestTest, NoViolation) {
  const v1::DecideRequest request = Parse(GetParam().json);
  const Validation v = Validate(request);
  EXPECT_TRUE(v.options_ok);
  EXPECT_TRUE(v.snapshot_ok);
  EXPECT_THAT(v.violations, SizeIs(0))
      << v.violations[0].field << ": " << v.violations[0].description;
  EXPECT_THAT(InvalidArgument(v.violations), IsOk());
}

INSTANTIATE_TEST_SUITE_P(Section10, GoodRequestTest,
                         ::testing::ValuesIn(GoodCases()),
                         ::dsd::testing::ParamName<GoodCase>);

// ---------------------------------------------------------------------------
// Several violations: all reported, in request order, capped in the payload.

TEST(ValidateSnapshotTest, ThreeIndependentErrorsAreAllReported) {
  const std::string json = Request(
      {BaseNode().Set("taints", R"([{"effect": "TAINT_EFFECT_NO_SCHEDULE"}])")},
      {BaseDs().Set("generation", "-1")}, {BasePod().Without("uid")});
  const Validation v = Validate(Parse(json));
  EXPECT_FALSE(v.snapshot_ok);
  ASSERT_THAT(v.violations, SizeIs(3));
  EXPECT_EQ(v.violations[0].field, "snapshot.nodes[0].taints[0].key");
  EXPECT_EQ(v.violations[1].field, "snapshot.daemon_sets[0].generation");
  EXPECT_EQ(v.violations[2].field, "snapshot.pods[0].uid");

  const absl::Status status = InvalidArgument(v.violations);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()),
              StartsWith("snapshot.nodes[0].taints[0].key: "));
  EXPECT_THAT(std::string(status.message()), EndsWith(" (and 2 more)"));
  const google::rpc::BadRequest details = BadRequestPayload(status);
  ASSERT_EQ(details.field_violations_size(), 3);
  EXPECT_EQ(details.field_violations(0).field(),
            "snapshot.nodes[0].taints[0].key");
  EXPECT_EQ(details.field_violations(1).field(),
            "snapshot.daemon_sets[0].generation");
  EXPECT_EQ(details.field_violations(2).field(), "snapshot.pods[0].uid");
}

// A node name repeats one of a node checked before the first violation
// (converting, its name is the converted node's) or after it (kept apart):
// both are found, by ValidateSnapshot and by the converting pass alike.
TEST(ValidateSnapshotTest, DuplicateNodeNamesEitherSideOfAViolation) {
  const auto named = [](const char* name) {
    return BaseNode().Set("name", Quoted(name));
  };
  const v1::DecideRequest request =
      Parse(Request({named("a"), named("b"), named("Bad_Name"), named("c"),
                     named("a"), named("c"), named("b")}));
  const std::vector<std::string> expected = {
      "snapshot.nodes[2].name", "snapshot.nodes[4].name",
      "snapshot.nodes[5].name", "snapshot.nodes[6].name"};
  const auto fields = [](const std::vector<Violation>& violations) {
    std::vector<std::string> out;
    for (const Violation& v : violations) out.push_back(v.field);
    return out;
  };

  const Validation v = Validate(request);
  EXPECT_EQ(fields(v.violations), expected);
  const absl::StatusOr<engine::Snapshot> converted =
      SnapshotFromProto(request.snapshot(), request.options());
  ASSERT_THAT(converted.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  const google::rpc::BadRequest details = BadRequestPayload(converted.status());
  std::vector<std::string> reported;
  for (const auto& f : details.field_violations()) {
    reported.push_back(f.field());
    if (f.field() != "snapshot.nodes[2].name") {
      EXPECT_EQ(f.description(), "duplicate node name") << f.field();
    }
  }
  EXPECT_EQ(reported, expected);
}

TEST(ValidateSnapshotTest, ManyViolationsAreCappedInThePayload) {
  std::vector<Obj> nodes;
  for (int i = 0; i < 150; ++i) {
    nodes.push_back(BaseNode().Set("name", Quoted(absl::StrCat("N", i))));
  }
  const Validation v = Validate(Parse(Request(nodes)));
  EXPECT_FALSE(v.snapshot_ok);
  ASSERT_GE(v.violations.size(), kMaxViolations);
  EXPECT_EQ(v.violations[0].field, "snapshot.nodes[0].name");

  const absl::Status status = InvalidArgument(v.violations);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()),
              StartsWith("snapshot.nodes[0].name: "));
  EXPECT_THAT(std::string(status.message()), HasSubstr(" more)"));
  // The payload lists the violations in order while they fit in
  // kMaxDetailsBytes (it travels in a response header that clients cap at
  // 8 KiB), then one entry without a field says how many were left out.
  const google::rpc::BadRequest details = BadRequestPayload(status);
  const int n = details.field_violations_size();
  ASSERT_GE(n, 10);
  ASSERT_LT(static_cast<size_t>(n), v.violations.size());
  EXPECT_LE(details.ByteSizeLong(), kMaxDetailsBytes + 512);
  for (int i = 0; i + 1 < n; ++i) {
    EXPECT_EQ(details.field_violations(i).field(),
              absl::StrCat("snapshot.nodes[", i, "].name"));
  }
  EXPECT_EQ(details.field_violations(n - 1).field(), "");
  EXPECT_EQ(details.field_violations(n - 1).description(),
            absl::StrCat(v.violations.size() - static_cast<size_t>(n - 1),
                         " more violations not shown (fix these first, or "
                         "call Validate)"));
}

TEST(ValidateSnapshotTest, PathsAreRootedAtTheGivenRoot) {
  const v1::DecideRequest request = Parse(WithNodeField("name", R"("N1")"));
  std::vector<Violation> out;
  EXPECT_FALSE(ValidateSnapshot(request.snapshot(), request.options(),
                                "request.snapshot", out));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].field, "request.snapshot.nodes[0].name");
}

TEST(InvalidArgumentTest, EmptyListIsOk) {
  EXPECT_THAT(InvalidArgument({}), IsOk());
}

TEST(InvalidArgumentTest, SingleViolationHasNoMoreSuffix) {
  const absl::Status status =
      InvalidArgument({{"snapshot.nodes[0].name", "is required"}});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(std::string(status.message()),
            "snapshot.nodes[0].name: is required");
}

TEST(LimitExceededTest, ResourceExhaustedWithQuotaFailure) {
  const absl::Status status = LimitExceeded("snapshot.nodes", "too many");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(status.message()), HasSubstr("snapshot.nodes"));
  const auto payload = status.GetPayload(kQuotaFailureTypeUrl);
  ASSERT_TRUE(payload.has_value());
  google::rpc::QuotaFailure details;
  ASSERT_TRUE(details.ParseFromString(std::string(*payload)));
  ASSERT_EQ(details.violations_size(), 1);
  EXPECT_EQ(details.violations(0).subject(), "snapshot.nodes");
}

// ---------------------------------------------------------------------------
// SnapshotFromProto (the one-pass validate-and-convert the service runs):
// a copy of every field the engine reads.

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

constexpr char kRichRequest[] = R"json({
  "snapshot": {
    "nodes": [
      {"name": "n1",
       "labels": [{"key": "kubernetes.io/os", "value": "linux"},
                  {"key": "disk", "value": "ssd"}],
       "taints": [{"key": "dedicated", "value": "infra",
                   "effect": "TAINT_EFFECT_NO_EXECUTE",
                   "timeAdded": "2026-01-02T03:00:00Z"},
                  {"key": "spot",
                   "effect": "TAINT_EFFECT_PREFER_NO_SCHEDULE"}]},
      {"name": "n2"}
    ],
    "daemonSets": [
      {"namespace": "default", "name": "ds", "uid": "u1",
       "creationTimestamp": "2026-01-01T00:00:00Z",
       "generation": 3, "templateGeneration": 2,
       "currentRevisionHash": "abc123",
       "selector": {"matchLabels": [{"key": "app", "value": "x"}],
                    "matchExpressions": [
                      {"key": "tier", "operator": "SELECTOR_OPERATOR_NOT_IN",
                       "values": ["db"]}]},
       "template": {
         "labels": [{"key": "app", "value": "x"}],
         "nodeSelector": [{"key": "disk", "value": "ssd"}],
         "requiredNodeAffinity": {"nodeSelectorTerms": [
           {"matchExpressions": [{"key": "cpus",
                                  "operator": "SELECTOR_OPERATOR_GT",
                                  "values": ["4"]}]}]},
         "tolerations": [
           {"key": "dedicated", "operator": "TOLERATION_OPERATOR_EQUAL",
            "value": "infra", "effect": "TAINT_EFFECT_NO_EXECUTE",
            "tolerationSeconds": 300},
           {"operator": "TOLERATION_OPERATOR_EXISTS"}],
         "hostNetwork": true},
       "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ROLLING_UPDATE",
                          "maxUnavailable": {"count": 0},
                          "maxSurge": {"percent": "25%"}},
       "minReadySeconds": 10,
       "failedPodBackoffs": [{"node": "n1",
                              "lastUpdate": "2026-01-01T00:00:05Z",
                              "delay": "2.5s"}]},
      {"namespace": "kube-system", "name": "old", "uid": "u2",
       "deletionTimestamp": "2026-01-02T00:00:00Z",
       "selector": {"matchLabels": [{"key": "app", "value": "old"}]},
       "template": {"labels": [{"key": "app", "value": "old"}],
                    "nodeName": "n2"},
       "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ON_DELETE"}}
    ],
    "pods": [
      {"namespace": "default", "name": "ds-a", "uid": "p1",
       "labels": [{"key": "app", "value": "x"}],
       "controllerUid": "u1", "nodeName": "n1",
       "creationTimestamp": "2026-01-01T01:00:00Z",
       "requiredNodeAffinity": {"nodeSelectorTerms": [
         {"matchFields": [{"key": "metadata.name",
                           "operator": "SELECTOR_OPERATOR_IN",
                           "values": ["n1"]}]}]},
       "phase": "POD_PHASE_RUNNING", "ready": true,
       "readyTransitionTime": "2026-01-01T01:00:30.5Z"},
      {"namespace": "default", "name": "ds-b", "uid": "p2",
       "controllerUid": "u1",
       "deletionTimestamp": "2026-01-02T03:04:00Z",
       "requiredNodeAffinity": {"nodeSelectorTerms": [
         {"matchFields": [{"key": "metadata.name",
                           "operator": "SELECTOR_OPERATOR_IN",
                           "values": ["n2"]}]}]},
       "phase": "POD_PHASE_PENDING"},
      {"namespace": "default", "name": "orphan", "uid": "p3",
       "nodeName": "n2", "phase": "POD_PHASE_FAILED"}
    ]
  },
  "options": {"explain": true, "kubernetesMinor": 30, "taintEviction": true,
              "tolerationComparisonOperators": true, "oneSync": true,
              "explainActionNodesOnly": true}
})json";

TEST(SnapshotFromProtoTest, CopiesEveryField) {
  const v1::DecideRequest request = Parse(kRichRequest);
  const Validation v = Validate(request);
  ASSERT_THAT(v.violations, SizeIs(0))
      << v.violations[0].field << ": " << v.violations[0].description;

  const absl::StatusOr<engine::Snapshot> converted =
      SnapshotFromProto(request.snapshot(), request.options());
  ASSERT_THAT(converted, IsOk());
  const engine::Snapshot& s = *converted;

  // Nodes.
  ASSERT_THAT(s.nodes, SizeIs(2));
  const engine::Node& n1 = s.nodes[0];
  EXPECT_EQ(n1.name, "n1");
  ASSERT_THAT(n1.labels, SizeIs(2));
  EXPECT_EQ(n1.labels[0].key(), "kubernetes.io/os");
  EXPECT_EQ(n1.labels[0].value(), "linux");
  EXPECT_EQ(n1.labels[1].key(), "disk");
  EXPECT_EQ(n1.labels[1].value(), "ssd");
  ASSERT_THAT(n1.taints, SizeIs(2));
  EXPECT_EQ(n1.taints[0].key(), "dedicated");
  EXPECT_EQ(n1.taints[0].value(), "infra");
  EXPECT_EQ(n1.taints[0].effect(), engine::TaintEffect::kNoExecute);
  EXPECT_EQ(n1.taints[0].time_added(), Utc(2026, 1, 2, 3, 0, 0));
  EXPECT_EQ(n1.taints[1].key(), "spot");
  EXPECT_EQ(n1.taints[1].value(), "");
  EXPECT_EQ(n1.taints[1].effect(), engine::TaintEffect::kPreferNoSchedule);
  EXPECT_EQ(n1.taints[1].time_added(), std::nullopt);
  EXPECT_EQ(s.nodes[1].name, "n2");
  EXPECT_THAT(s.nodes[1].labels, SizeIs(0));
  EXPECT_THAT(s.nodes[1].taints, SizeIs(0));

  // DaemonSets.
  ASSERT_THAT(s.daemon_sets, SizeIs(2));
  const engine::DaemonSet& ds = s.daemon_sets[0];
  EXPECT_EQ(ds.namespace_name, "default");
  EXPECT_EQ(ds.name, "ds");
  EXPECT_EQ(ds.uid, "u1");
  EXPECT_EQ(ds.creation_timestamp, Utc(2026, 1, 1, 0, 0, 0));
  EXPECT_FALSE(ds.being_deleted);
  EXPECT_EQ(ds.generation, 3);
  EXPECT_EQ(ds.template_generation, 2);
  EXPECT_EQ(ds.current_revision_hash, "abc123");
  ASSERT_THAT(ds.selector.match_labels, SizeIs(1));
  EXPECT_EQ(ds.selector.match_labels[0].key(), "app");
  EXPECT_EQ(ds.selector.match_labels[0].value(), "x");
  ASSERT_THAT(ds.selector.match_expressions, SizeIs(1));
  EXPECT_EQ(ds.selector.match_expressions[0].key, "tier");
  EXPECT_EQ(ds.selector.match_expressions[0].op,
            engine::SelectorOperator::kNotIn);
  EXPECT_THAT(ds.selector.match_expressions[0].values, ElementsAre("db"));
  ASSERT_THAT(ds.template_labels, SizeIs(1));
  EXPECT_EQ(ds.template_labels[0].key(), "app");
  EXPECT_EQ(ds.node_name, "");
  ASSERT_THAT(ds.node_selector, SizeIs(1));
  EXPECT_EQ(ds.node_selector[0].key(), "disk");
  EXPECT_EQ(ds.node_selector[0].value(), "ssd");
  ASSERT_TRUE(ds.required_node_affinity.has_value());
  ASSERT_THAT(*ds.required_node_affinity, SizeIs(1));
  const engine::NodeSelectorTerm& term = (*ds.required_node_affinity)[0];
  ASSERT_THAT(term.match_expressions, SizeIs(1));
  EXPECT_EQ(term.match_expressions[0].key, "cpus");
  EXPECT_EQ(term.match_expressions[0].op, engine::SelectorOperator::kGt);
  EXPECT_THAT(term.match_expressions[0].values, ElementsAre("4"));
  EXPECT_THAT(term.match_fields, SizeIs(0));
  ASSERT_THAT(ds.tolerations, SizeIs(2));
  EXPECT_EQ(ds.tolerations[0].key, "dedicated");
  EXPECT_EQ(ds.tolerations[0].op, engine::TolerationOperator::kEqual);
  EXPECT_EQ(ds.tolerations[0].value, "infra");
  EXPECT_EQ(ds.tolerations[0].effect, engine::TaintEffect::kNoExecute);
  EXPECT_EQ(ds.tolerations[0].toleration_seconds, 300);
  EXPECT_EQ(ds.tolerations[1].key, "");
  EXPECT_EQ(ds.tolerations[1].op, engine::TolerationOperator::kExists);
  EXPECT_EQ(ds.tolerations[1].effect, std::nullopt);  // every effect
  EXPECT_EQ(ds.tolerations[1].toleration_seconds, std::nullopt);
  EXPECT_TRUE(ds.host_network);
  EXPECT_EQ(ds.update_strategy.type,
            engine::UpdateStrategyType::kRollingUpdate);
  ASSERT_TRUE(ds.update_strategy.max_unavailable.has_value());
  EXPECT_EQ(ds.update_strategy.max_unavailable->value, 0);
  EXPECT_FALSE(ds.update_strategy.max_unavailable->is_percent);
  ASSERT_TRUE(ds.update_strategy.max_surge.has_value());
  EXPECT_EQ(ds.update_strategy.max_surge->value, 25);
  EXPECT_TRUE(ds.update_strategy.max_surge->is_percent);
  EXPECT_EQ(ds.update_strategy.partition, std::nullopt);
  EXPECT_FALSE(ds.update_strategy.paused);
  EXPECT_EQ(ds.update_strategy.node_selector, std::nullopt);
  EXPECT_EQ(ds.min_ready_seconds, 10);
  ASSERT_EQ(ds.failed_pod_backoffs.size(), 1u);
  EXPECT_EQ(ds.failed_pod_backoffs[0].node, "n1");
  EXPECT_EQ(ds.failed_pod_backoffs[0].last_update,
            absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 5),
                            absl::UTCTimeZone()));
  EXPECT_EQ(ds.failed_pod_backoffs[0].delay, absl::Milliseconds(2500));

  const engine::DaemonSet& old = s.daemon_sets[1];
  EXPECT_EQ(old.namespace_name, "kube-system");
  EXPECT_TRUE(old.being_deleted);
  EXPECT_EQ(old.creation_timestamp, absl::InfinitePast());  // unset: oldest
  EXPECT_EQ(old.template_generation, std::nullopt);
  EXPECT_EQ(old.current_revision_hash, "");
  EXPECT_EQ(old.node_name, "n2");
  EXPECT_EQ(old.required_node_affinity, std::nullopt);  // absent: no limit
  EXPECT_EQ(old.update_strategy.type, engine::UpdateStrategyType::kOnDelete);

  // Pods.
  ASSERT_THAT(s.pods, SizeIs(3));
  const engine::Pod& bound = s.pods[0];
  EXPECT_EQ(bound.namespace_name, "default");
  EXPECT_EQ(bound.name, "ds-a");
  EXPECT_EQ(bound.uid, "p1");
  ASSERT_THAT(bound.labels, SizeIs(1));
  EXPECT_EQ(bound.labels[0].key(), "app");
  EXPECT_EQ(bound.controller_uid, "u1");
  EXPECT_EQ(bound.creation_timestamp, Utc(2026, 1, 1, 1, 0, 0));
  EXPECT_FALSE(bound.terminating);
  EXPECT_EQ(bound.node_name, "n1");
  // A bound pod's affinity is not read (only unscheduled pods are targeted).
  EXPECT_THAT(bound.required_node_affinity, SizeIs(0));
  EXPECT_EQ(bound.phase, engine::PodPhase::kRunning);
  EXPECT_TRUE(bound.ready);
  EXPECT_EQ(bound.ready_since,
            Utc(2026, 1, 1, 1, 0, 30) + absl::Milliseconds(500));

  const engine::Pod& unscheduled = s.pods[1];
  EXPECT_EQ(unscheduled.name, "ds-b");
  EXPECT_TRUE(unscheduled.terminating);
  EXPECT_EQ(unscheduled.node_name, "");
  ASSERT_THAT(unscheduled.required_node_affinity, SizeIs(1));
  ASSERT_THAT(unscheduled.required_node_affinity[0].match_fields, SizeIs(1));
  EXPECT_EQ(unscheduled.required_node_affinity[0].match_fields[0].key,
            "metadata.name");
  EXPECT_EQ(unscheduled.required_node_affinity[0].match_fields[0].op,
            engine::SelectorOperator::kIn);
  EXPECT_THAT(unscheduled.required_node_affinity[0].match_fields[0].values,
              ElementsAre("n2"));
  EXPECT_EQ(unscheduled.phase, engine::PodPhase::kPending);
  EXPECT_FALSE(unscheduled.ready);
  EXPECT_EQ(unscheduled.ready_since, std::nullopt);
  EXPECT_EQ(unscheduled.creation_timestamp, absl::InfinitePast());

  const engine::Pod& orphan = s.pods[2];
  EXPECT_EQ(orphan.controller_uid, "");
  EXPECT_EQ(orphan.phase, engine::PodPhase::kFailed);
  EXPECT_FALSE(orphan.terminating);

  // Node names are copied together into the snapshot, and a bound pod's
  // node name is a view of its node's copy (the engine looks nodes up by
  // name for every pod); label strings are the snapshot's counted copies
  // (engine::Label), one per distinct string.
  EXPECT_NE(n1.name.data(), request.snapshot().nodes(0).name().data());
  EXPECT_EQ(bound.node_name.data(), n1.name.data());
  EXPECT_NE(n1.labels[0].key().data(),
            request.snapshot().nodes(0).labels(0).key().data());
}

// Each pod's node is looked up while converting (engine::Pod::node_index),
// so that Decide need not: the node's index, no such node, or not looked
// up for a pod without a node name.
TEST(SnapshotFromProtoTest, PodsComeWithTheirNodeLookedUp) {
  const auto node = [](const char* name) {
    return BaseNode().Set("name", Quoted(name));
  };
  const auto pod = [](const char* uid, const char* node_name) {
    Obj p = BasePod().Set("uid", Quoted(uid)).Set("name", Quoted(uid));
    return node_name == nullptr ? p.Without("nodeName")
                                : p.Set("nodeName", Quoted(node_name));
  };
  const v1::DecideRequest request = Parse(Request(
      {node("a"), node("b"), node("c")}, {BaseDs()},
      {pod("p1", "c"), pod("p2", "a"), pod("p3", "gone"), pod("p4", nullptr)}));
  const absl::StatusOr<engine::Snapshot> converted =
      SnapshotFromProto(request.snapshot(), request.options());
  ASSERT_THAT(converted.status(), IsOk());
  std::vector<int32_t> indices;
  for (const engine::Pod& p : converted->pods) indices.push_back(p.node_index);
  EXPECT_THAT(indices, ::testing::ElementsAre(2, 0, engine::Pod::kNoSuchNode,
                                              engine::Pod::kNodeNotLooked));
}

// Of an unscheduled pod's required affinity the converted pod keeps the
// matchFields (GetTargetNodeName reads only those); its matchExpressions
// are validated and dropped. A scheduled pod keeps neither.
TEST(SnapshotFromProtoTest, APodKeepsOnlyItsMatchFields) {
  const std::string affinity = R"({"nodeSelectorTerms": [{
      "matchExpressions": [{"key": "zone", "operator": "SELECTOR_OPERATOR_IN",
                            "values": ["a", "b", "c"]}],
      "matchFields": [{"key": "metadata.name",
                       "operator": "SELECTOR_OPERATOR_IN",
                       "values": ["n1"]}]}]})";
  const v1::DecideRequest request = Parse(Request(
      {BaseNode()}, {BaseDs()},
      {BasePod().Without("nodeName").Set("requiredNodeAffinity", affinity),
       BasePod()
           .Set("uid", Quoted("p2"))
           .Set("name", Quoted("ds-def"))
           .Set("requiredNodeAffinity", affinity)}));
  const absl::StatusOr<engine::Snapshot> converted =
      SnapshotFromProto(request.snapshot(), request.options());
  ASSERT_THAT(converted.status(), IsOk());
  const engine::Pod& unscheduled = converted->pods[0];
  ASSERT_EQ(unscheduled.required_node_affinity.size(), 1u);
  const engine::NodeSelectorTerm& term = unscheduled.required_node_affinity[0];
  EXPECT_THAT(term.match_expressions, ::testing::IsEmpty());
  ASSERT_EQ(term.match_fields.size(), 1u);
  EXPECT_EQ(term.match_fields[0].key, "metadata.name");
  EXPECT_EQ(term.match_fields[0].values, (engine::RequirementValues{"n1"}));
  EXPECT_EQ(engine::TargetNodeName(unscheduled), "n1");
  EXPECT_THAT(converted->pods[1].required_node_affinity, ::testing::IsEmpty());
  // The dropped values were still checked.
  v1::DecideRequest bad = request;
  bad.mutable_snapshot()
      ->mutable_pods(0)
      ->mutable_required_node_affinity()
      ->mutable_node_selector_terms(0)
      ->mutable_match_expressions(0)
      ->set_values(1, "not a value!");
  EXPECT_THAT(SnapshotFromProto(bad.snapshot(), bad.options()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SnapshotFromProtoTest, PodPhasesMapByName) {
  const struct {
    const char* json;
    engine::PodPhase phase;
  } kRows[] = {
      {"POD_PHASE_UNSPECIFIED", engine::PodPhase::kUnset},
      {"POD_PHASE_PENDING", engine::PodPhase::kPending},
      {"POD_PHASE_RUNNING", engine::PodPhase::kRunning},
      {"POD_PHASE_SUCCEEDED", engine::PodPhase::kSucceeded},
      {"POD_PHASE_FAILED", engine::PodPhase::kFailed},
      {"POD_PHASE_UNKNOWN", engine::PodPhase::kUnknown},
  };
  for (const auto& row : kRows) {
    SCOPED_TRACE(row.json);
    const v1::DecideRequest request =
        Parse(WithPodField("phase", Quoted(row.json)));
    const absl::StatusOr<engine::Snapshot> converted =
        SnapshotFromProto(request.snapshot(), request.options());
    ASSERT_THAT(converted, IsOk());
    const engine::Snapshot& s = *converted;
    ASSERT_THAT(s.pods, SizeIs(1));
    EXPECT_EQ(s.pods[0].phase, row.phase);
  }
}

TEST(OptionsFromProtoTest, CopiesEveryOption) {
  const v1::DecideRequest request = Parse(kRichRequest);
  const engine::Options o = OptionsFromProto(request.options());
  EXPECT_TRUE(o.explain);
  EXPECT_EQ(o.kubernetes_minor, 30);
  EXPECT_TRUE(o.taint_eviction);
  EXPECT_TRUE(o.toleration_comparison_operators);
  EXPECT_FALSE(o.rolling_update_after_manage);  // one_sync
  EXPECT_TRUE(o.explain_action_nodes_only);

  const engine::Options defaults = OptionsFromProto(v1::DecideOptions());
  EXPECT_FALSE(defaults.explain);
  EXPECT_EQ(defaults.kubernetes_minor, 0);
  EXPECT_FALSE(defaults.taint_eviction);
  EXPECT_FALSE(defaults.toleration_comparison_operators);
  EXPECT_TRUE(defaults.rolling_update_after_manage);  // plan contract, 7.7
  EXPECT_FALSE(defaults.explain_action_nodes_only);
}

// ---------------------------------------------------------------------------
// PlanToProto.

struct RequeueCase {
  std::string name;
  absl::Duration requeue_after;
  int32_t seconds;
};

void PrintTo(const RequeueCase& c, std::ostream* os) { *os << c.name; }

class RequeueRoundingTest : public ::testing::TestWithParam<RequeueCase> {};

TEST_P(RequeueRoundingTest, RoundsUpToSeconds) {
  engine::Plan plan;
  plan.daemon_sets.emplace_back().requeue_after = GetParam().requeue_after;
  v1::DecideResponse out;
  PlanToProto(plan, absl::UnixEpoch(), out);
  ASSERT_EQ(out.daemon_sets_size(), 1);
  EXPECT_EQ(out.daemon_sets(0).requeue_after_seconds(), GetParam().seconds);
}

INSTANTIATE_TEST_SUITE_P(
    PlanContract, RequeueRoundingTest,
    ::testing::ValuesIn(std::vector<RequeueCase>{
        {"zero", absl::ZeroDuration(), 0},
        {"one_nanosecond", absl::Nanoseconds(1), 1},
        {"one_second", absl::Seconds(1), 1},
        {"one_point_two_seconds", absl::Milliseconds(1200), 2},
        {"just_under_a_minute", absl::Milliseconds(59999), 60},
        {"one_hour", absl::Hours(1), 3600},
    }),
    ::dsd::testing::ParamName<RequeueCase>);

TEST(PlanToProtoTest, CopiesThePlan) {
  constexpr engine::DeleteReason kAllReasons[] = {
      engine::DeleteReason::kNodeNameMismatch,
      engine::DeleteReason::kNodeAffinityMismatch,
      engine::DeleteReason::kUntoleratedNoExecuteTaint,
      engine::DeleteReason::kFailedPod,
      engine::DeleteReason::kSucceededPod,
      engine::DeleteReason::kDuplicatePod,
      engine::DeleteReason::kOldPodNotReady,
      engine::DeleteReason::kSurgeReplaced,
      engine::DeleteReason::kRollingUpdate,
      engine::DeleteReason::kRollingUpdateUnavailable,
      engine::DeleteReason::kSchedulingConstraintChanged,
      engine::DeleteReason::kNodeGone,
      engine::DeleteReason::kTaintEviction,
  };
  std::vector<std::string> pod_names;
  for (size_t i = 0; i < std::size(kAllReasons); ++i) {
    pod_names.push_back(absl::StrCat("pod-", i));
  }

  engine::Plan plan;
  engine::DaemonSetPlan& p = plan.daemon_sets.emplace_back();
  p.namespace_name = "kube-system";
  p.name = "agent";
  p.creates = {{"n1"}, {"n2"}};
  for (size_t i = 0; i < std::size(kAllReasons); ++i) {
    p.deletes.push_back({pod_names[i], i == 0 ? "" : "n3", kAllReasons[i],
                         absl::StrCat("why ", i)});
  }
  p.status = {1, 2, 3, 4, 5, 6, 7};
  p.requeue_after = absl::Milliseconds(1200);
  p.revision_unknown = true;
  p.notes = {"note a", "note b"};
  p.explanations.push_back({"n1", true, true, {}});
  p.explanations.push_back({"n2", false, true, {"taint x", "label y"}});
  plan.daemon_sets.emplace_back().name = "second";

  v1::DecideResponse out;
  out.add_daemon_sets()->set_name("stale");  // cleared first
  const absl::Time at = Utc(2026, 1, 2, 3, 4, 5) + absl::Nanoseconds(7);
  PlanToProto(plan, at, out);

  EXPECT_EQ(out.evaluated_at().seconds(), absl::ToUnixSeconds(at));
  EXPECT_EQ(out.evaluated_at().nanos(), 7);
  EXPECT_EQ(TimeFromProto(out.evaluated_at()), at);
  ASSERT_EQ(out.daemon_sets_size(), 2);
  const v1::DaemonSetPlan& dp = out.daemon_sets(0);
  EXPECT_EQ(dp.namespace_(), "kube-system");
  EXPECT_EQ(dp.name(), "agent");
  ASSERT_EQ(dp.create_size(), 2);
  EXPECT_EQ(dp.create(0).node(), "n1");
  EXPECT_EQ(dp.create(1).node(), "n2");
  ASSERT_EQ(dp.delete__size(), static_cast<int>(std::size(kAllReasons)));
  for (size_t i = 0; i < std::size(kAllReasons); ++i) {
    const v1::PodDelete& d = dp.delete_(static_cast<int>(i));
    SCOPED_TRACE(engine::DeleteReasonName(kAllReasons[i]));
    EXPECT_EQ(d.pod(), pod_names[i]);
    EXPECT_EQ(d.node(), i == 0 ? "" : "n3");
    EXPECT_EQ(v1::DeleteReason_Name(d.reason()),
              engine::DeleteReasonName(kAllReasons[i]));
    EXPECT_EQ(d.message(), absl::StrCat("why ", i));
  }
  const v1::DaemonSetStatus& st = dp.status();
  EXPECT_EQ(st.desired_number_scheduled(), 1);
  EXPECT_EQ(st.current_number_scheduled(), 2);
  EXPECT_EQ(st.number_misscheduled(), 3);
  EXPECT_EQ(st.number_ready(), 4);
  EXPECT_EQ(st.updated_number_scheduled(), 5);
  EXPECT_EQ(st.number_available(), 6);
  EXPECT_EQ(st.number_unavailable(), 7);
  EXPECT_EQ(dp.requeue_after_seconds(), 2);
  EXPECT_TRUE(dp.revision_unknown());
  EXPECT_THAT(dp.notes(), ElementsAre("note a", "note b"));
  ASSERT_EQ(dp.explanations_size(), 2);
  EXPECT_EQ(dp.explanations(0).node(), "n1");
  EXPECT_TRUE(dp.explanations(0).should_run());
  EXPECT_TRUE(dp.explanations(0).should_continue_running());
  EXPECT_EQ(dp.explanations(0).failed_predicates_size(), 0);
  EXPECT_EQ(dp.explanations(1).node(), "n2");
  EXPECT_FALSE(dp.explanations(1).should_run());
  EXPECT_THAT(dp.explanations(1).failed_predicates(),
              ElementsAre("taint x", "label y"));
  EXPECT_EQ(out.daemon_sets(1).name(), "second");
  EXPECT_EQ(out.daemon_sets(1).requeue_after_seconds(), 0);
}

TEST(PlanToProtoTest, ReasonNamesAreTheContractSpelling) {
  // The proto3 JSON of a DeleteReason is its value name (plan contract).
  const struct {
    engine::DeleteReason reason;
    const char* name;
  } kRows[] = {
      {engine::DeleteReason::kNodeNameMismatch, "NodeNameMismatch"},
      {engine::DeleteReason::kNodeAffinityMismatch, "NodeAffinityMismatch"},
      {engine::DeleteReason::kUntoleratedNoExecuteTaint,
       "UntoleratedNoExecuteTaint"},
      {engine::DeleteReason::kFailedPod, "FailedPod"},
      {engine::DeleteReason::kSucceededPod, "SucceededPod"},
      {engine::DeleteReason::kDuplicatePod, "DuplicatePod"},
      {engine::DeleteReason::kOldPodNotReady, "OldPodNotReady"},
      {engine::DeleteReason::kSurgeReplaced, "SurgeReplaced"},
      {engine::DeleteReason::kRollingUpdate, "RollingUpdate"},
      {engine::DeleteReason::kRollingUpdateUnavailable,
       "RollingUpdateUnavailable"},
      {engine::DeleteReason::kSchedulingConstraintChanged,
       "SchedulingConstraintChanged"},
      {engine::DeleteReason::kNodeGone, "NodeGone"},
      {engine::DeleteReason::kTaintEviction, "TaintEviction"},
  };
  for (const auto& row : kRows) {
    SCOPED_TRACE(row.name);
    engine::Plan plan;
    plan.daemon_sets.emplace_back().deletes.push_back(
        {"p", "n", row.reason, ""});
    v1::DecideResponse out;
    PlanToProto(plan, absl::UnixEpoch(), out);
    ASSERT_EQ(out.daemon_sets(0).delete__size(), 1);
    EXPECT_EQ(v1::DeleteReason_Name(out.daemon_sets(0).delete_(0).reason()),
              row.name);
  }
}

}  // namespace
}  // namespace dsd::convert
