// Pins server/service SchedulerService (proto in, proto out) with a fixed
// clock: Decide on the plan contract's ssd-monitor example (plan-contract.md
// "Output", daemonset-semantics.md sections 3.4, 4, 6.1, 8 and 12), the JSON
// form of DecideResponse, `now` from the request or the clock, request limits
// (RESOURCE_EXHAUSTED + google.rpc.QuotaFailure), cancellation, validation
// errors (INVALID_ARGUMENT + google.rpc.BadRequest, style.md section 5;
// semantics section 10), Validate, Explain filters and Filter (sections 3-4).
#include "server/service/scheduler_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "server/convert/errors.h"
#include "tests/testing/mutate.h"
#include "tests/testing/param_name.h"
#include "tests/testing/status_matchers.h"

namespace dsd::service {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAreArray;

// ---------------------------------------------------------------------------
// Fixtures.

// The injected clock: 2026-01-02T03:04:05Z, the plan contract's example.
absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}
const absl::Time kClock = Utc(2026, 1, 2, 3, 4, 5);

SchedulerService MakeService(ServiceOptions limits = {}) {
  return SchedulerService(limits, [] { return kClock; });
}

template <typename Message>
Message Parse(const std::string& json) {
  Message m;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return m;
}

// The plan contract's example: ssd-monitor selects disk=ssd; k8s-node1 has an
// SSD and no pod, k8s-node2 has an HDD and the DaemonSet's pod.
constexpr char kSsdMonitorDs[] = R"json({
  "namespace": "default", "name": "ssd-monitor", "uid": "ds-uid-1",
  "selector": {"matchLabels": [{"key": "app", "value": "ssd-monitor"}]},
  "template": {"labels": [{"key": "app", "value": "ssd-monitor"}],
               "nodeSelector": [{"key": "disk", "value": "ssd"}]},
  "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ROLLING_UPDATE",
                     "maxUnavailable": {"count": 1}}})json";

constexpr char kNode1Ssd[] =
    R"({"name": "k8s-node1", "labels": [{"key": "disk", "value": "ssd"}]})";
constexpr char kNode2Hdd[] =
    R"({"name": "k8s-node2", "labels": [{"key": "disk", "value": "hdd"}]})";

constexpr char kPodOnNode2[] = R"json({
  "namespace": "default", "name": "ssd-monitor-abc", "uid": "pod-uid-1",
  "labels": [{"key": "app", "value": "ssd-monitor"}],
  "controllerUid": "ds-uid-1", "nodeName": "k8s-node2",
  "creationTimestamp": "2026-01-01T00:00:00Z",
  "phase": "POD_PHASE_RUNNING", "ready": true,
  "readyTransitionTime": "2026-01-01T00:00:10Z"})json";

std::string Snapshot(const std::vector<std::string>& nodes,
                     const std::vector<std::string>& daemon_sets,
                     const std::vector<std::string>& pods) {
  const auto join = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (const std::string& item : items) {
      if (out.size() > 1) out += ", ";
      out += item;
    }
    return out + "]";
  };
  return absl::StrCat(R"({"nodes": )", join(nodes), R"(, "daemonSets": )",
                      join(daemon_sets), R"(, "pods": )", join(pods), "}");
}

// `object` (a JSON object) with `fields` ("\"k\": v, ...") appended.
std::string AddFields(const std::string& object, const std::string& fields) {
  const size_t close = object.rfind('}');
  return absl::StrCat(object.substr(0, close), ", ", fields, "}");
}

std::string SsdMonitorSnapshot() {
  return Snapshot({kNode1Ssd, kNode2Hdd}, {kSsdMonitorDs}, {kPodOnNode2});
}

// {"snapshot": ..., <extra>} (DecideRequest, ExplainRequest and
// ValidateRequest share the names "snapshot", "now" and "options").
std::string Req(const std::string& snapshot, const std::string& extra = "") {
  return absl::StrCat(R"({"snapshot": )", snapshot, extra.empty() ? "" : ", ",
                      extra, "}");
}

// ssd-monitor, but k8s-node1 fails the DNS-1123 rule (semantics 10.1).
std::string BadNodeNameSnapshot() {
  return Snapshot(
      {R"({"name": "K8s-Node1", "labels": [{"key": "disk", "value": "ssd"}]})",
       kNode2Hdd},
      {kSsdMonitorDs}, {kPodOnNode2});
}

std::string ManyBadNodesSnapshot(int n) {
  std::vector<std::string> nodes;
  for (int i = 0; i < n; ++i) {
    nodes.push_back(absl::StrCat(R"({"name": "N)", i, R"("})"));
  }
  return Snapshot(nodes, {}, {});
}

// ---------------------------------------------------------------------------
// Decide: plans.

struct ExpectedDelete {
  std::string pod;
  std::string node;
  std::string reason;  // the contract's spelling
};

// DaemonSetStatus's counters.
struct ExpectedStatus {
  int desired;
  int current;
  int misscheduled;
  int ready;
  int updated;
  int available;
  int unavailable;
};

// Status counters not checked.
constexpr std::optional<ExpectedStatus> kAnyStatus = std::nullopt;

// Each row names the counters (.status = kAnyStatus skips them), the
// requeue, the explanations and revision_unknown; creates and deletes are
// none unless given. A row reads as the plan it expects.
struct ExpectedPlan {
  std::string namespace_name;
  std::string name;
  std::vector<std::string> creates = {};
  std::vector<ExpectedDelete> deletes = {};
  std::optional<ExpectedStatus> status;
  int requeue_after_seconds = 0;
  size_t explanations = 0;
  bool revision_unknown = false;  // no current_revision_hash was given
};

struct DecideCase {
  std::string name;
  std::string request;
  absl::Time evaluated_at;
  std::vector<ExpectedPlan> plans;
};

void PrintTo(const DecideCase& c, std::ostream* os) { *os << c.name; }

// ssd-monitor's plan in the contract example.
ExpectedPlan SsdMonitorPlan(size_t explanations = 0) {
  return ExpectedPlan{
      .namespace_name = "default",
      .name = "ssd-monitor",
      .creates = {"k8s-node1"},
      .deletes = {{"ssd-monitor-abc", "k8s-node2", "NodeAffinityMismatch"}},
      .status = ExpectedStatus{.desired = 1,
                               .current = 0,
                               .misscheduled = 1,
                               .ready = 0,
                               .updated = 0,
                               .available = 0,
                               .unavailable = 1},
      .requeue_after_seconds = 0,
      .explanations = explanations,
      .revision_unknown = true};
}

