// Pins client/k8s: Kubernetes objects (kubectl List JSON, multi-document
// YAML) -> dsd.v1 Snapshot with Kubernetes' defaulting (daemonset-semantics
// 7.1, 10.3; cluster-integration 2.1-2.6), the current revision hash
// (plan-contract "Revisions", semantics 7.2), skipped kinds, one row per
// class of input error with the plan-contract error line, and
// TranslateFieldPath. Expected values follow the Kubernetes rules, written
// by hand.
#include "client/k8s/snapshot_loader.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dsd/v1/dsd.pb.h"
#include "tests/testing/param_name.h"
#include "tests/testing/test_data.h"

namespace dsd::client {
namespace {

using ::google::protobuf::TextFormat;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Matcher;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// Helpers.

LoadedSnapshot Load(std::string_view text,
                    const std::string& source = "cluster.yaml") {
  SnapshotLoader loader;
  loader.AddText(text, source);
  return loader.Finish();
}

std::vector<std::string> ProblemLines(const LoadedSnapshot& loaded) {
  std::vector<std::string> out;
  for (const InputProblem& p : loaded.problems) out.push_back(p.ToString());
  return out;
}

template <typename Message>
Message ParseTextProto(const std::string& text) {
  Message m;
  EXPECT_TRUE(TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

// Strict equality (field order of repeated fields included), with the
// differences as the failure message.
::testing::AssertionResult ProtoEquals(
    const google::protobuf::Message& expected,
    const google::protobuf::Message& actual) {
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, actual)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << diff << "\nactual:\n"
                                       << actual.DebugString();
}

// A file of tests/client/testdata/, whole.
std::string TestData(const std::string& name) {
  return dsd::testing::ReadTestFile(std::string(DSD_TESTDATA_DIR) + "/" + name);
}

// ---------------------------------------------------------------------------
// The cluster fixtures, in testdata/. A realistic `kubectl get
// nodes,daemonsets,pods,controllerrevisions -A -o json`: fields dsd ignores
// (status.capacity, managedFields, containers, images, preferred
// affinity...) included.
constexpr char kClusterJson[] = "cluster.json";

// The same objects as `kubectl get ... -o yaml` would print them one by one,
// joined with `---` (quoting as kubectl does: numbers-as-strings quoted,
// timestamps quoted or not).
constexpr char kClusterYaml[] = "cluster.yaml";

// What Kubernetes' rules make of kClusterJson. Map entries (labels,
// nodeSelector, matchLabels) come sorted by key.
constexpr char kClusterSnapshot[] = "cluster_snapshot.txtpb";

TEST(SnapshotLoaderClusterTest, KubectlListJson) {
  const LoadedSnapshot loaded = Load(TestData(kClusterJson), "cluster.json");
  EXPECT_THAT(ProblemLines(loaded), IsEmpty());
  EXPECT_THAT(loaded.warnings, IsEmpty());
  EXPECT_TRUE(
      ProtoEquals(ParseTextProto<v1::Snapshot>(TestData(kClusterSnapshot)),
                  loaded.snapshot));
}

TEST(SnapshotLoaderClusterTest, OriginsParallelTheSnapshot) {
  const LoadedSnapshot loaded = Load(TestData(kClusterJson), "cluster.json");
  auto objects = [](const std::vector<ObjectOrigin>& origins) {
    std::vector<std::string> out;
    for (const ObjectOrigin& o : origins)
      out.push_back(o.source + " " + o.object);
    return out;
  };
  EXPECT_THAT(
      objects(loaded.nodes),
      ElementsAre("cluster.json Node k8s-node1", "cluster.json Node k8s-node2",
                  "cluster.json Node k8s-control-plane"));
  EXPECT_THAT(objects(loaded.daemon_sets),
              ElementsAre("cluster.json DaemonSet kube-system/ssd-monitor",
                          "cluster.json DaemonSet monitoring/log-agent"));
  EXPECT_THAT(objects(loaded.pods),
              ElementsAre("cluster.json Pod kube-system/ssd-monitor-7x2kq",
                          "cluster.json Pod kube-system/ssd-monitor-q8zrt",
                          "cluster.json Pod kube-system/ssd-monitor-old9p",
                          "cluster.json Pod monitoring/log-agent-2kq9d",
                          "cluster.json Pod default/nginx-7c5ddbdf54-abcde"));
}

TEST(SnapshotLoaderClusterTest, MultiDocumentYamlGivesTheSameSnapshot) {
  const LoadedSnapshot json = Load(TestData(kClusterJson), "cluster.json");
  const LoadedSnapshot yaml = Load(TestData(kClusterYaml), "cluster.yaml");
  EXPECT_THAT(ProblemLines(yaml), IsEmpty());
  EXPECT_THAT(yaml.warnings, IsEmpty());
  EXPECT_TRUE(MessageDifferencer::Equals(json.snapshot, yaml.snapshot))
      << ProtoEquals(json.snapshot, yaml.snapshot).message();
}

TEST(SnapshotLoaderClusterTest, FilesAddUpInOrder) {
  const std::string dir = ::testing::TempDir();
  const std::string json_path = dir + "/dsd_loader_cluster.json";
  const std::string yaml_path = dir + "/dsd_loader_extra.yaml";
  std::ofstream(json_path) << TestData(kClusterJson);
  std::ofstream(yaml_path) << "apiVersion: v1\nkind: Node\nmetadata:\n"
                              "  name: k8s-node3\n";
  SnapshotLoader loader;
  loader.AddFile(json_path);
  loader.AddFile(yaml_path);
  const LoadedSnapshot loaded = loader.Finish();
  std::remove(json_path.c_str());
  std::remove(yaml_path.c_str());
  EXPECT_THAT(ProblemLines(loaded), IsEmpty());
  ASSERT_EQ(loaded.snapshot.nodes_size(), 4);
  EXPECT_EQ(loaded.snapshot.nodes(3).name(), "k8s-node3");
  EXPECT_EQ(loaded.nodes[0].source, json_path);
  EXPECT_EQ(loaded.nodes[3].source, yaml_path);
  EXPECT_EQ(loaded.nodes[3].object, "Node k8s-node3");
}

TEST(SnapshotLoaderClusterTest, UnreadableFileIsAProblem) {
  SnapshotLoader loader;
  loader.AddFile("/nonexistent/dsd/cluster.yaml");
  const LoadedSnapshot loaded = loader.Finish();
  EXPECT_THAT(ProblemLines(loaded),
              ElementsAre("/nonexistent/dsd/cluster.yaml: cannot read: No such "
                          "file or directory"));
}

// As kubectl's "error: no objects passed to apply": input without a single
// object is a mistake (the wrong file, a kubectl get that failed), not an
// empty plan.
TEST(SnapshotLoaderClusterTest, EmptyInputIsAProblem) {
  const LoadedSnapshot loaded = Load("# nothing here\n---\n");
  EXPECT_THAT(ProblemLines(loaded), ElementsAre("no objects in cluster.yaml"));
  EXPECT_THAT(loaded.warnings, IsEmpty());
}

TEST(SnapshotLoaderClusterTest, NoObjectsInAnyFileNamesThemAll) {
  SnapshotLoader loader;
  loader.AddText("", "a.yaml");
  loader.AddText(" \n\t\n", "b.yaml");
  EXPECT_THAT(ProblemLines(loader.Finish()),
              ElementsAre("no objects in a.yaml, b.yaml"));
}

TEST(SnapshotLoaderClusterTest, AnEmptyFileBesideObjectsIsFine) {
  SnapshotLoader loader;
  loader.AddText("", "empty.yaml");
  loader.AddText("{kind: Node, metadata: {name: n1}}", "nodes.yaml");
  const LoadedSnapshot loaded = loader.Finish();
  EXPECT_THAT(ProblemLines(loaded), IsEmpty());
  EXPECT_EQ(loaded.snapshot.nodes_size(), 1);
}

// --max_input_bytes: all texts together; reading stops at the limit, so
// endless input (/dev/zero) ends too.
TEST(SnapshotLoaderLimitTest, TextsPastTheLimitAreTooLarge) {
  SnapshotLoader loader(/*max_input_bytes=*/100);
  const std::string node = "{kind: Node, metadata: {name: n1}}\n";  // 35
  loader.AddText(node, "a.yaml");
  loader.AddText(node, "b.yaml");
  loader.AddText(node + node, "c.yaml");
  EXPECT_THAT(ProblemLines(loader.Finish()),
              ElementsAre("c.yaml: too large to load (the input passes 100 "
                          "bytes in total; --max_input_bytes raises the "
                          "limit)"));
}

TEST(SnapshotLoaderLimitTest, EndlessFileStopsAtTheLimit) {
  SnapshotLoader loader(/*max_input_bytes=*/int64_t{3} << 20);
  loader.AddFile("/dev/zero");
  EXPECT_THAT(ProblemLines(loader.Finish()),
              ElementsAre("/dev/zero: too large to load (the input passes 3 "
                          "MiB in total; --max_input_bytes raises the "
                          "limit)"));
}

TEST(SnapshotLoaderLimitTest, RegularFileOverTheLimitIsRefusedUnread) {
  const std::string path = ::testing::TempDir() + "/dsd_loader_limit.yaml";
  std::ofstream(path) << std::string(5000, '#') << "\n";
  SnapshotLoader loader(/*max_input_bytes=*/4096);
  loader.AddFile(path);
  EXPECT_THAT(
      ProblemLines(loader.Finish()),
      ElementsAre(path + ": too large to load (the input passes 4 KiB in "
                         "total; --max_input_bytes raises the limit)"));
}

// ---------------------------------------------------------------------------
// DaemonSet defaulting (SetDefaults_DaemonSet, the toleration operator's ""
// meaning Equal, metadata the API server fills in).

// A manifest as people write them: no namespace, no uid.
std::string DaemonSetYaml(std::string_view metadata_extra,
                          std::string_view template_spec_extra,
                          std::string_view spec_extra) {
  std::string out =
      "apiVersion: apps/v1\n"
      "kind: DaemonSet\n"
      "metadata:\n"
      "  name: agent\n";
  out += metadata_extra;
  out +=
      "spec:\n"
      "  selector:\n"
      "    matchLabels:\n"
      "      app: agent\n"
      "  template:\n"
      "    metadata:\n"
      "      labels:\n"
      "        app: agent\n"
      "    spec:\n"
      "      containers:\n"
      "      - name: agent\n"
      "        image: registry.example/agent:1\n";
  out += template_spec_extra;
  out += spec_extra;
  return out;
}

// What every row's DaemonSet has; rows add (MergeFromString) the rest.
constexpr char kDaemonSetBase[] = R"pb(
  namespace: "default"
  name: "agent"
  uid: "uid:default/agent"
  selector { match_labels { key: "app" value: "agent" } }
  template { labels { key: "app" value: "agent" } }
)pb";

constexpr char kDefaultStrategy[] = R"pb(
  update_strategy {
    type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
    max_unavailable { count: 1 }
  }
)pb";

struct DaemonSetCase {
  std::string name;
  std::string metadata_extra;       // lines under metadata:, indent 2
  std::string template_spec_extra;  // lines under template.spec:, indent 6
  std::string spec_extra;           // lines under spec:, indent 2
  std::string expected;             // merged into kDaemonSetBase
  friend void PrintTo(const DaemonSetCase& c, std::ostream* os) {
    *os << c.name;
  }
};

std::vector<DaemonSetCase> DaemonSetCases() {
  return {
      {"ManifestWithoutNamespaceOrUid", "", "", "", kDefaultStrategy},
      {"NamespaceGivenUidSynthesized", "  namespace: kube-system\n", "", "",
       std::string(
           R"pb(namespace: "kube-system" uid: "uid:kube-system/agent")pb") +
           kDefaultStrategy},
      {"UidAndGenerationKept",
       "  namespace: kube-system\n  uid: 1f2e3d4c\n  generation: 9\n", "", "",
       std::string(
           R"pb(namespace: "kube-system" uid: "1f2e3d4c" generation: 9)pb") +
           kDefaultStrategy},
      {"TemplateGenerationAnnotation",
       "  annotations:\n    deprecated.daemonset.template.generation: \"7\"\n",
       "", "", std::string("template_generation: 7\n") + kDefaultStrategy},
      {"TimestampsWithFractionAndOffset",
       "  creationTimestamp: \"2026-01-02T04:04:05.5+01:00\"\n"
       "  deletionTimestamp: 2026-01-01T22:04:05-05:00\n",
       "", "",
       std::string(
           R"pb(creation_timestamp { seconds: 1767323045 nanos: 500000000 }
                deletion_timestamp { seconds: 1767323045 })pb") +
           kDefaultStrategy},
      {"TolerationOperatorAbsentIsEqual", "",
       "      tolerations:\n"
       "      - key: dedicated\n"
       "        value: gpu\n"
       "        effect: NoSchedule\n",
       "",
       std::string(R"pb(template {
                          tolerations {
                            key: "dedicated"
                            operator: TOLERATION_OPERATOR_EQUAL
                            value: "gpu"
                            effect: TAINT_EFFECT_NO_SCHEDULE
                          }
                        })pb") +
           kDefaultStrategy},
      {"TolerationOperatorEmptyIsEqual", "",
       "      tolerations:\n"
       "      - key: dedicated\n"
       "        operator: \"\"\n"
       "        value: gpu\n",
       "",
       std::string(R"pb(template {
                          tolerations {
                            key: "dedicated"
                            operator: TOLERATION_OPERATOR_EQUAL
                            value: "gpu"
                          }
                        })pb") +
           kDefaultStrategy},
      {"TolerationExistsWithoutKeyTakesEveryEffect", "",
       "      tolerations:\n"
       "      - operator: Exists\n",
       "",
       std::string(R"pb(template {
                          tolerations { operator: TOLERATION_OPERATOR_EXISTS }
                        })pb") +
           kDefaultStrategy},
      {"TolerationComparisonOperators", "",
       "      tolerations:\n"
       "      - {key: example.com/cores, operator: Gt, value: \"8\", effect: "
       "NoSchedule}\n"
       "      - {key: example.com/age, operator: Lt, value: \"30\"}\n",
       "",
       std::string(R"pb(template {
                          tolerations {
                            key: "example.com/cores"
                            operator: TOLERATION_OPERATOR_GT
                            value: "8"
                            effect: TAINT_EFFECT_NO_SCHEDULE
                          }
                          tolerations {
                            key: "example.com/age"
                            operator: TOLERATION_OPERATOR_LT
                            value: "30"
                          }
                        })pb") +
           kDefaultStrategy},
      {"TolerationSecondsZeroIsSet", "",
       "      tolerations:\n"
       "      - key: node.kubernetes.io/unreachable\n"
       "        operator: Exists\n"
       "        effect: NoExecute\n"
       "        tolerationSeconds: 0\n",
       "",
       std::string(R"pb(template {
                          tolerations {
                            key: "node.kubernetes.io/unreachable"
                            operator: TOLERATION_OPERATOR_EXISTS
                            effect: TAINT_EFFECT_NO_EXECUTE
                            toleration_seconds: 0
                          }
                        })pb") +
           kDefaultStrategy},
      {"UpdateStrategyAbsentIsRollingUpdateMaxUnavailable1", "", "", "",
       kDefaultStrategy},
      {"RollingUpdateWithoutParametersGetsMaxUnavailable1", "", "",
       "  updateStrategy:\n    type: RollingUpdate\n", kDefaultStrategy},
      {"TypeAbsentWithRollingUpdateIsRollingUpdate", "", "",
       "  updateStrategy:\n"
       "    rollingUpdate:\n"
       "      maxSurge: 1\n"
       "      maxUnavailable: 0\n",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 0 }
              max_surge { count: 1 }
            })pb"},
      {"MaxUnavailablePercentString", "", "",
       "  updateStrategy:\n"
       "    type: RollingUpdate\n"
       "    rollingUpdate:\n"
       "      maxUnavailable: 25%\n",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { percent: "25%" }
            })pb"},
      {"MaxUnavailableIntegerIsCount", "", "",
       "  updateStrategy:\n"
       "    rollingUpdate:\n"
       "      maxUnavailable: 3\n",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 3 }
            })pb"},
      // dsd.dev/ rollout annotations (README "Rollout annotations").
      {"RolloutPartitionCount",
       "  annotations:\n    dsd.dev/rollout-partition: \"3\"\n", "", "",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 1 }
              partition { count: 3 }
            })pb"},
      {"RolloutPartitionPercent",
       "  annotations:\n    dsd.dev/rollout-partition: 25%\n", "", "",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 1 }
              partition { percent: "25%" }
            })pb"},
      {"RolloutPaused",
       "  annotations:\n    dsd.dev/rollout-paused: \"true\"\n", "", "",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 1 }
              paused: true
            })pb"},
      {"RolloutNotPaused",
       "  annotations:\n    dsd.dev/rollout-paused: \"false\"\n", "", "",
       kDefaultStrategy},
      {"RolloutNodeSelectorKubectlSyntax",
       "  annotations:\n    dsd.dev/rollout-node-selector: \"zone in (a, b),"
       "!canary-excluded, tier!=db,gpu,app==web, os notin (win)\"\n",
       "", "",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 1 }
              rollout_node_selector {
                match_expressions {
                  key: "zone"
                  operator: SELECTOR_OPERATOR_IN
                  values: [ "a", "b" ]
                }
                match_expressions {
                  key: "canary-excluded"
                  operator: SELECTOR_OPERATOR_DOES_NOT_EXIST
                }
                match_expressions {
                  key: "tier"
                  operator: SELECTOR_OPERATOR_NOT_IN
                  values: "db"
                }
                match_expressions {
                  key: "gpu"
                  operator: SELECTOR_OPERATOR_EXISTS
                }
                match_expressions {
                  key: "app"
                  operator: SELECTOR_OPERATOR_IN
                  values: "web"
                }
                match_expressions {
                  key: "os"
                  operator: SELECTOR_OPERATOR_NOT_IN
                  values: "win"
                }
              }
            })pb"},
      {"MaxSurgeAloneKeepsDefaultMaxUnavailable", "", "",
       "  updateStrategy:\n"
       "    rollingUpdate:\n"
       "      maxSurge: \"10%\"\n",
       R"pb(update_strategy {
              type: UPDATE_STRATEGY_TYPE_ROLLING_UPDATE
              max_unavailable { count: 1 }
              max_surge { percent: "10%" }
            })pb"},
      {"OnDeleteIgnoresRollingUpdate", "", "",
       "  updateStrategy:\n"
       "    type: OnDelete\n"
       "    rollingUpdate:\n"
       "      maxUnavailable: 2\n",
       R"pb(update_strategy { type: UPDATE_STRATEGY_TYPE_ON_DELETE })pb"},
      {"NodeNameHostNetworkMinReadySeconds", "",
       "      nodeName: k8s-node1\n"
       "      hostNetwork: true\n",
       "  minReadySeconds: 30\n",
       std::string(R"pb(template { node_name: "k8s-node1" host_network: true }
                        min_ready_seconds: 30)pb") +
           kDefaultStrategy},
      {"NullNodeSelectorValueIsEmpty", "",
       "      nodeSelector:\n"
       "        node-role.kubernetes.io/edge:\n"
       "        zone: \"\"\n",
       "",
       std::string(R"pb(template {
                          node_selector {
                            key: "node-role.kubernetes.io/edge"
                            value: ""
                          }
                          node_selector { key: "zone" value: "" }
                        })pb") +
           kDefaultStrategy},
      {"RequiredAffinityTermsAndOperators", "",
       "      affinity:\n"
       "        nodeAffinity:\n"
       "          requiredDuringSchedulingIgnoredDuringExecution:\n"
       "            nodeSelectorTerms:\n"
       "            - {}\n"
       "            - matchExpressions:\n"
       "              - {key: gpu, operator: Exists}\n"
       "              - {key: cores, operator: Lt, values: [\"64\"]}\n"
       "              - {key: zone, operator: NotIn, values: [a, b]}\n"
       "              - {key: spot, operator: DoesNotExist}\n"
       "              matchFields:\n"
       "              - {key: metadata.name, operator: In, values: "
       "[k8s-node1]}\n",
       "",
       std::string(R"pb(template {
                          required_node_affinity {
                            node_selector_terms {}
                            node_selector_terms {
                              match_expressions {
                                key: "gpu"
                                operator: SELECTOR_OPERATOR_EXISTS
                              }
                              match_expressions {
                                key: "cores"
                                operator: SELECTOR_OPERATOR_LT
                                values: "64"
                              }
                              match_expressions {
                                key: "zone"
                                operator: SELECTOR_OPERATOR_NOT_IN
                                values: "a"
                                values: "b"
                              }
                              match_expressions {
                                key: "spot"
                                operator: SELECTOR_OPERATOR_DOES_NOT_EXIST
                              }
                              match_fields {
                                key: "metadata.name"
                                operator: SELECTOR_OPERATOR_IN
                                values: "k8s-node1"
                              }
                            }
                          }
                        })pb") +
           kDefaultStrategy},
  };
}

