// The daemon pod body against upstream's controller, field by field
// (cluster-integration 3.2; pkg/controller/daemon/util/daemonset_util.go:
// CreatePodTemplate, ReplaceDaemonSetPodNodeNameNodeAffinity,
// AddOrUpdateDaemonPodTolerations; pkg/controller/controller_utils.go:
// GetPodFromTemplate, getPodsPrefix; metav1.NewControllerRef). Each row
// starts from one DaemonSet and changes what it is about; the expected
// values are written from those functions, not from this code's output.
#include "client/adapter/pod_body.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/testing/param_name.h"

// Case tables name only the fields a row sets.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace dsd::adapter {
namespace {

using nlohmann::json;

json BaseDaemonSet() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "kube-system",
                 "uid": "ds-uid-1", "generation": 4,
                 "labels": {"team": "infra"},
                 "annotations": {"note": "on the DaemonSet, not the pod"}},
    "spec": {
      "selector": {"matchLabels": {"app": "agent"}},
      "template": {
        "metadata": {"labels": {"app": "agent"}, "name": "ignored",
                     "namespace": "ignored", "creationTimestamp": null},
        "spec": {"containers": [{"name": "a", "image": "busybox"}],
                 "nodeSelector": {"disk": "ssd"},
                 "schedulerName": "default-scheduler"}}}})");
}

// The six default tolerations, in upstream's order.
json Defaults() {
  return json::parse(R"([
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}])");
}

json Pinned(const std::string& node) {
  return {{"nodeSelectorTerms",
           {{{"matchFields",
              {{{"key", "metadata.name"},
                {"operator", "In"},
                {"values", {node}}}}}}}}};
}

struct PodCase {
  std::string name;
  std::function<void(json& ds)> change;  // to BaseDaemonSet
  std::string hash = "6c9d8b7f5";
  // Checks on the body (when `error` is empty).
  std::function<void(const json& pod)> expect;
  std::string error;
};
void PrintTo(const PodCase& c, std::ostream* os) { *os << c.name; }