std::vector<DecideCase> DecideCases() {
  // Converged: the pod runs on the SSD node with the current revision.
  const std::string converged_ds =
      AddFields(kSsdMonitorDs, R"("currentRevisionHash": "h1")");
  const std::string converged_pod = R"json({
      "namespace": "default", "name": "ssd-monitor-xyz", "uid": "pod-uid-2",
      "labels": [{"key": "app", "value": "ssd-monitor"},
                 {"key": "controller-revision-hash", "value": "h1"}],
      "controllerUid": "ds-uid-1", "nodeName": "k8s-node1",
      "creationTimestamp": "2026-01-01T00:00:00Z",
      "phase": "POD_PHASE_RUNNING", "ready": true,
      "readyTransitionTime": "2026-01-01T00:00:10Z"})json";
  const std::string converged =
      Snapshot({kNode1Ssd, kNode2Hdd}, {converged_ds}, {converged_pod});
  const ExpectedPlan converged_plan{.namespace_name = "default",
                                    .name = "ssd-monitor",
                                    .status = ExpectedStatus{.desired = 1,
                                                             .current = 1,
                                                             .misscheduled = 0,
                                                             .ready = 1,
                                                             .updated = 1,
                                                             .available = 1,
                                                             .unavailable = 0},
                                    .requeue_after_seconds = 0,
                                    .explanations = 0,
                                    .revision_unknown = false};
  // The converged pod, failed.
  const std::string failed_pod = absl::StrReplaceAll(
      converged_pod, {{"POD_PHASE_RUNNING", "POD_PHASE_FAILED"}});
  // One back-off entry for `node`, updated 5 s before kClock.
  const auto Backoff = [](const std::string& node, const std::string& delay) {
    return absl::StrCat(
        R"([{"node": ")", node,
        R"(", "lastUpdate": "2026-01-02T03:04:00Z", "delay": ")", delay,
        R"("}])");
  };
  // An agent on every node, in another namespace: plans sort by namespace.
  const std::string agent_ds = R"json({
      "namespace": "kube-system", "name": "agent", "uid": "ds-uid-2",
      "selector": {"matchLabels": [{"key": "app", "value": "agent"}]},
      "template": {"labels": [{"key": "app", "value": "agent"}]},
      "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ON_DELETE"}})json";
  return {
      {"ssd_monitor_now_from_request",
       Req(SsdMonitorSnapshot(), R"("now": "2026-03-04T05:06:07Z")"),
       Utc(2026, 3, 4, 5, 6, 7),
       {SsdMonitorPlan()}},
      {"ssd_monitor_now_from_clock",
       Req(SsdMonitorSnapshot()),
       kClock,
       {SsdMonitorPlan()}},
      {"ssd_monitor_explain_option",
       Req(SsdMonitorSnapshot(), R"("options": {"explain": true})"),
       kClock,
       {SsdMonitorPlan(/*explanations=*/2)}},
      {"converged", Req(converged), kClock, {converged_plan}},
      // Explained, but only where the plan acts: k8s-node1 keeps its pod
      // (nothing to explain), k8s-node2 has none and gets none.
      {"converged_explain_action_nodes_only",
       Req(converged,
           R"("options": {"explain": true, "explainActionNodesOnly": true})"),
       kClock,
       {converged_plan}},
      // Failed-pod back-off entries on the wire (semantics 6.5): in
      // back-off while now - lastUpdate < delay, the failed pod stays and
      // the plan requeues when the back-off ends ([dsd] exact requeue);
      // after it, or with an entry for another node, the pod is deleted.
      {"failed_pod_in_backoff",
       Req(Snapshot(
           {kNode1Ssd, kNode2Hdd},
           {AddFields(converged_ds, absl::StrCat(R"("failedPodBackoffs": )",
                                                 Backoff("k8s-node1", "10s")))},
           {failed_pod})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .status = kAnyStatus,
         .requeue_after_seconds = 5,
         .explanations = 0,
         .revision_unknown = false}}},
      {"failed_pod_backoff_ended",
       Req(Snapshot(
           {kNode1Ssd, kNode2Hdd},
           {AddFields(converged_ds, absl::StrCat(R"("failedPodBackoffs": )",
                                                 Backoff("k8s-node1", "5s")))},
           {failed_pod})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .deletes = {{"ssd-monitor-xyz", "k8s-node1", "FailedPod"}},
         .status = kAnyStatus,
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = false}}},
      {"failed_pod_backoff_for_another_node",
       Req(Snapshot(
           {kNode1Ssd, kNode2Hdd},
           {AddFields(converged_ds, absl::StrCat(R"("failedPodBackoffs": )",
                                                 Backoff("k8s-node2", "10s")))},
           {failed_pod})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .deletes = {{"ssd-monitor-xyz", "k8s-node1", "FailedPod"}},
         .status = kAnyStatus,
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = false}}},
      // minReadySeconds 30, Ready for 10 s: available in 20 s (section 8,
      // [dsd] exact requeue; 7.3).
      {"requeue_until_available",
       Req(Snapshot({kNode1Ssd, kNode2Hdd},
                    {AddFields(converged_ds, R"("minReadySeconds": 30)")},
                    {absl::StrCat(
                        converged_pod.substr(
                            0, converged_pod.find("\"readyTransitionTime\"")),
                        R"("readyTransitionTime": "2026-01-02T03:03:55Z"})")})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .status = ExpectedStatus{.desired = 1,
                                  .current = 1,
                                  .misscheduled = 0,
                                  .ready = 1,
                                  .updated = 1,
                                  .available = 0,
                                  .unavailable = 1},
         .requeue_after_seconds = 20,
         .explanations = 0,
         .revision_unknown = false}}},
      // A terminating pod is never listed again (plan contract) but still
      // counts in status (section 8).
      {"terminating_pod_not_deleted_again",
       Req(Snapshot(
           {kNode1Ssd, kNode2Hdd}, {kSsdMonitorDs},
           {AddFields(kPodOnNode2,
                      R"("deletionTimestamp": "2026-01-02T03:00:00Z")")})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .creates = {"k8s-node1"},
         .status = ExpectedStatus{.desired = 1,
                                  .current = 0,
                                  .misscheduled = 1,
                                  .ready = 0,
                                  .updated = 0,
                                  .available = 0,
                                  .unavailable = 1},
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = true}}},
      // An unscheduled pod targeting a node that does not exist (6.6, 12).
      {"unscheduled_pod_for_missing_node",
       Req(Snapshot({kNode1Ssd, kNode2Hdd}, {kSsdMonitorDs},
                    {R"json({"namespace": "default", "name": "ssd-monitor-gone",
                       "uid": "pod-uid-3", "controllerUid": "ds-uid-1",
                       "labels": [{"key": "app", "value": "ssd-monitor"}],
                       "requiredNodeAffinity": {"nodeSelectorTerms": [
                         {"matchFields": [{"key": "metadata.name",
                           "operator": "SELECTOR_OPERATOR_IN",
                           "values": ["k8s-node3"]}]}]},
                       "phase": "POD_PHASE_PENDING"})json"})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .creates = {"k8s-node1"},
         .deletes = {{"ssd-monitor-gone", "", "NodeGone"}},
         .status = ExpectedStatus{.desired = 1,
                                  .current = 0,
                                  .misscheduled = 0,
                                  .ready = 0,
                                  .updated = 0,
                                  .available = 0,
                                  .unavailable = 1},
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = true}}},
      // metadata.deletionTimestamp set: the controller does nothing, but the
      // DaemonSet still has its entry (plan contract).
      {"daemon_set_being_deleted_does_nothing",
       Req(Snapshot(
           {kNode1Ssd, kNode2Hdd},
           {AddFields(kSsdMonitorDs,
                      R"("deletionTimestamp": "2026-01-02T00:00:00Z")")},
           {kPodOnNode2})),
       kClock,
       {{.namespace_name = "default",
         .name = "ssd-monitor",
         .status = kAnyStatus,
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = true}}},
      {"plans_sorted_by_namespace_then_name",
       Req(Snapshot({kNode2Hdd, kNode1Ssd}, {agent_ds, kSsdMonitorDs},
                    {kPodOnNode2})),
       kClock,
       {SsdMonitorPlan(),
        {.namespace_name = "kube-system",
         .name = "agent",
         .creates = {"k8s-node1", "k8s-node2"},
         .status = ExpectedStatus{.desired = 2,
                                  .current = 0,
                                  .misscheduled = 0,
                                  .ready = 0,
                                  .updated = 0,
                                  .available = 0,
                                  .unavailable = 2},
         .requeue_after_seconds = 0,
         .explanations = 0,
         .revision_unknown = true}}},
      {"empty_snapshot", "{}", kClock, {}},
  };
}

class DecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTest, Plans) {
  const DecideCase& c = GetParam();
  const SchedulerService service = MakeService();
  const auto response =
      service.Decide(Parse<v1::DecideRequest>(c.request), CallContext{});
  ASSERT_THAT(response, IsOk()) << response.status();

  google::protobuf::Timestamp expected_at;
  expected_at.set_seconds(absl::ToUnixSeconds(c.evaluated_at));
  EXPECT_EQ(response->evaluated_at().seconds(), expected_at.seconds());
  EXPECT_EQ(response->evaluated_at().nanos(), 0);

  ASSERT_EQ(response->daemon_sets_size(), static_cast<int>(c.plans.size()));
  for (size_t i = 0; i < c.plans.size(); ++i) {
    const ExpectedPlan& want = c.plans[i];
    const v1::DaemonSetPlan& got = response->daemon_sets(static_cast<int>(i));
    SCOPED_TRACE(absl::StrCat(want.namespace_name, "/", want.name));
    EXPECT_EQ(got.namespace_(), want.namespace_name);
    EXPECT_EQ(got.name(), want.name);
    std::vector<std::string> creates;
    for (const v1::PodCreate& pc : got.create()) creates.push_back(pc.node());
    EXPECT_THAT(creates, ElementsAreArray(want.creates));
    ASSERT_EQ(got.delete__size(), static_cast<int>(want.deletes.size()));
    for (size_t d = 0; d < want.deletes.size(); ++d) {
      const v1::PodDelete& pd = got.delete_(static_cast<int>(d));
      EXPECT_EQ(pd.pod(), want.deletes[d].pod);
      EXPECT_EQ(pd.node(), want.deletes[d].node);
      EXPECT_EQ(v1::DeleteReason_Name(pd.reason()), want.deletes[d].reason);
      EXPECT_FALSE(pd.message().empty());
    }
    EXPECT_EQ(got.revision_unknown(), want.revision_unknown);
    EXPECT_EQ(got.requeue_after_seconds(), want.requeue_after_seconds);
    EXPECT_EQ(static_cast<size_t>(got.explanations_size()), want.explanations);
    if (!want.status) continue;
    const v1::DaemonSetStatus& s = got.status();
    EXPECT_EQ(s.desired_number_scheduled(), want.status->desired);
    EXPECT_EQ(s.current_number_scheduled(), want.status->current);
    EXPECT_EQ(s.number_misscheduled(), want.status->misscheduled);
    EXPECT_EQ(s.number_ready(), want.status->ready);
    EXPECT_EQ(s.updated_number_scheduled(), want.status->updated);
    EXPECT_EQ(s.number_available(), want.status->available);
    EXPECT_EQ(s.number_unavailable(), want.status->unavailable);
  }
}

INSTANTIATE_TEST_SUITE_P(PlanContract, DecideTest,
                         ::testing::ValuesIn(DecideCases()),
                         ::dsd::testing::ParamName<DecideCase>);

// The `dsdctl decide -o json` output is the proto3 JSON of DecideResponse
// with zero values printed (plan contract, "Output").
TEST(DecideJsonTest, ContractKeysAndTypes) {
  const SchedulerService service = MakeService();
  const auto response = service.Decide(
      Parse<v1::DecideRequest>(Req(SsdMonitorSnapshot())), CallContext{});
  ASSERT_THAT(response, IsOk()) << response.status();

  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  std::string json;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(*response, &json, print)
          .ok());
  EXPECT_THAT(json, HasSubstr(R"("reason":"NodeAffinityMismatch")"));
  EXPECT_THAT(json, HasSubstr(R"("requeueAfterSeconds":0)"));

  // Read it back as plain JSON to check names and value types.
  const auto root = Parse<google::protobuf::Struct>(json);
  const auto& top = root.fields();
  ASSERT_EQ(top.count("evaluatedAt"), 1u) << json;
  EXPECT_EQ(top.at("evaluatedAt").string_value(), "2026-01-02T03:04:05Z");
  ASSERT_EQ(top.count("daemonSets"), 1u) << json;
  const auto& plans = top.at("daemonSets").list_value();
  ASSERT_EQ(plans.values_size(), 1);
  const auto& plan = plans.values(0).struct_value().fields();
  EXPECT_EQ(plan.at("namespace").string_value(), "default");
  EXPECT_EQ(plan.at("name").string_value(), "ssd-monitor");

  ASSERT_EQ(plan.count("create"), 1u) << json;
  const auto& create = plan.at("create").list_value();
  ASSERT_EQ(create.values_size(), 1);
  EXPECT_EQ(create.values(0).struct_value().fields().at("node").string_value(),
            "k8s-node1");

  ASSERT_EQ(plan.count("delete"), 1u) << json;
  const auto& del = plan.at("delete").list_value();
  ASSERT_EQ(del.values_size(), 1);
  const auto& d = del.values(0).struct_value().fields();
  EXPECT_EQ(d.at("pod").string_value(), "ssd-monitor-abc");
  EXPECT_EQ(d.at("node").string_value(), "k8s-node2");
  EXPECT_EQ(d.at("reason").string_value(), "NodeAffinityMismatch");

  ASSERT_EQ(plan.count("status"), 1u) << json;
  const auto& status = plan.at("status").struct_value().fields();
  const std::pair<const char*, double> kCounters[] = {
      {"desiredNumberScheduled", 1}, {"currentNumberScheduled", 0},
      {"numberMisscheduled", 1},     {"numberReady", 0},
      {"updatedNumberScheduled", 0}, {"numberAvailable", 0},
      {"numberUnavailable", 1},
  };
  for (const auto& [key, value] : kCounters) {
    SCOPED_TRACE(key);
    ASSERT_EQ(status.count(key), 1u) << json;
    EXPECT_EQ(status.at(key).kind_case(),
              google::protobuf::Value::kNumberValue);
    EXPECT_EQ(status.at(key).number_value(), value);
  }
  ASSERT_EQ(plan.count("requeueAfterSeconds"), 1u) << json;
  EXPECT_EQ(plan.at("requeueAfterSeconds").kind_case(),
            google::protobuf::Value::kNumberValue);
  EXPECT_EQ(plan.at("requeueAfterSeconds").number_value(), 0);
}