class DaemonSetDefaultingTest : public ::testing::TestWithParam<DaemonSetCase> {
};

TEST_P(DaemonSetDefaultingTest, Converts) {
  const DaemonSetCase& c = GetParam();
  const std::string yaml =
      DaemonSetYaml(c.metadata_extra, c.template_spec_extra, c.spec_extra);
  const LoadedSnapshot loaded = Load(yaml);
  ASSERT_THAT(ProblemLines(loaded), IsEmpty()) << yaml;
  ASSERT_EQ(loaded.snapshot.daemon_sets_size(), 1);
  v1::DaemonSet expected = ParseTextProto<v1::DaemonSet>(kDaemonSetBase);
  ASSERT_TRUE(TextFormat::MergeFromString(c.expected, &expected));
  EXPECT_TRUE(ProtoEquals(expected, loaded.snapshot.daemon_sets(0))) << yaml;
}

INSTANTIATE_TEST_SUITE_P(Kubernetes, DaemonSetDefaultingTest,
                         ::testing::ValuesIn(DaemonSetCases()),
                         dsd::testing::ParamName<DaemonSetCase>);

// ---------------------------------------------------------------------------
// Pods and nodes: namespace default, controller reference, readiness.

struct ObjectCase {
  std::string name;
  std::string input;
  std::string expected;  // a whole Snapshot
  friend void PrintTo(const ObjectCase& c, std::ostream* os) { *os << c.name; }
};

