// Pins server/engine/eligibility: NodeShouldRunDaemonPod's two booleans and
// stop reason (semantics doc sections 3.2-3.6, 4, 12; catalogue A.6 and D9-D12)
// and the plain-words failed predicates of Evaluate's `why`.
#include "server/engine/eligibility.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "server/engine/taints.h"
#include "server/engine/types.h"
#include "tests/testing/builders.h"
#include "tests/testing/param_name.h"

namespace dsd::engine {
namespace {

using ::dsd::testing::DaemonSetBuilder;
using ::dsd::testing::MakeRequirement;
using ::dsd::testing::MakeToleration;
using ::dsd::testing::NodeBuilder;

constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
constexpr TaintEffect kPreferNoSchedule = TaintEffect::kPreferNoSchedule;
constexpr TaintEffect kNoExecute = TaintEffect::kNoExecute;

constexpr char kNodeName[] = "test-node";
constexpr char kNotReady[] = "node.kubernetes.io/not-ready";
constexpr char kUnreachable[] = "node.kubernetes.io/unreachable";
constexpr char kDiskPressure[] = "node.kubernetes.io/disk-pressure";
constexpr char kMemoryPressure[] = "node.kubernetes.io/memory-pressure";
constexpr char kPidPressure[] = "node.kubernetes.io/pid-pressure";
constexpr char kNetworkUnavailable[] = "node.kubernetes.io/network-unavailable";
constexpr char kControlPlane[] = "node-role.kubernetes.io/control-plane";
constexpr char kMaster[] = "node-role.kubernetes.io/master";

using TemplateFn = void (*)(Snapshot&, DaemonSetBuilder&);
using NodeFn = void (*)(NodeBuilder&);

void NoTemplateChange(Snapshot&, DaemonSetBuilder&) {}
void NoNodeChange(NodeBuilder&) {}

// A required affinity of one term with one expression `key op [values]`.
NodeSelectorTerm Term(Snapshot& snap, std::string key, SelectorOperator op,
                      std::vector<std::string> values) {
  NodeSelectorTerm term;
  term.match_expressions.push_back(
      MakeRequirement(snap, std::move(key), op, std::move(values)));
  return term;
}

Toleration Tol(Snapshot& snap, std::string key, TolerationOperator op,
               std::string value, std::optional<TaintEffect> effect,
               std::optional<int64_t> seconds = std::nullopt) {
  return MakeToleration(snap, std::move(key), op, std::move(value), effect,
                        seconds);
}

std::string ReasonName(std::optional<DeleteReason> reason) {
  if (!reason) return "<none>";
  switch (*reason) {
    case DeleteReason::kNodeNameMismatch:
      return "kNodeNameMismatch";
    case DeleteReason::kNodeAffinityMismatch:
      return "kNodeAffinityMismatch";
    case DeleteReason::kUntoleratedNoExecuteTaint:
      return "kUntoleratedNoExecuteTaint";
    default:
      return "other(" + std::to_string(static_cast<int>(*reason)) + ")";
  }
}

// One row: the DaemonSet template and node (test-node, labelled as in
// catalogue A.6: name=simple-daemon, type=production) as changes to the
// builders' defaults, the emulated version and gate, and the answer.
struct Row {
  explicit Row(std::string row_name) : name(std::move(row_name)) {}
  Row& Template(TemplateFn fn) {
    ds = fn;
    return *this;
  }
  Row& OnNode(NodeFn fn) {
    node = fn;
    return *this;
  }
  Row& Minor(int m) {
    minor = m;
    return *this;
  }
  Row& ComparisonGate() {
    gate = true;
    return *this;
  }
  // (shouldRun, shouldContinueRunning); `stop` only when the latter is false.
  Row& Want(bool run, bool keep,
            std::optional<DeleteReason> stop = std::nullopt) {
    want_run = run;
    want_continue = keep;
    want_stop = stop;
    return *this;
  }