// ---------------------------------------------------------------------------
// Error statuses of every RPC.

enum class Rpc { kDecide, kExplain, kValidate, kFilter };

absl::Status Call(Rpc rpc, const SchedulerService& service,
                  const std::string& json, const CallContext& call) {
  switch (rpc) {
    case Rpc::kDecide:
      return service.Decide(Parse<v1::DecideRequest>(json), call).status();
    case Rpc::kExplain:
      return service.Explain(Parse<v1::ExplainRequest>(json), call).status();
    case Rpc::kValidate:
      return service.Validate(Parse<v1::ValidateRequest>(json), call).status();
    case Rpc::kFilter:
      return service.Filter(Parse<v1::FilterRequest>(json), call).status();
  }
  return absl::InternalError("unknown rpc");
}

struct StatusCase {
  std::string name;
  Rpc rpc;
  std::string request;
  ServiceOptions limits;
  bool cancelled;
  absl::StatusCode code;
  // INVALID_ARGUMENT: the first BadRequest field (exact). RESOURCE_EXHAUSTED:
  // the QuotaFailure subject. Both appear in the message. Empty: no check.
  std::string field;
};

void PrintTo(const StatusCase& c, std::ostream* os) { *os << c.name; }

ServiceOptions Limits(size_t nodes, size_t daemon_sets, size_t pods) {
  ServiceOptions o;
  o.max_nodes = nodes;
  o.max_daemon_sets = daemon_sets;
  o.max_pods = pods;
  return o;
}

// A FilterRequest for ssd-monitor (or `ds`) over both nodes.
std::string FilterReq(const std::string& ds = kSsdMonitorDs,
                      const std::string& nodes = absl::StrCat("[", kNode1Ssd,
                                                              ", ", kNode2Hdd,
                                                              "]"),
                      const std::string& extra = "") {
  return absl::StrCat(R"({"daemonSet": )", ds, R"(, "nodes": )", nodes,
                      extra.empty() ? "" : ", ", extra, "}");
}

// kSsdMonitorDs without its selector.
std::string DsWithoutSelector() {
  return R"json({
  "namespace": "default", "name": "ssd-monitor", "uid": "ds-uid-1",
  "template": {"labels": [{"key": "app", "value": "ssd-monitor"}],
               "nodeSelector": [{"key": "disk", "value": "ssd"}]},
  "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ROLLING_UPDATE",
                     "maxUnavailable": {"count": 1}}})json";
}

std::vector<StatusCase> StatusCases() {
  using absl::StatusCode;
  const ServiceOptions defaults;
  const std::string ssd = SsdMonitorSnapshot();
  const std::string bad = BadNodeNameSnapshot();
  const std::string two_pods =
      Snapshot({kNode1Ssd, kNode2Hdd}, {kSsdMonitorDs},
               {kPodOnNode2, R"json({"namespace": "default", "name": "orphan",
                           "uid": "pod-uid-9", "nodeName": "k8s-node1"})json"});
  const std::string bad_minor = R"("options": {"kubernetesMinor": 99})";
  const std::string bad_filter_node =
      absl::StrCat(R"([{"name": "Bad_Node"}, )", kNode1Ssd, "]");
  return {
      // OK baselines.
      {"decide_ok", Rpc::kDecide, Req(ssd), defaults, false, StatusCode::kOk,
       ""},
      {"decide_at_node_limit", Rpc::kDecide, Req(ssd), Limits(2, 1, 1), false,
       StatusCode::kOk, ""},
      {"decide_zero_limits_mean_none", Rpc::kDecide, Req(ssd), Limits(0, 0, 0),
       false, StatusCode::kOk, ""},
      {"explain_ok", Rpc::kExplain, Req(ssd), defaults, false, StatusCode::kOk,
       ""},
      {"validate_ok_even_when_invalid", Rpc::kValidate, Req(bad), defaults,
       false, StatusCode::kOk, ""},
      {"filter_ok", Rpc::kFilter, FilterReq(), defaults, false, StatusCode::kOk,
       ""},

      // Limits: RESOURCE_EXHAUSTED with a QuotaFailure.
      {"decide_over_node_limit", Rpc::kDecide, Req(ssd), Limits(1, 0, 0), false,
       StatusCode::kResourceExhausted, "snapshot.nodes"},
      {"decide_over_daemon_set_limit", Rpc::kDecide,
       Req(Snapshot({kNode1Ssd},
                    {kSsdMonitorDs,
                     R"json({"namespace": "default", "name": "other",
                       "uid": "ds-uid-2",
                       "selector": {"matchLabels": [
                         {"key": "a", "value": "b"}]},
                       "template": {"labels": [{"key": "a", "value": "b"}]},
                       "updateStrategy": {
                         "type": "UPDATE_STRATEGY_TYPE_ON_DELETE"}})json"},
                    {})),
       Limits(0, 1, 0), false, StatusCode::kResourceExhausted,
       "snapshot.daemon_sets"},
      {"decide_over_pod_limit", Rpc::kDecide, Req(two_pods), Limits(0, 0, 1),
       false, StatusCode::kResourceExhausted, "snapshot.pods"},
      {"decide_at_pod_limit", Rpc::kDecide, Req(two_pods), Limits(0, 0, 2),
       false, StatusCode::kOk, ""},
      {"explain_over_node_limit", Rpc::kExplain, Req(ssd), Limits(1, 0, 0),
       false, StatusCode::kResourceExhausted, "snapshot.nodes"},
      {"validate_over_node_limit", Rpc::kValidate, Req(ssd), Limits(1, 0, 0),
       false, StatusCode::kResourceExhausted, "snapshot.nodes"},
      {"filter_over_node_limit", Rpc::kFilter, FilterReq(), Limits(1, 0, 0),
       false, StatusCode::kResourceExhausted, "nodes"},

      // Cancellation: the caller gave up.
      {"decide_cancelled", Rpc::kDecide, Req(ssd), defaults, true,
       StatusCode::kDeadlineExceeded, ""},
      {"explain_cancelled", Rpc::kExplain, Req(ssd), defaults, true,
       StatusCode::kDeadlineExceeded, ""},
      {"validate_cancelled", Rpc::kValidate, Req(ssd), defaults, true,
       StatusCode::kDeadlineExceeded, ""},
      {"filter_cancelled", Rpc::kFilter, FilterReq(), defaults, true,
       StatusCode::kDeadlineExceeded, ""},

      // Validation: INVALID_ARGUMENT with a BadRequest.
      {"decide_invalid_snapshot", Rpc::kDecide, Req(bad), defaults, false,
       StatusCode::kInvalidArgument, "snapshot.nodes[0].name"},
      {"decide_invalid_options", Rpc::kDecide, Req(ssd, bad_minor), defaults,
       false, StatusCode::kInvalidArgument, "options.kubernetes_minor"},
      {"explain_invalid_snapshot", Rpc::kExplain, Req(bad), defaults, false,
       StatusCode::kInvalidArgument, "snapshot.nodes[0].name"},
      {"filter_invalid_daemon_set_selector", Rpc::kFilter,
       FilterReq(DsWithoutSelector()), defaults, false,
       StatusCode::kInvalidArgument, "daemon_set.selector"},
      {"filter_invalid_daemon_set_name", Rpc::kFilter,
       FilterReq(absl::StrReplaceAll(
           kSsdMonitorDs, {{R"("name": "ssd-monitor")", R"("name": "Bad")"}})),
       defaults, false, StatusCode::kInvalidArgument, "daemon_set.name"},
      {"filter_invalid_node", Rpc::kFilter,
       FilterReq(kSsdMonitorDs, bad_filter_node), defaults, false,
       StatusCode::kInvalidArgument, "nodes[0].name"},
      {"filter_invalid_options", Rpc::kFilter,
       FilterReq(kSsdMonitorDs, absl::StrCat("[", kNode1Ssd, "]"),
                 R"("options": {"kubernetesMinor": 99})"),
       defaults, false, StatusCode::kInvalidArgument,
       "options.kubernetes_minor"},

      // Explain filters.
      {"explain_unknown_daemon_set", Rpc::kExplain,
       Req(ssd, R"("daemonSet": "default/nope")"), defaults, false,
       StatusCode::kNotFound, ""},
      {"explain_daemon_set_in_other_namespace", Rpc::kExplain,
       Req(ssd, R"("daemonSet": "kube-system/ssd-monitor")"), defaults, false,
       StatusCode::kNotFound, ""},
      // A node filter naming no node of the snapshot is as wrong as an
      // unknown DaemonSet (an empty answer would read as "nothing runs").
      {"explain_unknown_node", Rpc::kExplain,
       Req(ssd, R"("node": "no-such-node")"), defaults, false,
       StatusCode::kNotFound, ""},
  };
}