std::vector<ObjectCase> ObjectCases() {
  return {
      {"PodManifestGetsDefaultNamespaceAndUid",
       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: db\n",
       R"pb(pods { namespace: "default" name: "db" uid: "uid:default/db" })pb"},
      {"PodControllerIsTheControllerReference",
       R"yaml(apiVersion: v1
kind: Pod
metadata:
  name: agent-x
  namespace: ops
  uid: p1
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: cfg, uid: cm1}
  - apiVersion: apps/v1
    kind: DaemonSet
    name: agent
    uid: ds1
    controller: true
  - {apiVersion: v1, kind: Secret, name: s, uid: s1, controller: false}
)yaml",
       R"pb(pods {
              namespace: "ops"
              name: "agent-x"
              uid: "p1"
              controller_uid: "ds1"
            })pb"},
      {"PodReadyIsTheFirstReadyCondition",
       R"yaml(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ops, uid: p1}
status:
  phase: Failed
  conditions:
  - type: PodScheduled
    status: "True"
    lastTransitionTime: "2026-01-02T03:00:00Z"
  - {type: Ready, status: "True", lastTransitionTime: "2026-01-02T03:04:05.25Z"}
  - {type: Ready, status: "False", lastTransitionTime: "2026-01-02T03:04:00Z"}
)yaml",
       R"pb(pods {
              namespace: "ops"
              name: "p"
              uid: "p1"
              phase: POD_PHASE_FAILED
              ready: true
              ready_transition_time { seconds: 1767323045 nanos: 250000000 }
            })pb"},
      {"PodReadyUnknownIsNotReady",
       R"yaml(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ops, uid: p1}
spec: {nodeName: n1}
status:
  phase: Unknown
  conditions:
  - {type: Ready, status: Unknown}
)yaml",
       R"pb(pods {
              namespace: "ops"
              name: "p"
              uid: "p1"
              node_name: "n1"
              phase: POD_PHASE_UNKNOWN
            })pb"},
      {"NodeTaintWithoutEffectLeftToTheServer",
       // Kubernetes requires the effect; the proto can say "unset", so the
       // server reports it (spec.taints[0].effect after translation).
       "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
       "spec:\n  taints:\n  - key: gpu\n    value: \"true\"\n",
       R"pb(nodes {
              name: "n1"
              taints { key: "gpu" value: "true" }
            })pb"},
      {"NodeNamespaceIgnored",
       "apiVersion: v1\nkind: Node\nmetadata: {name: n1, namespace: x}\n",
       R"pb(nodes { name: "n1" })pb"},
  };
}

class ObjectConversionTest : public ::testing::TestWithParam<ObjectCase> {};

TEST_P(ObjectConversionTest, Converts) {
  const ObjectCase& c = GetParam();
  const LoadedSnapshot loaded = Load(c.input);
  ASSERT_THAT(ProblemLines(loaded), IsEmpty());
  EXPECT_TRUE(
      ProtoEquals(ParseTextProto<v1::Snapshot>(c.expected), loaded.snapshot));
}

INSTANTIATE_TEST_SUITE_P(Kubernetes, ObjectConversionTest,
                         ::testing::ValuesIn(ObjectCases()),
                         dsd::testing::ParamName<ObjectCase>);

// ---------------------------------------------------------------------------
// Current revision hash (plan-contract "Revisions", semantics 7.2).