const PodCase kCases[] = {
    {.name = "WholeBodyOfTheBaseDaemonSet",
     .expect =
         [](const json& pod) {
           json spec = BaseDaemonSet()["spec"]["template"]["spec"];
           spec["tolerations"] = Defaults();
           spec["affinity"] = {
               {"nodeAffinity",
                {{"requiredDuringSchedulingIgnoredDuringExecution",
                  Pinned("node-1")}}}};
           const json want = {{"apiVersion", "v1"},
                              {"kind", "Pod"},
                              {"metadata",
                               {{"generateName", "agent-"},
                                {"labels",
                                 {{"app", "agent"},
                                  {"controller-revision-hash", "6c9d8b7f5"}}},
                                {"ownerReferences",
                                 {{{"apiVersion", "apps/v1"},
                                   {"kind", "DaemonSet"},
                                   {"name", "agent"},
                                   {"uid", "ds-uid-1"},
                                   {"controller", true},
                                   {"blockOwnerDeletion", true}}}}}},
                              {"spec", spec}};
           EXPECT_EQ(pod, want) << pod.dump(1);
         }},
    {.name = "HostNetworkAddsNetworkUnavailable",
     .change =
         [](json& ds) { ds["spec"]["template"]["spec"]["hostNetwork"] = true; },
     .expect =
         [](const json& pod) {
           json want = Defaults();
           want.push_back({{"key", "node.kubernetes.io/network-unavailable"},
                           {"operator", "Exists"},
                           {"effect", "NoSchedule"}});
           EXPECT_EQ(pod["spec"]["tolerations"], want);
         }},
    // MatchToleration (key, operator, value, effect) then not DeepEqual:
    // replaced where it stands, losing its tolerationSeconds.
    {.name = "MatchingTolerationIsReplacedInPlace",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["spec"]["tolerations"] = json::parse(R"([
             {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"},
             {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
              "effect": "NoExecute", "tolerationSeconds": 300}])");
         },
     .expect =
         [](const json& pod) {
           json want = json::array();
           want.push_back({{"key", "dedicated"},
                           {"operator", "Equal"},
                           {"value", "infra"},
                           {"effect", "NoSchedule"}});
           want.push_back(Defaults()[1]);  // in the template's place
           want.push_back(Defaults()[0]);
           for (int i = 2; i < 6; ++i) want.push_back(Defaults()[i]);
           EXPECT_EQ(pod["spec"]["tolerations"], want);
         }},
    // Same key and effect, another operator: not a match, both stay.
    {.name = "EqualOperatorIsNotAMatch",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["spec"]["tolerations"] = json::parse(R"([
             {"key": "node.kubernetes.io/not-ready", "operator": "Equal",
              "value": "", "effect": "NoExecute", "tolerationSeconds": 10}])");
         },
     .expect =
         [](const json& pod) {
           const json& t = pod["spec"]["tolerations"];
           ASSERT_EQ(t.size(), 7u);
           EXPECT_EQ(t[0]["tolerationSeconds"], 10);
           EXPECT_EQ(t[1], Defaults()[0]);
         }},
    // A DeepEqual one first: AddOrUpdateTolerationInPodSpec returns
    // unchanged, so a later duplicate keeps its seconds.
    {.name = "EqualTolerationFirstLeavesTheRestAlone",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["spec"]["tolerations"] = json::parse(R"([
             {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
             {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
              "effect": "NoExecute", "tolerationSeconds": 60}])");
         },
     .expect =
         [](const json& pod) {
           const json& t = pod["spec"]["tolerations"];
           ASSERT_EQ(t.size(), 7u);
           EXPECT_EQ(t[1]["tolerationSeconds"], 60);
           EXPECT_EQ(t[2], Defaults()[1]);
         }},
    // The required terms are replaced; preferred terms and pod affinity
    // stay.
    {.name = "RequiredAffinityReplacedPreferredKept",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["spec"]["affinity"] = json::parse(R"({
             "nodeAffinity": {
               "requiredDuringSchedulingIgnoredDuringExecution": {
                 "nodeSelectorTerms": [{"matchExpressions": [
                   {"key": "zone", "operator": "In", "values": ["a", "b"]}]}]},
               "preferredDuringSchedulingIgnoredDuringExecution": [
                 {"weight": 1, "preference": {"matchExpressions": [
                   {"key": "fast", "operator": "Exists"}]}}]},
             "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}})");
         },
     .expect =
         [](const json& pod) {
           const json& a = pod["spec"]["affinity"];
           EXPECT_EQ(a["nodeAffinity"]
                      ["requiredDuringSchedulingIgnoredDuringExecution"],
                     Pinned("node-1"));
           EXPECT_EQ(a["nodeAffinity"]
                      ["preferredDuringSchedulingIgnoredDuringExecution"][0]
                      ["weight"],
                     1);
           EXPECT_TRUE(a.contains("podAntiAffinity"));
         }},
    {.name = "TemplateGenerationAnnotationLabelsThePod",
     .change =
         [](json& ds) {
           ds["metadata"]["annotations"]
             ["deprecated.daemonset.template.generation"] = "07";
         },
     .expect =
         [](const json& pod) {
           // strconv.ParseInt, then fmt.Sprint: "07" is 7.
           EXPECT_EQ(pod["metadata"]["labels"]["pod-template-generation"], "7");
         }},
    {.name = "TemplateGenerationNotAnIntegerIsRefused",
     .change =
         [](json& ds) {
           ds["metadata"]["annotations"]
             ["deprecated.daemonset.template.generation"] = "7 ";
         },
     .error = "metadata.annotations[deprecated.daemonset.template.generation]: "
              "not an integer"},
    {.name = "NoHashNoHashLabel",
     .hash = "",
     .expect =
         [](const json& pod) {
           EXPECT_EQ(pod["metadata"]["labels"], json({{"app", "agent"}}));
         }},
    {.name = "TemplateAnnotationsAndFinalizersCopied",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["metadata"]["annotations"] = {{"a", "1"}};
           ds["spec"]["template"]["metadata"]["finalizers"] = {"x/y"};
         },
     .expect =
         [](const json& pod) {
           EXPECT_EQ(pod["metadata"]["annotations"], json({{"a", "1"}}));
           EXPECT_EQ(pod["metadata"]["finalizers"], json({"x/y"}));
           EXPECT_FALSE(pod["metadata"].contains("name"));
           EXPECT_FALSE(pod["metadata"].contains("namespace"));
         }},
    // A 253-character name plus "-" fails pod-name validation.
    {.name = "LongestNameHasNoDash",
     .change = [](json& ds) { ds["metadata"]["name"] = std::string(253, 'a'); },
     .expect =
         [](const json& pod) {
           EXPECT_EQ(pod["metadata"]["generateName"], std::string(253, 'a'));
         }},
    {.name = "NameOf252HasTheDash",
     .change = [](json& ds) { ds["metadata"]["name"] = std::string(252, 'a'); },
     .expect =
         [](const json& pod) {
           EXPECT_EQ(pod["metadata"]["generateName"],
                     std::string(252, 'a') + "-");
         }},
    // The controller pins by affinity and never sets nodeName; a
    // template's own nodeName is kept (pod.Spec = template.Spec).
    {.name = "TemplateNodeNameKept",
     .change =
         [](json& ds) {
           ds["spec"]["template"]["spec"]["nodeName"] = "node-1";
         },
     .expect =
         [](const json& pod) { EXPECT_EQ(pod["spec"]["nodeName"], "node-1"); }},
    {.name = "NoTemplateLabelsIsRefused",
     .change =
         [](json& ds) { ds["spec"]["template"]["metadata"].erase("labels"); },
     .error = "spec.template.metadata.labels: required"},
    {.name = "NoUidIsRefused",
     .change = [](json& ds) { ds["metadata"].erase("uid"); },
     .error = "DaemonSet kube-system/agent: metadata.uid: required"},
    {.name = "SpecNotAnObjectIsRefused",
     .change = [](json& ds) { ds["spec"]["template"]["spec"] = "x"; },
     .error = "spec.template.spec: not an object"},
    {.name = "NotADaemonSetAtAllIsRefused",
     .change =
         [](json& ds) {
           ds = json::array({1, 2});
         },
     .error = "metadata.name: required"},
};

class DaemonPodTest : public ::testing::TestWithParam<PodCase> {};

TEST_P(DaemonPodTest, AsUpstreamBuildsIt) {
  const PodCase& c = GetParam();
  json ds = BaseDaemonSet();
  if (c.change) c.change(ds);
  absl::StatusOr<json> pod = DaemonPod(ds, "node-1", c.hash);
  if (!c.error.empty()) {
    ASSERT_FALSE(pod.ok());
    EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(pod.status().message().find(c.error), std::string::npos)
        << pod.status();
    return;
  }
  ASSERT_TRUE(pod.ok()) << pod.status();
  c.expect(*pod);
}

INSTANTIATE_TEST_SUITE_P(Bodies, DaemonPodTest, ::testing::ValuesIn(kCases),
                         dsd::testing::ParamName<PodCase>);

}  // namespace
}  // namespace dsd::adapter