class StatusTest : public ::testing::TestWithParam<StatusCase> {};

TEST_P(StatusTest, Code) {
  const StatusCase& c = GetParam();
  const SchedulerService service = MakeService(c.limits);
  CallContext call;
  if (c.cancelled) call.cancelled = [] { return true; };
  const absl::Status status = Call(c.rpc, service, c.request, call);
  EXPECT_THAT(status, StatusIs(c.code)) << status;
  if (c.field.empty()) return;
  const std::string message(status.message());
  if (c.code == absl::StatusCode::kInvalidArgument) {
    EXPECT_THAT(message, StartsWith(c.field + ": "));
    const auto payload = status.GetPayload(convert::kBadRequestTypeUrl);
    ASSERT_TRUE(payload.has_value()) << status;
    google::rpc::BadRequest details;
    ASSERT_TRUE(details.ParseFromString(std::string(*payload)));
    ASSERT_GE(details.field_violations_size(), 1);
    EXPECT_EQ(details.field_violations(0).field(), c.field);
  } else if (c.code == absl::StatusCode::kResourceExhausted) {
    EXPECT_THAT(message, HasSubstr(c.field));
    const auto payload = status.GetPayload(convert::kQuotaFailureTypeUrl);
    ASSERT_TRUE(payload.has_value()) << status;
    google::rpc::QuotaFailure details;
    ASSERT_TRUE(details.ParseFromString(std::string(*payload)));
    ASSERT_EQ(details.violations_size(), 1);
    EXPECT_EQ(details.violations(0).subject(), c.field);
  }
}

INSTANTIATE_TEST_SUITE_P(Service, StatusTest,
                         ::testing::ValuesIn(StatusCases()),
                         ::dsd::testing::ParamName<StatusCase>);

// `now` must be a valid google.protobuf.Timestamp (0001-01-01 ..
// 9999-12-31), as every timestamp in the snapshot must: the response echoes
// it as evaluatedAt, which proto3 JSON could not print otherwise.
TEST(NowTest, OutOfRangeIsInvalidArgument) {
  const SchedulerService service = MakeService();
  v1::DecideRequest decide =
      Parse<v1::DecideRequest>(Req(SsdMonitorSnapshot()));
  decide.mutable_now()->set_seconds(253402300800);  // 10000-01-01T00:00:00Z
  v1::ExplainRequest explain;
  *explain.mutable_snapshot() = decide.snapshot();
  *explain.mutable_now() = decide.now();
  const auto decided = service.Decide(decide, CallContext{});
  if (decided.ok()) {
    // Why it matters: the contract's JSON output cannot be produced.
    std::string json;
    const auto printed =
        google::protobuf::util::MessageToJsonString(*decided, &json);
    ADD_FAILURE() << "Decide accepted now=10000-01-01; printing the response "
                     "as JSON gives: "
                  << printed.ToString();
  }
  const std::pair<const char*, absl::Status> kRows[] = {
      {"decide", decided.status()},
      {"explain", service.Explain(explain, CallContext{}).status()},
  };
  for (const auto& [rpc, status] : kRows) {
    SCOPED_TRACE(rpc);
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument)) << status;
    EXPECT_THAT(std::string(status.message()), StartsWith("now: "));
  }
}

// ---------------------------------------------------------------------------
// Validate: violations in an OK response.

struct ValidateCase {
  std::string name;
  std::string request;
  // The first few fields, in any order (the docs fix no order between
  // options and snapshot).
  std::vector<std::string> first_fields;
  size_t count;
  bool truncated;
};

void PrintTo(const ValidateCase& c, std::ostream* os) { *os << c.name; }

class ValidateTest : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateTest, Violations) {
  const ValidateCase& c = GetParam();
  const SchedulerService service = MakeService();
  const auto response =
      service.Validate(Parse<v1::ValidateRequest>(c.request), CallContext{});
  ASSERT_THAT(response, IsOk()) << response.status();
  ASSERT_EQ(static_cast<size_t>(response->violations_size()), c.count);
  EXPECT_EQ(response->truncated(), c.truncated);
  std::vector<std::string> fields;
  for (size_t i = 0; i < c.first_fields.size(); ++i) {
    const v1::FieldViolation& v = response->violations(static_cast<int>(i));
    fields.push_back(v.field());
    EXPECT_FALSE(v.description().empty());
  }
  EXPECT_THAT(fields, UnorderedElementsAreArray(c.first_fields));
}