// The DaemonSet every row is about: uid ds1, template generation 3.
constexpr char kAgentDaemonSet[] = R"yaml(apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ops
  uid: ds1
  annotations:
    deprecated.daemonset.template.generation: "3"
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
)yaml";

std::string Revision(std::string_view name, std::string_view hash_label,
                     int revision, std::string_view owner_uid,
                     std::string_view ns = "ops",
                     std::string_view app = "agent") {
  std::string out = "---\napiVersion: apps/v1\nkind: ControllerRevision\n";
  out += "metadata:\n  name: " + std::string(name) + "\n";
  out += "  namespace: " + std::string(ns) + "\n";
  out += "  labels:\n    app: " + std::string(app) + "\n";
  if (!hash_label.empty()) {
    out += "    controller-revision-hash: " + std::string(hash_label) + "\n";
  }
  if (!owner_uid.empty()) {
    out +=
        "  ownerReferences:\n  - {apiVersion: apps/v1, kind: DaemonSet, "
        "name: agent, controller: true, uid: " +
        std::string(owner_uid) + "}\n";
  }
  out += "revision: " + std::to_string(revision) + "\n";
  return out;
}

std::string AgentPod(std::string_view name, std::string_view generation,
                     std::string_view hash, std::string_view owner_uid) {
  std::string out = "---\napiVersion: v1\nkind: Pod\nmetadata:\n";
  out += "  name: " + std::string(name) + "\n  namespace: ops\n";
  out += "  labels:\n    app: agent\n";
  if (!generation.empty()) {
    out += "    pod-template-generation: \"" + std::string(generation) + "\"\n";
  }
  if (!hash.empty()) {
    out += "    controller-revision-hash: " + std::string(hash) + "\n";
  }
  if (!owner_uid.empty()) {
    out +=
        "  ownerReferences:\n  - {apiVersion: apps/v1, kind: DaemonSet, "
        "name: agent, controller: true, uid: " +
        std::string(owner_uid) + "}\n";
  }
  return out;
}

struct RevisionCase {
  std::string name;
  std::string objects;  // after kAgentDaemonSet
  std::string expected_hash;
  friend void PrintTo(const RevisionCase& c, std::ostream* os) {
    *os << c.name;
  }
};

std::vector<RevisionCase> RevisionCases() {
  return {
      {"NewestOwnedRevisionWins",
       Revision("agent-aaa", "aaa", 1, "ds1") +
           Revision("agent-ccc", "ccc", 3, "ds1") +
           Revision("agent-bbb", "bbb", 2, "ds1"),
       "ccc"},
      {"RevisionWithoutHashLabelGoesByName",
       Revision("agent-aaa", "aaa", 1, "ds1") +
           Revision("agent-5f6d7", "", 2, "ds1"),
       "agent-5f6d7"},
      {"RevisionOfAnotherDaemonSetIgnored",
       Revision("agent-aaa", "aaa", 1, "ds1") +
           Revision("agent-zzz", "zzz", 9, "other-uid"),
       "aaa"},
      {"RevisionsWinOverPods",
       Revision("agent-aaa", "aaa", 1, "ds1") +
           AgentPod("agent-p1", "3", "podhash", "ds1"),
       "aaa"},
      {"ManifestRevisionWithoutOwnerMatchedBySelector",
       Revision("agent-aaa", "aaa", 1, "") +
           Revision("agent-bbb", "bbb", 2, ""),
       "bbb"},
      {"OwnerlessRevisionInOtherNamespaceIgnored",
       Revision("agent-aaa", "aaa", 1, "") +
           Revision("agent-bbb", "bbb", 2, "", "other"),
       "aaa"},
      {"OwnerlessRevisionNotMatchingSelectorIgnored",
       Revision("agent-aaa", "aaa", 1, "") +
           Revision("web-bbb", "bbb", 2, "", "ops", "web"),
       "aaa"},
      {"NoRevisionsPodsAtCurrentGenerationAgree",
       AgentPod("agent-p1", "3", "h3", "ds1") +
           AgentPod("agent-p2", "3", "h3", "ds1") +
           AgentPod("agent-p3", "2", "h2", "ds1") +
           AgentPod("agent-p4", "3", "", "ds1"),
       "h3"},
      {"NoRevisionsPodsDisagree",
       AgentPod("agent-p1", "3", "h3", "ds1") +
           AgentPod("agent-p2", "3", "h3b", "ds1"),
       ""},
      {"NoRevisionsOnlyOldPods", AgentPod("agent-p1", "2", "h2", "ds1"), ""},
      {"NoRevisionsNoPods", "", ""},
      {"PodsOfAnotherControllerIgnored",
       AgentPod("agent-p1", "3", "h3", "other-uid") +
           AgentPod("agent-p2", "3", "h3b", ""),
       ""},
      {"RevisionsOfOtherDaemonSetsDoNotBlockPods",
       Revision("web-zzz", "zzz", 4, "web-uid", "ops", "web") +
           AgentPod("agent-p1", "3", "h3", "ds1"),
       "h3"},
  };
}

class RevisionHashTest : public ::testing::TestWithParam<RevisionCase> {};

TEST_P(RevisionHashTest, CurrentRevisionHash) {
  const RevisionCase& c = GetParam();
  const LoadedSnapshot loaded = Load(std::string(kAgentDaemonSet) + c.objects);
  ASSERT_THAT(ProblemLines(loaded), IsEmpty());
  ASSERT_EQ(loaded.snapshot.daemon_sets_size(), 1);
  EXPECT_EQ(loaded.snapshot.daemon_sets(0).current_revision_hash(),
            c.expected_hash);
}

// dsd-adapter's way: each DaemonSet and Pod converted alone by its own
// loader (as it arrives), then given to one loader with the revisions'
// text. The cross-object step must see the converted pods and DaemonSets
// as if they had been in the text.
TEST_P(RevisionHashTest, SameWhenObjectsAreConvertedOneAtATime) {
  const RevisionCase& c = GetParam();
  const std::string all = std::string(kAgentDaemonSet) + c.objects;
  std::vector<std::string> documents(1);
  std::istringstream lines(all);
  for (std::string line; std::getline(lines, line);) {
    if (line == "---") {
      documents.emplace_back();
    } else {
      documents.back() += line + "\n";
    }
  }
  SnapshotLoader loader;
  std::string revisions;
  for (const std::string& doc : documents) {
    if (doc.find("kind: ControllerRevision") != std::string::npos) {
      revisions += "---\n" + doc;
      continue;
    }
    LoadedSnapshot one = Load(doc, "cluster");
    ASSERT_THAT(ProblemLines(one), IsEmpty());
    loader.AddConverted(std::move(one));
  }
  if (!revisions.empty()) loader.AddText(revisions, "revisions.yaml");
  const LoadedSnapshot loaded = loader.Finish();
  const LoadedSnapshot whole = Load(all);
  ASSERT_THAT(ProblemLines(loaded), IsEmpty());
  ASSERT_EQ(loaded.snapshot.daemon_sets_size(), 1);
  EXPECT_EQ(loaded.snapshot.daemon_sets(0).current_revision_hash(),
            c.expected_hash);
  EXPECT_EQ(loaded.snapshot.pods_size(), whole.snapshot.pods_size());
  ASSERT_EQ(loaded.pods.size(), whole.pods.size());
  for (size_t i = 0; i < loaded.pods.size(); ++i) {
    EXPECT_EQ(loaded.pods[i].object, whole.pods[i].object);
    EXPECT_EQ(loaded.snapshot.pods(static_cast<int>(i)).name(),
              whole.snapshot.pods(static_cast<int>(i)).name());
  }
}

TEST(SnapshotLoaderConvertedTest, OnlyConvertedObjectsAreNotAnEmptyInput) {
  SnapshotLoader loader;
  loader.AddConverted(
      Load("{kind: Node, apiVersion: v1, "
           "metadata: {name: n1}}"));
  const LoadedSnapshot loaded = loader.Finish();
  EXPECT_THAT(ProblemLines(loaded), IsEmpty());
  ASSERT_EQ(loaded.snapshot.nodes_size(), 1);
  EXPECT_EQ(loaded.snapshot.nodes(0).name(), "n1");
  ASSERT_EQ(loaded.nodes.size(), 1u);
  EXPECT_EQ(loaded.nodes[0].object, "Node n1");
}