  std::string name;
  TemplateFn ds = NoTemplateChange;
  NodeFn node = NoNodeChange;
  int minor = 0;  // Options::kubernetes_minor
  bool gate = false;
  bool want_run = false;
  bool want_continue = false;
  std::optional<DeleteReason> want_stop;
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

// Builds row's snapshot; the DaemonSet and node are returned by value.
struct Built {
  Snapshot snap;
  DaemonSet ds;
  Node node;
  Options options;
};

void Build(const Row& row, Built& out) {
  DaemonSetBuilder ds_builder(out.snap, "ds");
  row.ds(out.snap, ds_builder);
  out.ds = ds_builder.Build();
  NodeBuilder node_builder(out.snap, kNodeName);
  node_builder.Label("name", "simple-daemon").Label("type", "production");
  row.node(node_builder);
  out.node = node_builder.Build();
  out.options.kubernetes_minor = row.minor;
  out.options.toleration_comparison_operators = row.gate;
}

constexpr DeleteReason kNodeNameMismatch = DeleteReason::kNodeNameMismatch;
constexpr DeleteReason kAffinityMismatch = DeleteReason::kNodeAffinityMismatch;
constexpr DeleteReason kNoExecuteTaint =
    DeleteReason::kUntoleratedNoExecuteTaint;

std::vector<Row> EligibilityRows() {
  std::vector<Row> rows;

  // Catalogue A.6 (TestNodeShouldRunDaemonPod). Resources, host ports,
  // foreign pods and spec.unschedulable are not modelled: eligibility never
  // reads them (section 3.6), so those rows are "no constraint".
  rows.push_back(Row("A6Row01ShouldRunDaemonPod").Want(true, true));
  rows.push_back(Row("A6Row02InsufficientResourceIgnored").Want(true, true));
  rows.push_back(Row("A6Row03ErrPodNotMatchHostName")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName("other-node");
                     })
                     .Want(false, false, kNodeNameMismatch));
  rows.push_back(Row("A6Row04HostPortConflictIgnored").Want(true, true));
  rows.push_back(
      Row("A6Row05InsufficientResourceWithPodOnNodeIgnored").Want(true, true));
  rows.push_back(Row("A6Row06ShouldRunWithPodOnNode").Want(true, true));
  rows.push_back(Row("A6Row07ErrNodeSelectorNotMatch")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeSelector("type", "test");
                     })
                     .Want(false, false, kAffinityMismatch));
  rows.push_back(Row("A6Row08NodeSelectorMatches")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeSelector("name", "simple-daemon")
                           .NodeSelector("type", "production");
                     })
                     .Want(true, true));
  rows.push_back(Row("A6Row09ErrPodAffinityNotMatch")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.AffinityTerm(
                           Term(s, "type", SelectorOperator::kIn, {"test"}));
                     })
                     .Want(false, false, kAffinityMismatch));
  rows.push_back(Row("A6Row10PodAffinityMatches")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.AffinityTerm(Term(s, "type", SelectorOperator::kIn,
                                           {"production"}));
                     })
                     .Want(true, true));
  rows.push_back(Row("A6Row11UnschedulableNodeWithoutTaint").Want(true, true));

  // Section 3.2: template nodeName.
  rows.push_back(Row("NodeNameThisNode")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName(kNodeName);
                     })
                     .Want(true, true));
  rows.push_back(Row("NodeNameMismatchDecidesBeforeTaints")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName("other-node");
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(false, false, kNodeNameMismatch));
  rows.push_back(Row("NodeNameMismatchDecidesBeforeSelector")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName("other-node").NodeSelector("type", "test");
                     })
                     .Want(false, false, kNodeNameMismatch));
  rows.push_back(Row("NodeNameThisNodeButSelectorMismatch")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName(kNodeName).NodeSelector("type", "test");
                     })
                     .Want(false, false, kAffinityMismatch));

  // Section 3.2 and 3.4: node affinity.
  rows.push_back(Row("SelectorMismatchDecidesBeforeTaints")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeSelector("disk", "ssd");
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(false, false, kAffinityMismatch));
  rows.push_back(
      Row("RequiredAffinityWithZeroTermsMatchesNothing")
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.EmptyAffinity(); })
          .Want(false, false, kAffinityMismatch));
  rows.push_back(Row("NodeSelectorAndAffinityBothMatch")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.NodeSelector("name", "simple-daemon")
                           .AffinityTerm(Term(
                               s, "type", SelectorOperator::kNotIn, {"test"}));
                     })
                     .Want(true, true));

  // Section 3.2 and 3.5: taints.
  rows.push_back(Row("UntoleratedNoSchedule")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoSchedule);
                     })
                     .Want(false, true));
  rows.push_back(Row("UntoleratedNoExecute")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(false, false, kNoExecuteTaint));
  rows.push_back(
      Row("UntoleratedNoScheduleAndNoExecute")
          .OnNode([](NodeBuilder& n) {
            n.Taint("a", "b", kNoSchedule).Taint("c", "d", kNoExecute);
          })
          .Want(false, false, kNoExecuteTaint));
  rows.push_back(
      Row("D10UntoleratedNoScheduleToleratedNoExecute")
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.Tolerate("c"); })
          .OnNode([](NodeBuilder& n) {
            n.Taint("a", "b", kNoSchedule).Taint("c", "d", kNoExecute);
          })
          .Want(false, true));
  rows.push_back(Row("D9OnlyPreferNoScheduleUntolerated")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kPreferNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("D11NoExecuteToleratedWithTolerationSecondsZero")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "dedicated",
                                        TolerationOperator::kEqual, "gpu",
                                        kNoExecute, 0));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(true, true));
  rows.push_back(Row("NoScheduleToleratedByEqual")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "dedicated",
                                        TolerationOperator::kEqual, "gpu",
                                        kNoSchedule));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("EqualTolerationOtherValueDoesNotTolerate")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "dedicated",
                                        TolerationOperator::kEqual, "cpu",
                                        kNoSchedule));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoSchedule);
                     })
                     .Want(false, true));
  rows.push_back(
      Row("EmptyKeyExistsToleratesEverything")
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.Tolerate(""); })
          .OnNode([](NodeBuilder& n) {
            n.Taint("a", "b", kNoSchedule)
                .Taint("c", "d", kNoExecute)
                .Taint("e", "", kPreferNoSchedule);
          })
          .Want(true, true));
  rows.push_back(Row("NoScheduleOnlyTolerationLeavesNoExecute")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "dedicated",
                                        TolerationOperator::kExists, "",
                                        kNoSchedule));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(false, false, kNoExecuteTaint));
  rows.push_back(Row("ControlPlaneTaintUntolerated")
                     .OnNode([](NodeBuilder& n) { n.ControlPlane(); })
                     .Want(false, true));
  rows.push_back(
      Row("LegacyMasterTaintUntolerated")
          .OnNode([](NodeBuilder& n) { n.Taint(kMaster, "", kNoSchedule); })
          .Want(false, true));
  rows.push_back(Row("ControlPlaneTaintTolerated")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.Tolerate(kControlPlane).Tolerate(kMaster);
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.ControlPlane().Taint(kMaster, "", kNoSchedule);
                     })
                     .Want(true, true));

  // Section 4: each default toleration lets its taint through.
  rows.push_back(Row("DefaultToleratesNotReady")
                     .OnNode([](NodeBuilder& n) { n.NotReady(); })
                     .Want(true, true));
  rows.push_back(
      Row("DefaultToleratesUnreachable")
          .OnNode([](NodeBuilder& n) { n.Taint(kUnreachable, "", kNoExecute); })
          .Want(true, true));
  rows.push_back(Row("DefaultToleratesDiskPressure")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kDiskPressure, "", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("DefaultToleratesMemoryPressure")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kMemoryPressure, "", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("DefaultToleratesPidPressure")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kPidPressure, "", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("DefaultToleratesUnschedulableCordoned")
                     .OnNode([](NodeBuilder& n) { n.Cordoned(); })
                     .Want(true, true));
  rows.push_back(
      Row("D12DefaultToleratesNetworkUnavailableHostNetwork")
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.HostNetwork(); })
          .OnNode([](NodeBuilder& n) {
            n.Taint(kNetworkUnavailable, "", kNoSchedule);
          })
          .Want(true, true));
  rows.push_back(Row("D12NetworkUnavailableWithoutHostNetwork")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kNetworkUnavailable, "", kNoSchedule);
                     })
                     .Want(false, true));
  rows.push_back(
      Row("DefaultsTolerateEveryConditionTaintAtOnce")
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.HostNetwork(); })
          .OnNode([](NodeBuilder& n) {
            n.NotReady()
                .Taint(kUnreachable, "", kNoExecute)
                .Taint(kDiskPressure, "", kNoSchedule)
                .Taint(kMemoryPressure, "", kNoSchedule)
                .Taint(kPidPressure, "", kNoSchedule)
                .Cordoned()
                .Taint(kNetworkUnavailable, "", kNoSchedule);
          })
          .Want(true, true));
  rows.push_back(Row("DefaultIsExistsSoTaintValueIrrelevant")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kNotReady, "whatever", kNoExecute);
                     })
                     .Want(true, true));
  rows.push_back(
      Row("DefaultNotReadyCoversNoExecuteOnly")
          .OnNode([](NodeBuilder& n) { n.Taint(kNotReady, "", kNoSchedule); })
          .Want(false, true));
  rows.push_back(Row("DefaultDiskPressureCoversNoScheduleOnly")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kDiskPressure, "", kNoExecute);
                     })
                     .Want(false, false, kNoExecuteTaint));
  rows.push_back(Row("UserNotReadyTolerationWithSecondsStillTolerates")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, kNotReady,
                                        TolerationOperator::kEqual, "",
                                        kNoExecute, 60));
                     })
                     .OnNode([](NodeBuilder& n) { n.NotReady(); })
                     .Want(true, true));

  // Section 4: version selection through Options::kubernetes_minor.
  rows.push_back(Row("Minor0IsCurrentPidPressureTolerated")
                     .Minor(0)
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kPidPressure, "", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("Minor14PidPressureTolerated")
                     .Minor(14)
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kPidPressure, "", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(Row("Minor13PidPressureNotTolerated")
                     .Minor(13)
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kPidPressure, "", kNoSchedule);
                     })
                     .Want(false, true));
  rows.push_back(Row("Minor13NotReadyTolerated")
                     .Minor(13)
                     .OnNode([](NodeBuilder& n) { n.NotReady(); })
                     .Want(true, true));
  rows.push_back(Row("Minor12NotReadyNotTolerated")
                     .Minor(12)
                     .OnNode([](NodeBuilder& n) { n.NotReady(); })
                     .Want(false, false, kNoExecuteTaint));
  rows.push_back(Row("Minor12UnschedulableTolerated")
                     .Minor(12)
                     .OnNode([](NodeBuilder& n) { n.Cordoned(); })
                     .Want(true, true));
  rows.push_back(Row("Minor11UnschedulableNotTolerated")
                     .Minor(11)
                     .OnNode([](NodeBuilder& n) { n.Cordoned(); })
                     .Want(false, true));
  rows.push_back(
      Row("Minor11NetworkUnavailableHostNetworkNotTolerated")
          .Minor(11)
          .Template([](Snapshot&, DaemonSetBuilder& b) { b.HostNetwork(); })
          .OnNode([](NodeBuilder& n) {
            n.Taint(kNetworkUnavailable, "", kNoSchedule);
          })
          .Want(false, true));
  rows.push_back(Row("Minor8DiskPressureTolerated")
                     .Minor(8)
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kDiskPressure, "", kNoSchedule);
                     })
                     .Want(true, true));

  // Section 3.5: Lt/Gt tolerations need the gate.
  rows.push_back(Row("GtTolerationGateOff")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "gpu-count", TolerationOperator::kGt,
                                        "2", kNoSchedule));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("gpu-count", "4", kNoSchedule);
                     })
                     .Want(false, true));
  rows.push_back(Row("GtTolerationGateOn")
                     .ComparisonGate()
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.Toleration(Tol(s, "gpu-count", TolerationOperator::kGt,
                                        "2", kNoSchedule));
                     })
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("gpu-count", "4", kNoSchedule);
                     })
                     .Want(true, true));
  rows.push_back(
      Row("LtTolerationGateOnComparisonFails")
          .ComparisonGate()
          .Template([](Snapshot& s, DaemonSetBuilder& b) {
            b.Toleration(
                Tol(s, "latency", TolerationOperator::kLt, "5", kNoExecute));
          })
          .OnNode([](NodeBuilder& n) { n.Taint("latency", "10", kNoExecute); })
          .Want(false, false, kNoExecuteTaint));
  rows.push_back(
      Row("LtTolerationGateOnComparisonHolds")
          .ComparisonGate()
          .Template([](Snapshot& s, DaemonSetBuilder& b) {
            b.Toleration(
                Tol(s, "latency", TolerationOperator::kLt, "50", kNoExecute));
          })
          .OnNode([](NodeBuilder& n) { n.Taint("latency", "10", kNoExecute); })
          .Want(true, true));
  return rows;
}