INSTANTIATE_TEST_SUITE_P(
    Service, ValidateTest,
    ::testing::ValuesIn(std::vector<ValidateCase>{
        {"good", Req(SsdMonitorSnapshot()), {}, 0, false},
        {"empty", "{}", {}, 0, false},
        {"bad_node_name",
         Req(BadNodeNameSnapshot()),
         {"snapshot.nodes[0].name"},
         1,
         false},
        {"bad_options_and_snapshot",
         Req(BadNodeNameSnapshot(), R"("options": {"kubernetesMinor": 99})"),
         {"options.kubernetes_minor", "snapshot.nodes[0].name"},
         2,
         false},
        {"lt_toleration_needs_the_gate",
         Req(Snapshot({kNode1Ssd}, {R"json({"namespace": "default", "name": "d",
                         "uid": "u", "selector": {"matchLabels":
                         [{"key": "a", "value": "b"}]},
                         "template": {"labels": [{"key": "a", "value": "b"}],
                           "tolerations": [{"key": "k",
                             "operator": "TOLERATION_OPERATOR_LT",
                             "value": "5"}]},
                         "updateStrategy": {
                           "type": "UPDATE_STRATEGY_TYPE_ON_DELETE"}})json"},
                      {})),
         {"snapshot.daemon_sets[0].template.tolerations[0].operator"},
         1,
         false},
        {"capped_at_100",
         Req(ManyBadNodesSnapshot(150)),
         {"snapshot.nodes[0].name", "snapshot.nodes[1].name"},
         100,
         true},
        {"exactly_100_not_truncated",
         Req(ManyBadNodesSnapshot(100)),
         {"snapshot.nodes[0].name"},
         100,
         false},
    }),
    ::dsd::testing::ParamName<ValidateCase>);

// ---------------------------------------------------------------------------
// Explain: per DaemonSet and node, with filters.

struct ExpectedNode {
  std::string node;
  bool should_run;
  bool should_continue_running;
  std::string predicate;  // a substring of some failed predicate; "" none
};

struct ExplainCase {
  std::string name;
  std::string request;
  // (namespace/name, nodes), in response order.
  std::vector<std::pair<std::string, std::vector<ExpectedNode>>> daemon_sets;
};

void PrintTo(const ExplainCase& c, std::ostream* os) { *os << c.name; }

std::vector<ExplainCase> ExplainCases() {
  const ExpectedNode node1 = {"k8s-node1", true, true, ""};
  const ExpectedNode node2 = {"k8s-node2", false, false, "disk"};
  const std::string ssd = SsdMonitorSnapshot();
  return {
      {"all", Req(ssd), {{"default/ssd-monitor", {node1, node2}}}},
      {"daemon_set_filter",
       Req(ssd, R"("daemonSet": "default/ssd-monitor")"),
       {{"default/ssd-monitor", {node1, node2}}}},
      {"daemon_set_and_node_filter",
       Req(ssd, R"("daemonSet": "default/ssd-monitor", "node": "k8s-node2")"),
       {{"default/ssd-monitor", {node2}}}},
      {"node_filter",
       Req(ssd, R"("node": "k8s-node1")"),
       {{"default/ssd-monitor", {node1}}}},
      {"nodes_sorted_by_name",
       Req(Snapshot({kNode2Hdd, kNode1Ssd}, {kSsdMonitorDs}, {})),
       {{"default/ssd-monitor", {node1, node2}}}},
      {"control_plane_taint_keeps_running_pod",
       Req(Snapshot(
           {R"json({"name": "cp", "labels": [{"key": "disk", "value": "ssd"}],
              "taints": [{"key": "node-role.kubernetes.io/control-plane",
                          "effect": "TAINT_EFFECT_NO_SCHEDULE"}]})json"},
           {kSsdMonitorDs}, {})),
       {{"default/ssd-monitor",
         {{"cp", false, true, "node-role.kubernetes.io/control-plane"}}}}},
  };
}

class ExplainTest : public ::testing::TestWithParam<ExplainCase> {};