TEST(SnapshotLoaderConvertedTest, ConvertedProblemsAndObjectsComeAfterTexts) {
  SnapshotLoader loader;
  loader.AddConverted(
      Load("{kind: Node, apiVersion: v1, metadata: {name: "
           "c1}, spec: {taints: [{key: k, effect: Often}]}}",
           "watch"));
  loader.AddConverted(
      Load("{kind: Node, apiVersion: v1, "
           "metadata: {name: c2}}",
           "watch"));
  loader.AddText("{kind: Node, apiVersion: v1, metadata: {name: t1}}",
                 "a.yaml");
  const LoadedSnapshot loaded = loader.Finish();
  EXPECT_THAT(
      ProblemLines(loaded),
      ElementsAre(StartsWith("watch: Node c1: spec.taints[0].effect:")));
  std::vector<std::string> names;
  for (const v1::Node& n : loaded.snapshot.nodes()) names.push_back(n.name());
  EXPECT_THAT(names, ElementsAre("t1", "c1", "c2"));
  ASSERT_EQ(loaded.nodes.size(), 3u);
  EXPECT_EQ(loaded.nodes[2].source, "watch");
}

TEST(RevisionHashTest, WithoutTemplateGenerationPodsTellNothing) {
  const LoadedSnapshot loaded = Load(
      "apiVersion: apps/v1\nkind: DaemonSet\n"
      "metadata: {name: agent, namespace: ops, uid: ds1}\n" +
      AgentPod("agent-p1", "3", "h3", "ds1"));
  ASSERT_THAT(ProblemLines(loaded), IsEmpty());
  EXPECT_EQ(loaded.snapshot.daemon_sets(0).current_revision_hash(), "");
}

INSTANTIATE_TEST_SUITE_P(PlanContract, RevisionHashTest,
                         ::testing::ValuesIn(RevisionCases()),
                         dsd::testing::ParamName<RevisionCase>);

// ---------------------------------------------------------------------------
// Lists, documents and skipped kinds.

struct ShapeCase {
  std::string name;
  std::string input;
  std::vector<std::string> objects;  // origins: nodes, daemon sets, pods
  std::vector<std::string> warnings;
  friend void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }
};

constexpr char kSkipReason[] =
    ": dsdctl reads Node, DaemonSet, Pod and ControllerRevision";

std::vector<ShapeCase> ShapeCases() {
  return {
      {"SingleJsonObject",
       R"({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})",
       {"Node n1"},
       {}},
      {"YamlList",
       "apiVersion: v1\nkind: List\nitems:\n"
       "- {apiVersion: v1, kind: Node, metadata: {name: n1}}\n"
       "- {apiVersion: v1, kind: Pod, metadata: {name: p1, namespace: ops}}\n",
       {"Node n1", "Pod ops/p1"},
       {}},
      {"TypedListItemsTakeTheListKind",
       R"({"apiVersion": "v1", "kind": "NodeList", "metadata": {},
           "items": [{"metadata": {"name": "n1"}},
                     {"metadata": {"name": "n2"}}]})",
       {"Node n1", "Node n2"},
       {}},
      {"NestedListsAndDocuments",
       "kind: List\nitems:\n- kind: List\n  items:\n"
       "  - {kind: Node, metadata: {name: n1}}\n"
       "---\n"
       "kind: DaemonSetList\napiVersion: apps/v1\nitems:\n"
       "- metadata: {name: d1, namespace: ops}\n",
       {"Node n1", "DaemonSet ops/d1"},
       {}},
      {"JsonTopLevelArray",
       R"([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
           {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}}])",
       {"Node n1", "Pod default/p1"},
       {}},
      {"YamlFlowStyleStartingWithABrace",
       "{kind: Node, apiVersion: v1, metadata: {name: n1}}\n",
       {"Node n1"},
       {}},
      {"YamlFlowStyleList",
       "[{kind: Node, metadata: {name: n1}}, {kind: Node, metadata: {name: "
       "n2}}]\n",
       {"Node n1", "Node n2"},
       {}},
      {"JsonDocumentsInMultiDocumentYaml",
       "{\"kind\": \"Node\", \"metadata\": {\"name\": \"n1\"}}\n---\n"
       "{\"kind\": \"Node\", \"metadata\": {\"name\": \"n2\"}}\n",
       {"Node n1", "Node n2"},
       {}},
      {"TrailingCommaIsValidFlowYaml",
       R"({"kind": "Node", "metadata": {"name": "n1",},})",
       {"Node n1"},
       {}},
      {"OtherKindsSkipped",
       R"({"apiVersion": "v1", "kind": "List", "items": [
           {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system"}},
           {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "monitoring"}},
           {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}]})",
       {"Node n1"},
       {std::string("warning: cluster.yaml: skipping Service "
                    "kube-system/kube-dns") +
            kSkipReason,
        std::string("warning: cluster.yaml: skipping Namespace monitoring") +
            kSkipReason}},
      {"OldApiVersionSkipped",
       "apiVersion: extensions/v1beta1\nkind: DaemonSet\n"
       "metadata: {name: old, namespace: ops}\n",
       {},
       {"warning: cluster.yaml: skipping DaemonSet ops/old: dsdctl reads "
        "apps/v1 DaemonSet, not extensions/v1beta1"}},
  };
}

class ShapeTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ShapeTest, FindsObjects) {
  const ShapeCase& c = GetParam();
  const LoadedSnapshot loaded = Load(c.input);
  EXPECT_THAT(ProblemLines(loaded), IsEmpty());
  std::vector<std::string> objects;
  for (const auto* origins :
       {&loaded.nodes, &loaded.daemon_sets, &loaded.pods}) {
    for (const ObjectOrigin& o : *origins) objects.push_back(o.object);
  }
  EXPECT_EQ(objects, c.objects);
  EXPECT_EQ(loaded.warnings, c.warnings);
}

INSTANTIATE_TEST_SUITE_P(Input, ShapeTest, ::testing::ValuesIn(ShapeCases()),
                         dsd::testing::ParamName<ShapeCase>);

// ---------------------------------------------------------------------------
// Input errors: one row per class, each naming source, object and field.

struct ErrorCase {
  std::string name;
  std::string source;
  std::string input;
  Matcher<const std::vector<std::string>&> problems;
  friend void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }
};

// The DaemonSet of the plan-contract example, with `tolerations` lines.
std::string SsdMonitor(std::string_view template_spec_extra,
                       std::string_view spec_extra = "") {
  std::string out =
      "apiVersion: apps/v1\n"
      "kind: DaemonSet\n"
      "metadata:\n"
      "  name: ssd-monitor\n"
      "  namespace: kube-system\n"
      "spec:\n"
      "  selector:\n"
      "    matchLabels: {app: ssd-monitor}\n"
      "  template:\n"
      "    metadata:\n"
      "      labels: {app: ssd-monitor}\n"
      "    spec:\n"
      "      nodeSelector: {disk: ssd}\n";
  out += template_spec_extra;
  out += spec_extra;
  return out;
}

constexpr char kDs[] = "ds.yaml: DaemonSet kube-system/ssd-monitor: ";

// "Billion laughs": each level aliases the previous one ten times.
std::string YamlAliasBomb() {
  std::string out = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    out += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) out += (j == 0 ? "" : ", ") + prev;
    out += "]\n";
  }
  return out;
}