class EligibilityTest : public ::testing::TestWithParam<Row> {};

TEST_P(EligibilityTest, Evaluate) {
  const Row& row = GetParam();
  Built b;
  Build(row, b);
  const DaemonSetPredicates predicates(b.ds, b.options);

  const Eligibility got = predicates.Evaluate(b.node, nullptr);
  EXPECT_EQ(got.should_run, row.want_run);
  EXPECT_EQ(got.should_continue_running, row.want_continue);
  if (!row.want_continue && row.want_stop) {
    EXPECT_EQ(ReasonName(got.stop_reason), ReasonName(row.want_stop));
  }
  // (true, false) is impossible (section 3.2).
  EXPECT_FALSE(got.should_run && !got.should_continue_running);

  // Asking for reasons evaluates every predicate but changes no answer.
  std::vector<std::string> why;
  const Eligibility explained = predicates.Evaluate(b.node, &why);
  EXPECT_EQ(explained.should_run, row.want_run);
  EXPECT_EQ(explained.should_continue_running, row.want_continue);
  if (!row.want_continue && row.want_stop) {
    EXPECT_EQ(ReasonName(explained.stop_reason), ReasonName(row.want_stop));
  }
  if (row.want_run && row.want_continue) {
    EXPECT_THAT(why, ::testing::IsEmpty());
  } else {
    EXPECT_FALSE(why.empty()) << "a failed predicate must be explained";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, EligibilityTest,
                         ::testing::ValuesIn(EligibilityRows()),
                         ::dsd::testing::ParamName<Row>);

// ---------------------------------------------------------------------------
// The daemon pod's tolerations: template merged with the defaults of the
// resolved version (0 means current, 1.35).
// ---------------------------------------------------------------------------

std::vector<std::string> Keys(const std::vector<Toleration>& tolerations) {
  std::vector<std::string> keys;
  for (const Toleration& t : tolerations) keys.emplace_back(t.key);
  return keys;
}

TEST(DaemonSetPredicatesTest, TolerationsUseResolvedMinor) {
  Snapshot snap;
  const DaemonSet ds = DaemonSetBuilder(snap, "ds").Tolerate("gpu").Build();
  struct Case {
    const char* name;
    int minor;
    std::vector<std::string> want;
  };
  const std::vector<std::string> current = {"gpu",
                                            kNotReady,
                                            kUnreachable,
                                            kDiskPressure,
                                            kMemoryPressure,
                                            kPidPressure,
                                            "node.kubernetes.io/unschedulable"};
  const Case cases[] = {
      {"Minor0IsCurrent", 0, current},
      {"Minor35", 35, current},
      {"Minor13",
       13,
       {"gpu", kNotReady, kUnreachable, kDiskPressure, kMemoryPressure,
        "node.kubernetes.io/unschedulable"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Options options;
    options.kubernetes_minor = c.minor;
    const DaemonSetPredicates predicates(ds, options);
    EXPECT_EQ(Keys(predicates.tolerations()), c.want);
  }
}

// ---------------------------------------------------------------------------
// Explanations: every failed predicate in plain words.
// ---------------------------------------------------------------------------

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct WhyRow {
  explicit WhyRow(std::string row_name) : name(std::move(row_name)) {}
  WhyRow& Template(TemplateFn fn) {
    ds = fn;
    return *this;
  }
  WhyRow& OnNode(NodeFn fn) {
    node = fn;
    return *this;
  }
  WhyRow& Want(bool run, bool keep) {
    want_run = run;
    want_continue = keep;
    return *this;
  }
  // Exactly `n` messages.
  WhyRow& Count(size_t n) {
    want_count = n;
    return *this;
  }
  // Some message contains every one of `words` (case-insensitive).
  WhyRow& Message(std::vector<std::string> words) {
    want_messages.push_back(std::move(words));
    return *this;
  }
  // No message contains `word` (case-insensitive).
  WhyRow& Never(std::string word) {
    never.push_back(std::move(word));
    return *this;
  }

  std::string name;
  TemplateFn ds = NoTemplateChange;
  NodeFn node = NoNodeChange;
  bool want_run = false;
  bool want_continue = false;
  std::optional<size_t> want_count;
  std::vector<std::vector<std::string>> want_messages;
  std::vector<std::string> never;
};

void PrintTo(const WhyRow& row, std::ostream* os) { *os << row.name; }

std::vector<WhyRow> WhyRows() {
  std::vector<WhyRow> rows;
  rows.push_back(WhyRow("NodeSelectorNamesBothLabels")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeSelector("disk", "ssd");
                     })
                     .OnNode([](NodeBuilder& n) { n.Label("disk", "hdd"); })
                     .Want(false, false)
                     .Count(1)
                     .Message({"disk=hdd", "disk=ssd"}));
  rows.push_back(WhyRow("NodeSelectorKeyMissing")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeSelector("disk", "ssd");
                     })
                     .Want(false, false)
                     .Count(1)
                     .Message({"disk=ssd"}));
  rows.push_back(WhyRow("ControlPlaneTaintNotTolerated")
                     .OnNode([](NodeBuilder& n) { n.ControlPlane(); })
                     .Want(false, true)
                     .Count(1)
                     .Message({"node-role.kubernetes.io/control-plane:"
                               "NoSchedule",
                               "not tolerated"}));
  rows.push_back(WhyRow("NoExecuteTaintNotTolerated")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint("dedicated", "gpu", kNoExecute);
                     })
                     .Want(false, false)
                     .Count(1)
                     .Message({"dedicated=gpu:NoExecute", "not tolerated"}));
  rows.push_back(WhyRow("NetworkUnavailableWithoutHostNetwork")
                     .OnNode([](NodeBuilder& n) {
                       n.Taint(kNetworkUnavailable, "", kNoSchedule);
                     })
                     .Want(false, true)
                     .Count(1)
                     .Message({"node.kubernetes.io/network-unavailable:"
                               "NoSchedule",
                               "not tolerated"}));
  rows.push_back(WhyRow("NodeNameAndSelectorBothListed")
                     .Template([](Snapshot&, DaemonSetBuilder& b) {
                       b.NodeName("other-node").NodeSelector("disk", "ssd");
                     })
                     .OnNode([](NodeBuilder& n) { n.Label("disk", "hdd"); })
                     .Want(false, false)
                     .Count(2)
                     .Message({"other-node"})
                     .Message({"disk=ssd", "disk=hdd"}));
  rows.push_back(
      WhyRow("NodeNameSelectorAndTaintAllListed")
          .Template([](Snapshot&, DaemonSetBuilder& b) {
            b.NodeName("other-node").NodeSelector("disk", "ssd");
          })
          .OnNode([](NodeBuilder& n) {
            n.Label("disk", "hdd").Taint("dedicated", "gpu", kNoExecute);
          })
          .Want(false, false)
          .Count(3)
          .Message({"other-node"})
          .Message({"disk=ssd"})
          .Message({"dedicated=gpu:NoExecute", "not tolerated"}));
  rows.push_back(WhyRow("AffinityMismatch")
                     .Template([](Snapshot& s, DaemonSetBuilder& b) {
                       b.AffinityTerm(
                           Term(s, "type", SelectorOperator::kIn, {"test"}));
                     })
                     .Want(false, false)
                     .Count(1)
                     .Message({"affinity"}));
  rows.push_back(
      WhyRow("NodeSelectorAndAffinityBothListed")
          .Template([](Snapshot& s, DaemonSetBuilder& b) {
            b.NodeSelector("disk", "ssd")
                .AffinityTerm(Term(s, "type", SelectorOperator::kIn, {"test"}));
          })
          .Want(false, false)
          .Count(2)
          .Message({"disk=ssd"})
          .Message({"affinity"}));
  rows.push_back(
      WhyRow("TwoUntoleratedTaintsBothNamed")
          .OnNode([](NodeBuilder& n) {
            n.Taint("a", "b", kNoSchedule).Taint("c", "d", kNoExecute);
          })
          .Want(false, false)
          .Message({"a=b:NoSchedule"})
          .Message({"c=d:NoExecute"}));
  rows.push_back(WhyRow("ToleratedTaintsNotMentioned")
                     .OnNode([](NodeBuilder& n) {
                       n.NotReady()
                           .Taint("x", "y", kPreferNoSchedule)
                           .Taint("dedicated", "gpu", kNoSchedule);
                     })
                     .Want(false, true)
                     .Count(1)
                     .Message({"dedicated=gpu:NoSchedule", "not tolerated"})
                     .Never("node.kubernetes.io/not-ready:NoExecute")
                     .Never("x=y:PreferNoSchedule"));
  rows.push_back(WhyRow("EligibleNodeHasNoReasons")
                     .OnNode([](NodeBuilder& n) {
                       n.NotReady().Taint("x", "y", kPreferNoSchedule);
                     })
                     .Want(true, true)
                     .Count(0));
  return rows;
}