TEST_P(ExplainTest, Nodes) {
  const ExplainCase& c = GetParam();
  const SchedulerService service = MakeService();
  const auto response =
      service.Explain(Parse<v1::ExplainRequest>(c.request), CallContext{});
  ASSERT_THAT(response, IsOk()) << response.status();
  EXPECT_EQ(response->evaluated_at().seconds(), absl::ToUnixSeconds(kClock));
  ASSERT_EQ(response->daemon_sets_size(),
            static_cast<int>(c.daemon_sets.size()));
  for (size_t i = 0; i < c.daemon_sets.size(); ++i) {
    const auto& [key, nodes] = c.daemon_sets[i];
    const v1::DaemonSetExplanation& got =
        response->daemon_sets(static_cast<int>(i));
    EXPECT_EQ(absl::StrCat(got.namespace_(), "/", got.name()), key);
    ASSERT_EQ(got.nodes_size(), static_cast<int>(nodes.size()));
    for (size_t n = 0; n < nodes.size(); ++n) {
      const v1::NodeExplanation& e = got.nodes(static_cast<int>(n));
      SCOPED_TRACE(nodes[n].node);
      EXPECT_EQ(e.node(), nodes[n].node);
      EXPECT_EQ(e.should_run(), nodes[n].should_run);
      EXPECT_EQ(e.should_continue_running(), nodes[n].should_continue_running);
      if (nodes[n].should_run && nodes[n].should_continue_running) {
        EXPECT_THAT(e.failed_predicates(), IsEmpty());
      } else {
        ASSERT_THAT(e.failed_predicates(), Not(IsEmpty()));
        EXPECT_THAT(e.failed_predicates(),
                    Contains(HasSubstr(nodes[n].predicate)));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Service, ExplainTest,
                         ::testing::ValuesIn(ExplainCases()),
                         ::dsd::testing::ParamName<ExplainCase>);

// ---------------------------------------------------------------------------
// Filter: the scheduler-extender path.

struct FilterCase {
  std::string name;
  std::string request;
  std::vector<std::string> feasible;
  std::vector<ExpectedNode> failed;  // should_run is always false
};

void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

std::string FilterNodes() {
  return absl::StrCat("[", kNode1Ssd, ", ", kNode2Hdd, ", ", R"json(
    {"name": "cp", "labels": [{"key": "disk", "value": "ssd"}],
     "taints": [{"key": "node-role.kubernetes.io/control-plane",
                 "effect": "TAINT_EFFECT_NO_SCHEDULE"}]},
    {"name": "not-ready", "labels": [{"key": "disk", "value": "ssd"}],
     "taints": [{"key": "node.kubernetes.io/not-ready",
                 "effect": "TAINT_EFFECT_NO_EXECUTE"},
                {"key": "node.kubernetes.io/unschedulable",
                 "effect": "TAINT_EFFECT_NO_SCHEDULE"}]},
    {"name": "no-network", "labels": [{"key": "disk", "value": "ssd"}],
     "taints": [{"key": "node.kubernetes.io/network-unavailable",
                 "effect": "TAINT_EFFECT_NO_SCHEDULE"}]},
    {"name": "dedicated", "labels": [{"key": "disk", "value": "ssd"}],
     "taints": [{"key": "dedicated", "value": "db",
                 "effect": "TAINT_EFFECT_NO_EXECUTE"}]}])json");
}

// kSsdMonitorDs with `template_extra` added to its template.
std::string SsdMonitorWithTemplate(const std::string& template_extra) {
  return absl::StrCat(R"json({
  "namespace": "default", "name": "ssd-monitor", "uid": "ds-uid-1",
  "selector": {"matchLabels": [{"key": "app", "value": "ssd-monitor"}]},
  "template": {"labels": [{"key": "app", "value": "ssd-monitor"}],
               "nodeSelector": [{"key": "disk", "value": "ssd"}], )json",
                      template_extra, R"json(},
  "updateStrategy": {"type": "UPDATE_STRATEGY_TYPE_ROLLING_UPDATE",
                     "maxUnavailable": {"count": 1}}})json");
}

std::vector<FilterCase> FilterCases() {
  const ExpectedNode hdd = {"k8s-node2", false, false, "disk"};
  const ExpectedNode cp = {"cp", false, true,
                           "node-role.kubernetes.io/control-plane"};
  const ExpectedNode no_network = {"no-network", false, true,
                                   "node.kubernetes.io/network-unavailable"};
  const ExpectedNode dedicated = {"dedicated", false, false, "dedicated"};
  return {
      {"ssd_monitor",
       FilterReq(kSsdMonitorDs, FilterNodes()),
       {"k8s-node1", "not-ready"},
       {hdd, cp, no_network, dedicated}},
      {"host_network_tolerates_network_unavailable",
       FilterReq(SsdMonitorWithTemplate(R"("hostNetwork": true)"),
                 FilterNodes()),
       {"k8s-node1", "not-ready", "no-network"},
       {hdd, cp, dedicated}},
      {"tolerates_control_plane_and_everything_no_execute",
       FilterReq(SsdMonitorWithTemplate(R"json("tolerations": [
           {"key": "node-role.kubernetes.io/control-plane",
            "operator": "TOLERATION_OPERATOR_EXISTS",
            "effect": "TAINT_EFFECT_NO_SCHEDULE"},
           {"operator": "TOLERATION_OPERATOR_EXISTS",
            "effect": "TAINT_EFFECT_NO_EXECUTE"}])json"),
                 FilterNodes()),
       {"k8s-node1", "cp", "not-ready", "dedicated"},
       {hdd, no_network}},
      {"template_node_name_pins_one_node",
       FilterReq(SsdMonitorWithTemplate(R"("nodeName": "not-ready")"),
                 FilterNodes()),
       {"not-ready"},
       {{"k8s-node1", false, false, ""},
        hdd,
        {"cp", false, false, ""},
        {"no-network", false, false, ""},
        {"dedicated", false, false, ""}}},
      {"no_nodes", FilterReq(kSsdMonitorDs, "[]"), {}, {}},
  };
}

class FilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(FilterTest, FeasibleAndFailed) {
  const FilterCase& c = GetParam();
  const SchedulerService service = MakeService();
  const auto response =
      service.Filter(Parse<v1::FilterRequest>(c.request), CallContext{});
  ASSERT_THAT(response, IsOk()) << response.status();
  EXPECT_THAT(response->feasible_nodes(), ElementsAreArray(c.feasible));
  ASSERT_EQ(response->failed_nodes_size(), static_cast<int>(c.failed.size()));
  for (size_t i = 0; i < c.failed.size(); ++i) {
    const v1::NodeExplanation& got =
        response->failed_nodes(static_cast<int>(i));
    SCOPED_TRACE(c.failed[i].node);
    EXPECT_EQ(got.node(), c.failed[i].node);
    EXPECT_FALSE(got.should_run());
    EXPECT_EQ(got.should_continue_running(),
              c.failed[i].should_continue_running);
    ASSERT_THAT(got.failed_predicates(), Not(IsEmpty()));
    EXPECT_THAT(got.failed_predicates(),
                Contains(HasSubstr(c.failed[i].predicate)));
  }
}

INSTANTIATE_TEST_SUITE_P(Service, FilterTest,
                         ::testing::ValuesIn(FilterCases()),
                         ::dsd::testing::ParamName<FilterCase>);

// ---------------------------------------------------------------------------
// Corrupted bytes: whatever a request's bytes turn into, Decide, Explain
// and Validate answer OK, INVALID_ARGUMENT or (Explain's filters) NOT_FOUND;
// never INTERNAL, never a crash (the ASan build runs this too).

TEST(CorruptedRequestTest, AnswersOkOrInvalidArgument) {
  // Every kind of object, with the fields validation and the engine read.
  const std::string json = Req(
      Snapshot({kNode1Ssd, kNode2Hdd},
               {AddFields(kSsdMonitorDs,
                          R"("currentRevisionHash": "h1", "minReadySeconds": 5,
                             "failedPodBackoffs": [{"node": "k8s-node1",
                               "lastUpdate": "2026-01-02T03:04:00Z",
                               "delay": "10s"}])")},
               {kPodOnNode2, AddFields(R"json({
                  "namespace": "default", "name": "pending", "uid": "p2",
                  "labels": [{"key": "app", "value": "ssd-monitor"}],
                  "controllerUid": "ds-uid-1",
                  "requiredNodeAffinity": {"nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name",
                      "operator": "SELECTOR_OPERATOR_IN",
                      "values": ["k8s-node1"]}]}]}})json",
                                       R"("phase": "POD_PHASE_PENDING")")}),
      R"("now": "2026-01-02T03:04:05Z", "options": {"explain": true})");
  const std::string good = Parse<v1::DecideRequest>(json).SerializeAsString();
  const SchedulerService service = MakeService();
  const auto bytes_of = [](const std::string& bytes) {
    return RequestBytes{
        [&bytes](bool /*last*/) {
          return std::make_unique<google::protobuf::io::ArrayInputStream>(
              bytes.data(), static_cast<int>(bytes.size()));
        },
        nullptr};
  };
  std::mt19937 random(20261129);
  std::array<int, 3> ok = {0, 0, 0};
  std::array<int, 3> invalid = {0, 0, 0};
  for (int i = 0; i < 1500; ++i) {
    const std::string bytes = testing::Mutate(good, random);
    SCOPED_TRACE("mutation " + std::to_string(i));
    // The same bytes as each request: DecideRequest and ExplainRequest
    // share fields 1-3; a ValidateRequest reads field 2 as options.
    const std::array<absl::Status, 3> statuses = {
        service.Decide(bytes_of(bytes), {}).status(),
        service.Explain(bytes_of(bytes), {}).status(),
        service.Validate(bytes_of(bytes), {}).status()};
    for (size_t m = 0; m < statuses.size(); ++m) {
      const absl::StatusCode code = statuses[m].code();
      EXPECT_TRUE(code == absl::StatusCode::kOk ||
                  code == absl::StatusCode::kInvalidArgument ||
                  (m == 1 && code == absl::StatusCode::kNotFound))
          << "method " << m << ": " << statuses[m];
      if (code == absl::StatusCode::kOk) ++ok[m];
      if (code == absl::StatusCode::kInvalidArgument) ++invalid[m];
    }
  }
  // Both outcomes were exercised for Decide and Explain (Validate answers
  // OK for violations).
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_GT(ok[m], 50) << "method " << m;
    EXPECT_GT(invalid[m], 50) << "method " << m;
  }
  EXPECT_GT(ok[2], 50);
}

}  // namespace
}  // namespace dsd::service