// A 10 kB scalar aliased 1,000 times: 10 MB from 12 kB of text.
std::string YamlAliasesOfALargeScalar() {
  std::string out = "big: &big " + std::string(10'000, 'x') + "\nmany: [";
  for (int i = 0; i < 1000; ++i) out += (i == 0 ? "*big" : ", *big");
  return out + "]\n";
}

// `depth` Lists inside each other around one Node.
std::string NestedLists(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += R"({"kind": "List", "items": [)";
  out += R"({"kind": "Node", "metadata": {"name": "n1"}})";
  for (int i = 0; i < depth; ++i) out += "]}";
  return out;
}

std::vector<ErrorCase> ErrorCases() {
  return {
      // Neither JSON nor YAML: JSON's error, which is the more precise.
      {"BadJsonWithLineAndColumn", "bad.json",
       "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\"kind\": \"Node\"}\n"
       "  }\n}\n",
       ElementsAre(StartsWith("bad.json: invalid JSON at line 5, column 3: "))},
      // Flow-style YAML that JSON rejects at its first unquoted key: YAML's
      // error, which read further.
      {"BadFlowYamlGetsTheYamlError", "bad.yaml",
       "{kind: Node, metadata: {name: n1, labels: {a: b]}}\n",
       ElementsAre(StartsWith("bad.yaml: invalid YAML at line 1, column "))},
      {"EmptyListHasNoObjects", "cluster.json",
       R"({"apiVersion": "v1", "kind": "List", "items": []})",
       ElementsAre("no objects in cluster.json")},
      {"WhitespaceOnly", "cluster.yaml", " \n\n\t\n",
       ElementsAre("no objects in cluster.yaml")},
      // yaml-cpp's own message for this is "bad file".
      {"YamlNestedTooDeeply", "deep.yaml",
       "a: " + std::string(3000, '[') + std::string(3000, ']') + "\n",
       ElementsAre(AllOf(StartsWith("deep.yaml: invalid YAML at line 1, "
                                    "column "),
                         HasSubstr(": nested too deeply to parse")))},
      {"ControlBytesEscaped", "bin.yaml",
       std::string("kind: Node\nmetadata: {name: \"a\\x01b\\x1b[31m\"}\n"
                   "spec: {taints: [{key: k, effect: \"\\0\"}]}\n"),
       ElementsAre("bin.yaml: Node a\\x01b\\x1B[31m: spec.taints[0].effect: "
                   "must be NoSchedule, PreferNoSchedule or NoExecute, got "
                   "\"\\u0000\"")},
      {"BadYaml", "bad.yaml",
       "apiVersion: v1\nkind: Node\nmetadata:\n  name: [n1\n",
       ElementsAre(AllOf(StartsWith("bad.yaml: invalid YAML at line "),
                         HasSubstr(", column ")))},
      // yaml-cpp 0.7 reads endless empty documents before a top-level ','
      // (found by fuzz/k8s_load_fuzzer): an error, not a hang.
      {"YamlCommaAtTopLevel", "bad.yaml", ",",
       ElementsAre("bad.yaml: invalid YAML at line 1, column 1: ',' outside "
                   "a flow collection ([...] or {...})")},
      {"YamlCommaAfterADocument", "bad.yaml", "kind: Node\n---\n\"x\" ,\n",
       ElementsAre("bad.yaml: invalid YAML at line 3, column 5: ',' outside "
                   "a flow collection ([...] or {...})")},
      {"YamlAliasOfItsOwnAnchor", "bad.yaml", "items: &x [*x]\n",
       ElementsAre(AllOf(StartsWith("bad.yaml: invalid YAML at line 1"),
                         HasSubstr("nesting deeper than 200 levels")))},
      {"YamlAliasBomb", "bad.yaml", YamlAliasBomb(),
       ElementsAre(StartsWith("bad.yaml: too large to load (YAML aliases "
                              "expand it past "))},
      // Few nodes, many bytes: the budget counts bytes, not nodes.
      {"YamlAliasesOfALargeScalar", "bad.yaml", YamlAliasesOfALargeScalar(),
       ElementsAre(AllOf(
           StartsWith("bad.yaml: too large to load (YAML aliases expand it "
                      "past "),
           HasSubstr(", twice its size, by the node at line ")))},
      {"InvalidUtf8InYamlValue", "cluster.yaml",
       "kind: Node\nmetadata:\n  name: n1\n  labels: {disk: \"s\xff"
       "d\"}\n",
       ElementsAre("cluster.yaml: Node n1: metadata.labels[\"disk\"]: the "
                   "value is not UTF-8 (byte 0xFF at offset 1)")},
      {"InvalidUtf8InYamlKey", "cluster.yaml",
       "kind: Node\nmetadata:\n  name: n1\nspec: {\"t\xc3\": 1}\n",
       ElementsAre("cluster.yaml: Node n1: spec[\"t\\xC3\"]: the key is not "
                   "UTF-8 (byte 0xC3 at offset 1)")},
      {"InvalidUtf8InJsonNamesTheField", "cluster.json",
       "{\"kind\": \"List\", \"items\": [{\"kind\": \"Pod\", \"metadata\": "
       "{\"name\": \"web\", \"namespace\": \"ops\"}, \"spec\": "
       "{\"nodeName\": \"n\xed\xa0\x80\"}}]}",
       ElementsAre("cluster.json: Pod ops/web: spec.nodeName: the value is "
                   "not UTF-8 (byte 0xED at offset 1)")},
      {"YamlNumberAsWritten", "ds.yaml",
       "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ssd-monitor\n"
       "  namespace: kube-system\n  generation: 1e32\n"
       "spec: {minReadySeconds: 0x1FFFFFFFF}\n",
       ElementsAre(std::string(kDs) +
                       "metadata.generation: must be an integer, got 1e32",
                   std::string(kDs) +
                       "spec.minReadySeconds: must be a 32-bit integer, got "
                       "0x1FFFFFFFF")},
      {"JsonNumberAsWritten", "ds.json",
       R"({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata":
           {"name": "ssd-monitor", "namespace": "kube-system",
            "generation": 92233720368547758080},
           "spec": {"minReadySeconds": 1.50E1}})",
       ElementsAre("ds.json: DaemonSet kube-system/ssd-monitor: "
                   "metadata.generation: must be an integer, got "
                   "92233720368547758080")},
      {"DocumentNotAnObject", "cluster.yaml", "just a string\n",
       ElementsAre("cluster.yaml: must be a Kubernetes object (a map), got "
                   "\"just a string\"")},
      {"KindMissing", "cluster.yaml", "apiVersion: v1\nmetadata: {name: n1}\n",
       ElementsAre("cluster.yaml: kind: is required")},
      {"MetadataNameMissing", "ds.yaml",
       "apiVersion: apps/v1\nkind: DaemonSet\n"
       "metadata: {namespace: kube-system}\n",
       ElementsAre("ds.yaml: DaemonSet (unnamed): metadata.name: is required")},
      {"MetadataNameMissingInList", "cluster.json",
       R"({"kind": "List", "items": [
           {"kind": "Node", "metadata": {"name": "n1"}},
           {"kind": "Pod", "metadata": {"namespace": "ops"}}]})",
       ElementsAre("cluster.json: Pod (unnamed, items[1]): metadata.name: is "
                   "required")},
      {"LabelsNotAMap", "cluster.yaml",
       "apiVersion: v1\nkind: Node\nmetadata:\n  name: k8s-node1\n"
       "  labels: [disk, ssd]\n",
       ElementsAre("cluster.yaml: Node k8s-node1: metadata.labels: must be a "
                   "map of strings, got a list")},
      {"LabelValueBooleanInYaml", "cluster.yaml",
       // Unquoted true (and YAML 1.1's yes) are booleans, as for kubectl.
       "apiVersion: v1\nkind: Node\nmetadata:\n  name: k8s-node1\n"
       "  labels:\n    gpu: true\n    ssd: yes\n    zone: \"yes\"\n",
       ElementsAre("cluster.yaml: Node k8s-node1: metadata.labels[\"gpu\"]: "
                   "must be a string, got true",
                   "cluster.yaml: Node k8s-node1: metadata.labels[\"ssd\"]: "
                   "must be a string, got true")},
      {"UnknownTolerationOperator", "ds.yaml",
       SsdMonitor("      tolerations:\n"
                  "      - key: dedicated\n"
                  "        operator: Like\n"
                  "        value: gpu\n"),
       ElementsAre("ds.yaml: DaemonSet kube-system/ssd-monitor: "
                   "spec.template.spec.tolerations[0].operator: must be "
                   "Exists or Equal, got \"Like\"")},
      {"UnknownTolerationEffect", "ds.yaml",
       SsdMonitor("      tolerations:\n"
                  "      - operator: Exists\n"
                  "      - operator: Exists\n"
                  "        effect: NoScheduleNoAdmit\n"),
       ElementsAre(std::string(kDs) +
                   "spec.template.spec.tolerations[1].effect: must be "
                   "NoSchedule, PreferNoSchedule or NoExecute, got "
                   "\"NoScheduleNoAdmit\"")},
      {"UnknownTaintEffect", "cluster.yaml",
       "apiVersion: v1\nkind: Node\nmetadata: {name: k8s-node1}\n"
       "spec:\n  taints:\n  - {key: gpu, effect: Sometimes}\n",
       ElementsAre("cluster.yaml: Node k8s-node1: spec.taints[0].effect: must "
                   "be NoSchedule, PreferNoSchedule or NoExecute, got "
                   "\"Sometimes\"")},
      {"UnknownUpdateStrategyType", "ds.yaml",
       SsdMonitor("", "  updateStrategy:\n    type: Canary\n"),
       ElementsAre(std::string(kDs) +
                   "spec.updateStrategy.type: must be RollingUpdate or "
                   "OnDelete, got \"Canary\"")},
      {"MaxSurgeNonPercentString", "ds.yaml",
       SsdMonitor("",
                  "  updateStrategy:\n    rollingUpdate:\n"
                  "      maxUnavailable: 0\n      maxSurge: \"3\"\n"),
       ElementsAre(std::string(kDs) +
                   "spec.updateStrategy.rollingUpdate.maxSurge: must be an "
                   "integer or a percentage like \"25%\", got \"3\"")},
      {"MaxUnavailableFraction", "ds.yaml",
       SsdMonitor("",
                  "  updateStrategy:\n    rollingUpdate:\n"
                  "      maxUnavailable: 1.5\n"),
       ElementsAre(std::string(kDs) +
                   "spec.updateStrategy.rollingUpdate.maxUnavailable: must be "
                   "an integer or a percentage like \"25%\", got 1.5")},
      {"BadTimestamp", "pods.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: ops\n"
       "  creationTimestamp: yesterday\n",
       ElementsAre("pods.yaml: Pod ops/web: metadata.creationTimestamp: must "
                   "be an RFC 3339 time like \"2026-01-02T03:04:05Z\", got "
                   "\"yesterday\"")},
      {"TimestampWithoutZone", "pods.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: ops}\n"
       "status:\n  conditions:\n"
       "  - {type: Ready, status: \"True\", lastTransitionTime: "
       "\"2026-01-02T03:04:05\"}\n",
       ElementsAre("pods.yaml: Pod ops/web: "
                   "status.conditions[0].lastTransitionTime: must be an RFC "
                   "3339 time like \"2026-01-02T03:04:05Z\", got "
                   "\"2026-01-02T03:04:05\"")},
      {"TaintTimeAddedNotATime", "cluster.yaml",
       "apiVersion: v1\nkind: Node\nmetadata: {name: k8s-node1}\n"
       "spec:\n  taints:\n  - {key: a, effect: NoExecute, timeAdded: 5}\n",
       ElementsAre("cluster.yaml: Node k8s-node1: spec.taints[0].timeAdded: "
                   "must be a string, got 5")},
      {"TemplateGenerationNotAnInteger", "ds.yaml",
       "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ssd-monitor\n"
       "  namespace: kube-system\n  annotations:\n"
       "    deprecated.daemonset.template.generation: two\n",
       ElementsAre(std::string(kDs) +
                   "metadata.annotations[\"deprecated.daemonset.template."
                   "generation\"]: must be an integer, got \"two\"")},
      {"TemplateGenerationOutOfRange", "ds.yaml",
       "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ssd-monitor\n"
       "  namespace: kube-system\n  annotations:\n"
       "    deprecated.daemonset.template.generation: "
       "\"92233720368547758080\"\n",
       ElementsAre(std::string(kDs) +
                   "metadata.annotations[\"deprecated.daemonset.template."
                   "generation\"]: must be an integer, got "
                   "\"92233720368547758080\"")},
      {"MinReadySecondsString", "ds.yaml",
       SsdMonitor("", "  minReadySeconds: \"10\"\n"),
       ElementsAre(std::string(kDs) +
                   "spec.minReadySeconds: must be a 32-bit integer, got "
                   "\"10\"")},
      {"UnknownSelectorOperator", "ds.yaml",
       "apiVersion: apps/v1\nkind: DaemonSet\n"
       "metadata: {name: ssd-monitor, namespace: kube-system}\n"
       "spec:\n  selector:\n    matchExpressions:\n"
       "    - {key: app, operator: Gt, values: [\"1\"]}\n",
       ElementsAre(std::string(kDs) +
                   "spec.selector.matchExpressions[0].operator: must be In, "
                   "NotIn, Exists or DoesNotExist, got \"Gt\"")},
      {"UnknownNodeAffinityOperator", "ds.yaml",
       SsdMonitor("      affinity:\n        nodeAffinity:\n"
                  "          requiredDuringSchedulingIgnoredDuringExecution:\n"
                  "            nodeSelectorTerms:\n"
                  "            - matchFields:\n"
                  "              - {key: metadata.name, operator: Equals, "
                  "values: [n1]}\n"),
       ElementsAre(std::string(kDs) +
                   "spec.template.spec.affinity.nodeAffinity."
                   "requiredDuringSchedulingIgnoredDuringExecution."
                   "nodeSelectorTerms[0].matchFields[0].operator: must be In, "
                   "NotIn, Exists, DoesNotExist, Gt or Lt, got \"Equals\"")},
      {"UnknownPodPhase", "pods.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: ops}\n"
       "status: {phase: Sleeping}\n",
       ElementsAre("pods.yaml: Pod ops/web: status.phase: must be Pending, "
                   "Running, Succeeded, Failed or Unknown, got \"Sleeping\"")},
      {"TwoControllerReferences", "pods.yaml",
       "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: ops\n"
       "  ownerReferences:\n"
       "  - {kind: DaemonSet, name: a, uid: u1, controller: true}\n"
       "  - {kind: DaemonSet, name: b, uid: u2, controller: true}\n",
       ElementsAre("pods.yaml: Pod ops/web: metadata.ownerReferences[1]."
                   "controller: only one reference can have controller set "
                   "to true")},
      {"WrongTypesEverywhereAllReported", "ds.yaml",
       SsdMonitor("      hostNetwork: \"yes\"\n"
                  "      tolerations: {key: a}\n"
                  "      nodeName: [n1]\n"),
       ElementsAre(std::string(kDs) +
                       "spec.template.spec.nodeName: must be a string, got a "
                       "list",
                   std::string(kDs) +
                       "spec.template.spec.tolerations: must be a list, got a "
                       "map",
                   std::string(kDs) +
                       "spec.template.spec.hostNetwork: must be true or "
                       "false, got \"yes\"")},
      {"ListsNestedTooDeep", "cluster.json", NestedLists(40),
       ElementsAre(AllOf(StartsWith("cluster.json: items[0], items[0], "),
                         HasSubstr(": items: lists nested more than 16 "
                                   "deep")))},
      {"ProblemsNameTheirDocument", "cluster.yaml",
       "apiVersion: v1\nkind: Node\nmetadata: {name: k8s-node1}\n"
       "spec:\n  taints: [{key: a, effect: Never}]\n---\n"
       "apiVersion: v1\nkind: Node\nmetadata: {name: 7}\n",
       ElementsAre("cluster.yaml: Node k8s-node1: spec.taints[0].effect: must "
                   "be NoSchedule, PreferNoSchedule or NoExecute, got "
                   "\"Never\"",
                   "cluster.yaml: Node (unnamed, document 2): metadata.name: "
                   "must be a string, got 7",
                   "cluster.yaml: Node (unnamed, document 2): metadata.name: "
                   "is required")},
  };
}

class InputErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(InputErrorTest, ReportsProblems) {
  const ErrorCase& c = GetParam();
  const LoadedSnapshot loaded = Load(c.input, c.source);
  EXPECT_THAT(ProblemLines(loaded), c.problems);
}

INSTANTIATE_TEST_SUITE_P(Input, InputErrorTest,
                         ::testing::ValuesIn(ErrorCases()),
                         dsd::testing::ParamName<ErrorCase>);

TEST(PrintableTest, EscapesControlBytesAndInvalidUtf8Only) {
  struct Row {
    std::string text;
    std::string printable;
  };
  for (const Row& row : {
           Row{"plain ascii", "plain ascii"},
           Row{"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93"},
           Row{std::string("a\0b", 3), "a\\x00b"},
           Row{"line\nbreak\ttab\r", "line\\x0Abreak\\x09tab\\x0D"},
           Row{"\x1b[31mred\x7f", "\\x1B[31mred\\x7F"},
           Row{"bad \xff\xfe end", "bad \\xFF\\xFE end"},
           Row{"cut \xe2\x9c", "cut \\xE2\\x9C"},
           Row{"quoted \\\"x\\\"", "quoted \\\"x\\\""},
       }) {
    EXPECT_EQ(Printable(row.text), row.printable) << row.printable;
  }
}

TEST(InputProblemTest, ToStringIsOneLineWithoutControlBytes) {
  const InputProblem p{"a\nb.yaml", "Node \x01", "", "got \"\xff\""};
  EXPECT_EQ(p.ToString(), "a\\x0Ab.yaml: Node \\x01: got \"\\xFF\"");
}

TEST(InputProblemTest, ToStringOmitsEmptyParts) {
  EXPECT_EQ((InputProblem{"a.yaml", "", "", "invalid YAML"}).ToString(),
            "a.yaml: invalid YAML");
  EXPECT_EQ(
      (InputProblem{"", "Node n1", "metadata.name", "is required"}).ToString(),
      "Node n1: metadata.name: is required");
}

// ---------------------------------------------------------------------------
// TranslateFieldPath: server field paths back to the user's objects.

constexpr char kTranslateInput[] = R"yaml(apiVersion: v1
kind: Node
metadata: {name: k8s-node1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ssd-monitor, namespace: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: ssd-monitor-7x2kq, namespace: kube-system}
)yaml";

struct TranslateCase {
  std::string name;
  std::string proto_path;
  std::string expected;
  friend void PrintTo(const TranslateCase& c, std::ostream* os) {
    *os << c.name;
  }
};

constexpr char kNode[] = "cluster.yaml: Node k8s-node1: ";
constexpr char kDaemonSet[] =
    "cluster.yaml: DaemonSet kube-system/ssd-monitor: ";