class EligibilityWhyTest : public ::testing::TestWithParam<WhyRow> {};

TEST_P(EligibilityWhyTest, ListsEveryFailedPredicate) {
  const WhyRow& row = GetParam();
  Built b;
  Build(Row(row.name).Template(row.ds).OnNode(row.node), b);
  const DaemonSetPredicates predicates(b.ds, b.options);

  std::vector<std::string> why;
  const Eligibility got = predicates.Evaluate(b.node, &why);
  SCOPED_TRACE("messages: " + ::testing::PrintToString(why));
  EXPECT_EQ(got.should_run, row.want_run);
  EXPECT_EQ(got.should_continue_running, row.want_continue);
  // The booleans and stop reason are those of the short-circuit evaluation.
  const Eligibility plain = predicates.Evaluate(b.node, nullptr);
  EXPECT_EQ(got.should_run, plain.should_run);
  EXPECT_EQ(got.should_continue_running, plain.should_continue_running);
  if (!plain.should_continue_running) {
    EXPECT_EQ(ReasonName(got.stop_reason), ReasonName(plain.stop_reason));
  }

  if (row.want_count) {
    EXPECT_EQ(why.size(), *row.want_count);
  }
  std::vector<std::string> lowered;
  for (const std::string& m : why) lowered.push_back(Lower(m));
  for (const auto& words : row.want_messages) {
    const bool found =
        std::any_of(lowered.begin(), lowered.end(), [&](const std::string& m) {
          return std::all_of(words.begin(), words.end(),
                             [&](const std::string& w) {
                               return m.find(Lower(w)) != std::string::npos;
                             });
        });
    EXPECT_TRUE(found) << "no message contains all of: "
                       << ::testing::PrintToString(words);
  }
  for (const std::string& word : row.never) {
    for (const std::string& m : lowered) {
      EXPECT_THAT(m, ::testing::Not(::testing::HasSubstr(Lower(word))));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, EligibilityWhyTest,
                         ::testing::ValuesIn(WhyRows()),
                         ::dsd::testing::ParamName<WhyRow>);

}  // namespace
}  // namespace dsd::engine