// ---------------------------------------------------------------------------
// Bounded work (issue 11): the explanation budget, cancellation polled while
// a large request is validated, and Filter's per-object caps.
// ---------------------------------------------------------------------------

namespace dsd::service {
namespace {

// `nodes` nodes labelled disk=hdd, and one DaemonSet that wants disk=ssd
// with `pods` pods of its own on the first node.
v1::DecideRequest HddCluster(int nodes, int pods) {
  v1::DecideRequest r;
  v1::Snapshot& s = *r.mutable_snapshot();
  for (int i = 0; i < nodes; ++i) {
    v1::Node& n = *s.add_nodes();
    n.set_name("node-" + std::to_string(i));
    v1::Label& l = *n.add_labels();
    l.set_key("disk");
    l.set_value("hdd");
  }
  v1::DaemonSet& ds = *s.add_daemon_sets();
  ds.set_namespace_("default");
  ds.set_name("ssd");
  ds.set_uid("uid-ssd");
  v1::Label& sel = *ds.mutable_selector()->add_match_labels();
  sel.set_key("app");
  sel.set_value("ssd");
  *ds.mutable_template_()->add_labels() = sel;
  v1::Label& want = *ds.mutable_template_()->add_node_selector();
  want.set_key("disk");
  want.set_value("ssd");
  ds.mutable_update_strategy()->set_type(
      v1::UPDATE_STRATEGY_TYPE_ROLLING_UPDATE);
  ds.mutable_update_strategy()->mutable_max_unavailable()->set_count(1);
  for (int i = 0; i < pods; ++i) {
    v1::Pod& p = *s.add_pods();
    p.set_namespace_("default");
    p.set_name("ssd-" + std::to_string(i));
    p.set_uid("uid-ssd-" + std::to_string(i));
    p.set_node_name("node-0");
    p.set_controller_uid("uid-ssd");
    *p.add_labels() = sel;
  }
  return r;
}

// Each node explains in ~70 bytes ("node label disk=hdd does not match
// nodeSelector disk=ssd" and its name): 200 nodes fit in 64 KiB, 2,000 do
// not; narrowed to one node, 2,000 do.
TEST(ExplainBudgetTest, OverTheBudgetIsResourceExhausted) {
  ServiceOptions options;
  options.explain_budget_bytes = 64 << 10;
  const SchedulerService service = MakeService(options);
  struct Case {
    const char* name;
    int nodes;
    const char* node_filter;
    absl::StatusCode code;
  };
  for (const Case c :
       {Case{"200 nodes", 200, "", absl::StatusCode::kOk},
        Case{"2,000 nodes", 2'000, "", absl::StatusCode::kResourceExhausted},
        Case{"2,000 nodes, one explained", 2'000, "node-1999",
             absl::StatusCode::kOk}}) {
    SCOPED_TRACE(c.name);
    v1::ExplainRequest request;
    *request.mutable_snapshot() = HddCluster(c.nodes, 0).snapshot();
    request.set_node(c.node_filter);
    const absl::StatusOr<v1::ExplainResponse> response =
        service.Explain(request, CallContext{});
    ASSERT_THAT(response, StatusIs(c.code)) << response.status();
    if (!response.ok()) {
      EXPECT_THAT(std::string(response.status().message()),
                  StartsWith("options.explain: "));
      continue;
    }
    ASSERT_EQ(response->daemon_sets_size(), 1);
    EXPECT_EQ(response->daemon_sets(0).nodes_size(),
              std::string(c.node_filter).empty() ? c.nodes : 1);
  }
}

// A 20,000-pod request is validated with the callback asked every few
// dozen pods (before, only once validation was over), so a call past its
// deadline stops in the middle; stopped there, it is DEADLINE_EXCEEDED.
TEST(CancellationTest, PolledWhileValidating) {
  const SchedulerService service = MakeService();
  const v1::DecideRequest request = HddCluster(10, 20'000);
  int calls = 0;
  CallContext never;
  never.cancelled = [&calls] {
    ++calls;
    return false;
  };
  // Validate runs no engine: every call is validation's.
  v1::ValidateRequest validate;
  *validate.mutable_snapshot() = request.snapshot();
  ASSERT_THAT(service.Validate(validate, never), IsOk());
  EXPECT_GT(calls, 20'000 / 64);

  int asked = 0;
  CallContext soon;
  soon.cancelled = [&asked] { return ++asked >= 3; };
  const absl::StatusOr<v1::DecideResponse> stopped =
      service.Decide(request, soon);
  EXPECT_THAT(stopped, StatusIs(absl::StatusCode::kDeadlineExceeded))
      << stopped.status();
  // Stopped where it was asked (the service then asks once more before
  // it answers), not after the hundreds of polls the whole pass makes.
  EXPECT_LE(asked, 4);
}

// Filter's request is parsed by gRPC; its per-object caps are checked on
// the parsed message, with the same paths as the snapshot's.
TEST(FilterCapsTest, TaintsOverTheCap) {
  const SchedulerService service = MakeService();
  v1::FilterRequest request;
  *request.mutable_daemon_set() = HddCluster(0, 0).snapshot().daemon_sets(0);
  v1::Node& node = *request.add_nodes();
  node.set_name("n");
  for (int i = 0; i < 1'001; ++i) {
    v1::Taint& t = *node.add_taints();
    t.set_key("t-" + std::to_string(i));
    t.set_effect(v1::TAINT_EFFECT_NO_SCHEDULE);
  }
  const absl::StatusOr<v1::FilterResponse> over =
      service.Filter(request, CallContext{});
  ASSERT_THAT(over, StatusIs(absl::StatusCode::kResourceExhausted))
      << over.status();
  EXPECT_THAT(std::string(over.status().message()),
              StartsWith("nodes[0].taints: 1001 entries exceed the limit of "
                         "1000"));
  node.mutable_taints()->RemoveLast();
  EXPECT_THAT(service.Filter(request, CallContext{}), IsOk());
}

}  // namespace
}  // namespace dsd::service