constexpr char kPod[] = "cluster.yaml: Pod kube-system/ssd-monitor-7x2kq: ";
constexpr char kRequired[] =
    "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";

std::vector<TranslateCase> TranslateCases() {
  const std::string node = kNode;
  const std::string ds = kDaemonSet;
  const std::string pod = kPod;
  const std::string required = kRequired;
  return {
      // Nodes.
      {"NodeName", "snapshot.nodes[0].name", node + "metadata.name"},
      {"NodeLabel", "snapshot.nodes[0].labels[\"kubernetes.io/os\"]",
       node + "metadata.labels[\"kubernetes.io/os\"]"},
      {"NodeTaintEffect", "snapshot.nodes[0].taints[1].effect",
       node + "spec.taints[1].effect"},
      {"NodeTaintTimeAdded", "snapshot.nodes[0].taints[0].time_added",
       node + "spec.taints[0].timeAdded"},
      {"NodeItself", "snapshot.nodes[0]", "cluster.yaml: Node k8s-node1"},
      {"WithoutSnapshotPrefix", "nodes[0].name", node + "metadata.name"},
      // DaemonSets: metadata.
      {"DaemonSetNamespace", "snapshot.daemon_sets[0].namespace",
       ds + "metadata.namespace"},
      {"DaemonSetName", "snapshot.daemon_sets[0].name", ds + "metadata.name"},
      {"DaemonSetUid", "snapshot.daemon_sets[0].uid", ds + "metadata.uid"},
      {"DaemonSetGeneration", "snapshot.daemon_sets[0].generation",
       ds + "metadata.generation"},
      {"DaemonSetCreationTimestamp",
       "snapshot.daemon_sets[0].creation_timestamp",
       ds + "metadata.creationTimestamp"},
      {"TemplateGeneration", "snapshot.daemon_sets[0].template_generation",
       ds + "metadata.annotations[\"deprecated.daemonset.template."
            "generation\"]"},
      // DaemonSets: selector.
      {"SelectorItself", "snapshot.daemon_sets[0].selector",
       ds + "spec.selector"},
      {"SelectorMatchLabel",
       "snapshot.daemon_sets[0].selector.match_labels[\"app\"]",
       ds + "spec.selector.matchLabels[\"app\"]"},
      {"SelectorMatchExpressionValue",
       "snapshot.daemon_sets[0].selector.match_expressions[1].values[0]",
       ds + "spec.selector.matchExpressions[1].values[0]"},
      // DaemonSets: template.
      {"TemplateLabel", "snapshot.daemon_sets[0].template.labels[\"app\"]",
       ds + "spec.template.metadata.labels[\"app\"]"},
      {"TemplateNodeName", "snapshot.daemon_sets[0].template.node_name",
       ds + "spec.template.spec.nodeName"},
      {"TemplateNodeSelector",
       "snapshot.daemon_sets[0].template.node_selector[\"disk\"]",
       ds + "spec.template.spec.nodeSelector[\"disk\"]"},
      {"TemplateAffinity",
       "snapshot.daemon_sets[0].template.required_node_affinity",
       ds + "spec.template.spec." + required},
      {"TemplateAffinityExpression",
       "snapshot.daemon_sets[0].template.required_node_affinity."
       "node_selector_terms[0].match_expressions[2].values",
       ds + "spec.template.spec." + required +
           ".nodeSelectorTerms[0].matchExpressions[2].values"},
      {"TemplateAffinityField",
       "snapshot.daemon_sets[0].template.required_node_affinity."
       "node_selector_terms[1].match_fields[0].key",
       ds + "spec.template.spec." + required +
           ".nodeSelectorTerms[1].matchFields[0].key"},
      {"TolerationOperator",
       "snapshot.daemon_sets[0].template.tolerations[0].operator",
       ds + "spec.template.spec.tolerations[0].operator"},
      {"TolerationSeconds",
       "snapshot.daemon_sets[0].template.tolerations[2].toleration_seconds",
       ds + "spec.template.spec.tolerations[2].tolerationSeconds"},
      {"HostNetwork", "snapshot.daemon_sets[0].template.host_network",
       ds + "spec.template.spec.hostNetwork"},
      // DaemonSets: update strategy and the rest.
      {"UpdateStrategyType", "snapshot.daemon_sets[0].update_strategy.type",
       ds + "spec.updateStrategy.type"},
      {"MaxUnavailable",
       "snapshot.daemon_sets[0].update_strategy.max_unavailable",
       ds + "spec.updateStrategy.rollingUpdate.maxUnavailable"},
      {"MaxUnavailableCount",
       "snapshot.daemon_sets[0].update_strategy.max_unavailable.count",
       ds + "spec.updateStrategy.rollingUpdate.maxUnavailable"},
      {"MaxSurgePercent",
       "snapshot.daemon_sets[0].update_strategy.max_surge.percent",
       ds + "spec.updateStrategy.rollingUpdate.maxSurge"},
      // dsd extensions: read from the DaemonSet's annotations.
      {"RolloutPartition",
       "snapshot.daemon_sets[0].update_strategy.partition.percent",
       ds + "metadata.annotations[\"dsd.dev/rollout-partition\"]"},
      {"RolloutPaused", "snapshot.daemon_sets[0].update_strategy.paused",
       ds + "metadata.annotations[\"dsd.dev/rollout-paused\"]"},
      {"RolloutNodeSelectorValue",
       "snapshot.daemon_sets[0].update_strategy.rollout_node_selector."
       "match_expressions[0].values[1]",
       ds + "metadata.annotations[\"dsd.dev/rollout-node-selector\"]"},
      {"MinReadySeconds", "snapshot.daemon_sets[0].min_ready_seconds",
       ds + "spec.minReadySeconds"},
      // Pods.
      {"PodName", "snapshot.pods[0].name", pod + "metadata.name"},
      {"PodNamespace", "snapshot.pods[0].namespace",
       pod + "metadata.namespace"},
      {"PodUid", "snapshot.pods[0].uid", pod + "metadata.uid"},
      {"PodLabel", "snapshot.pods[0].labels[\"controller-revision-hash\"]",
       pod + "metadata.labels[\"controller-revision-hash\"]"},
      {"PodControllerUid", "snapshot.pods[0].controller_uid",
       pod + "metadata.ownerReferences"},
      {"PodDeletionTimestamp", "snapshot.pods[0].deletion_timestamp",
       pod + "metadata.deletionTimestamp"},
      {"PodNodeName", "snapshot.pods[0].node_name", pod + "spec.nodeName"},
      {"PodAffinity",
       "snapshot.pods[0].required_node_affinity.node_selector_terms[0]."
       "match_fields[0].values",
       pod + "spec." + required +
           ".nodeSelectorTerms[0].matchFields[0].values"},
      {"PodPhase", "snapshot.pods[0].phase", pod + "status.phase"},
      {"PodReady", "snapshot.pods[0].ready",
       pod + "status.conditions[Ready].status"},
      {"PodReadyTransitionTime", "snapshot.pods[0].ready_transition_time",
       pod + "status.conditions[Ready].lastTransitionTime"},
      // Unknown shapes come back unchanged.
      {"IndexOutOfRange", "snapshot.nodes[5].name", "snapshot.nodes[5].name"},
      {"UnknownField", "snapshot.daemon_sets[0].colour",
       "snapshot.daemon_sets[0].colour"},
      {"UnknownRoot", "options.kubernetes_minor", "options.kubernetes_minor"},
      {"NotAList", "snapshot.nodes.name", "snapshot.nodes.name"},
      {"Malformed", "snapshot.nodes[0", "snapshot.nodes[0"},
      {"Empty", "", ""},
  };
}

class TranslateFieldPathTest : public ::testing::TestWithParam<TranslateCase> {
 protected:
  static void SetUpTestSuite() {
    loaded_ = new LoadedSnapshot(Load(kTranslateInput, "cluster.yaml"));
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  static LoadedSnapshot* loaded_;
};

LoadedSnapshot* TranslateFieldPathTest::loaded_ = nullptr;

TEST_P(TranslateFieldPathTest, Translates) {
  ASSERT_THAT(ProblemLines(*loaded_), IsEmpty());
  EXPECT_EQ(TranslateFieldPath(*loaded_, GetParam().proto_path),
            GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Paths, TranslateFieldPathTest,
                         ::testing::ValuesIn(TranslateCases()),
                         dsd::testing::ParamName<TranslateCase>);

TEST(TranslateFieldPathNoSourceTest, ObjectOnly) {
  const LoadedSnapshot loaded = Load(kTranslateInput, "");
  EXPECT_EQ(TranslateFieldPath(loaded, "snapshot.nodes[0].labels[\"a\"]"),
            "Node k8s-node1: metadata.labels[\"a\"]");
}

}  // namespace
}  // namespace dsd::client
