// Each RPC reads like a checklist: limits, validation, conversion, the
// engine, conversion back. No gRPC types; transport maps the statuses.
#include "server/service/scheduler_service.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/status_macros.h"
#include "server/convert/errors.h"
#include "server/convert/explain.h"
#include "server/convert/filter.h"
#include "server/convert/from_proto.h"
#include "server/convert/plan.h"
#include "server/convert/snapshot.h"
#include "server/convert/time.h"
#include "server/engine/decide.h"
#include "server/engine/eligibility.h"

namespace dsd::service {
namespace {

absl::Status CheckLimit(const char* subject, int count, size_t limit) {
  if (limit == 0 || static_cast<size_t>(count) <= limit) {
    return absl::OkStatus();
  }
  return convert::LimitExceeded(
      subject, std::to_string(count) +
                   " objects exceed the server's limit of " +
                   std::to_string(limit) +
                   "; split the request or raise the server's --max_* flag");
}

// See ServiceOptions::explain_budget_bytes.
constexpr size_t kExplainBudgetPerRequestByte = 2;

absl::Status Cancelled() {
  return absl::DeadlineExceededError(
      "the call's deadline passed or it was cancelled; work stopped");
}

bool IsCancelled(const CallContext& call) {
  return call.cancelled && call.cancelled();
}

void CheckNow(const google::protobuf::Timestamp& now,
              std::vector<convert::Violation>& violations) {
  // The evaluation time must print as RFC 3339 in the response.
  if (!convert::IsValidTimestamp(now)) {
    violations.push_back(
        {"now", "is not a valid timestamp (0001-01-01 to 9999-12-31)"});
  }
}

// Reads `bytes` into `head` (the request's other fields), then applies the
// limits and every validation rule, converting into `converted` (when not
// null) as it reads: the nodes and DaemonSets in the pass that reads the
// head (never all parsed at once), the pods in a second one. Violations go
// to `violations`; the status is for what stops the reading (malformed
// bytes, a limit, the deadline).
template <typename Request>
absl::Status Admit(const RequestBytes& bytes, const CallContext& call,
                   const ServiceOptions& limits, Request& head,
                   std::vector<convert::Violation>& violations,
                   engine::Snapshot* converted, int64_t* size = nullptr) {
  convert::SnapshotConverter snapshot(
      [&head]() -> const v1::DecideOptions& { return head.options(); },
      "snapshot", converted, call.cancelled);
  // The count limits and per-object caps hold while the head is read.
  const absl::StatusOr<int> pod_count = convert::ReadRequestHead(
      bytes.open, head, snapshot,
      {limits.max_nodes, limits.max_daemon_sets, limits.max_pods}, size);
  // DEADLINE_EXCEEDED: the converter stopped the reading, cancelled.
  if (absl::IsDeadlineExceeded(pod_count.status())) return Cancelled();
  DSD_RETURN_IF_ERROR(pod_count.status());
  if (call.counts != nullptr) {
    *call.counts = {snapshot.nodes(), *pod_count, snapshot.daemon_sets()};
  }
  if (IsCancelled(call)) return Cancelled();
  if constexpr (requires { head.now(); }) {
    if (head.has_now()) CheckNow(head.now(), violations);
  }
  convert::ValidateOptions(head.options(), "options", violations);
  {
    // Closed before the bytes are released: the stream reads them.
    convert::WirePods pods(bytes.open, *pod_count);
    snapshot.Finish(pods, violations);
    DSD_RETURN_IF_ERROR(pods.error());
  }
  if (IsCancelled(call)) return Cancelled();
  if (bytes.release) bytes.release();
  return absl::OkStatus();
}

// A request read, admitted and decided: what Decide and Explain share. The
// plan's views point into `snapshot`, so it lives with it.
template <typename Request>
struct Decided {
  Request request;            // all but the snapshot
  engine::Snapshot snapshot;  // the whole snapshot, converted
  absl::Time now;             // the request's, else the service clock's
  engine::Plan plan;
};

// Admit (any violation is INVALID_ARGUMENT), then the engine; with
// `explain`, explanations whatever the request's options say.
template <typename Request>
absl::Status AdmitAndDecide(const RequestBytes& bytes, const CallContext& call,
                            const ServiceOptions& limits,
                            const std::function<absl::Time()>& clock,
                            bool explain, Decided<Request>& out) {
  std::vector<convert::Violation> violations;
  int64_t bytes_read = 0;
  DSD_RETURN_IF_ERROR(Admit(bytes, call, limits, out.request, violations,
                            &out.snapshot, &bytes_read));
  DSD_RETURN_IF_ERROR(convert::InvalidArgument(violations));
  out.now = out.request.has_now() ? convert::TimeFromProto(out.request.now())
                                  : clock();
  engine::Options options = convert::OptionsFromProto(out.request.options());
  if (explain) options.explain = true;
  if constexpr (requires { out.request.daemon_set(); }) {
    options.explain_node = out.request.node();
    options.explain_daemon_set = out.request.daemon_set();
  }
  // Explanations repeat the DaemonSet's rules for every node: bounded by
  // a multiple of the request, so that a small request cannot ask for a
  // huge answer.
  options.explain_budget_bytes = std::max<size_t>(
      limits.explain_budget_bytes,
      kExplainBudgetPerRequestByte * static_cast<size_t>(bytes_read));
  out.plan = engine::Decide(out.snapshot, out.now, options, call.cancelled);
  if (out.plan.cancelled) return Cancelled();
  if (out.plan.explain_over_budget) {
    return convert::LimitExceeded(
        "options.explain",
        "the explanations would exceed " +
            std::to_string(options.explain_budget_bytes) +
            " bytes; narrow them to one DaemonSet or node (Explain's "
            "daemon_set and node)");
  }
  return absl::OkStatus();
}

RequestBytes BytesOf(const std::string& serialized) {
  return {[&serialized](bool /*last*/) {
            return std::make_unique<google::protobuf::io::ArrayInputStream>(
                serialized.data(), static_cast<int>(serialized.size()));
          },
          nullptr};
}

}  // namespace

SchedulerService::SchedulerService(ServiceOptions options,
                                   std::function<absl::Time()> clock)
    : options_(options), clock_(std::move(clock)) {}

absl::StatusOr<v1::DecideResponse> SchedulerService::Decide(
    const v1::DecideRequest& request, const CallContext& call) const {
  const std::string bytes = request.SerializeAsString();
  return Decide(BytesOf(bytes), call);
}

absl::StatusOr<v1::ExplainResponse> SchedulerService::Explain(
    const v1::ExplainRequest& request, const CallContext& call) const {
  const std::string bytes = request.SerializeAsString();
  return Explain(BytesOf(bytes), call);
}

absl::StatusOr<v1::ValidateResponse> SchedulerService::Validate(
    const v1::ValidateRequest& request, const CallContext& call) const {
  const std::string bytes = request.SerializeAsString();
  return Validate(BytesOf(bytes), call);
}

absl::StatusOr<v1::DecideResponse> SchedulerService::Decide(
    const RequestBytes& bytes, const CallContext& call) const {
  Decided<v1::DecideRequest> d;
  DSD_RETURN_IF_ERROR(
      AdmitAndDecide(bytes, call, options_, clock_, /*explain=*/false, d));
  v1::DecideResponse response;
  convert::PlanToProto(d.plan, d.now, response);
  return response;
}

absl::StatusOr<v1::ExplainResponse> SchedulerService::Explain(
    const RequestBytes& bytes, const CallContext& call) const {
  Decided<v1::ExplainRequest> d;
  DSD_RETURN_IF_ERROR(
      AdmitAndDecide(bytes, call, options_, clock_, /*explain=*/true, d));
  return convert::ExplainToProto(d.plan, d.snapshot, d.now, d.request);
}

absl::StatusOr<v1::ValidateResponse> SchedulerService::Validate(
    const RequestBytes& bytes, const CallContext& call) const {
  v1::ValidateRequest request;  // all but the snapshot
  std::vector<convert::Violation> violations;
  DSD_RETURN_IF_ERROR(
      Admit(bytes, call, options_, request, violations, nullptr));
  v1::ValidateResponse response;
  for (size_t i = 0; i < violations.size(); ++i) {
    if (i == convert::kMaxViolations) {
      response.set_truncated(true);
      break;
    }
    v1::FieldViolation& v = *response.add_violations();
    v.set_field(violations[i].field);
    v.set_description(violations[i].description);
  }
  return response;
}

absl::StatusOr<v1::FilterResponse> SchedulerService::Filter(
    const v1::FilterRequest& request, const CallContext& call) const {
  DSD_RETURN_IF_ERROR(
      CheckLimit("nodes", request.nodes_size(), options_.max_nodes));
  DSD_RETURN_IF_ERROR(convert::ValidateFilterRequest(request));
  if (IsCancelled(call)) return Cancelled();

  engine::Snapshot storage;  // the converted objects' label lists
  const engine::DaemonSet ds =
      convert::DaemonSetFromProto(request.daemon_set(), storage);
  const engine::DaemonSetPredicates predicates(
      ds, convert::OptionsFromProto(request.options()));
  v1::FilterResponse response;
  for (const v1::Node& n : request.nodes()) {
    const engine::Node node = convert::NodeFromProto(n, storage);
    std::vector<std::string> why;
    const engine::Eligibility e = predicates.Evaluate(node, &why);
    if (e.should_run) {
      response.add_feasible_nodes(n.name());
      continue;
    }
    v1::NodeExplanation& failed = *response.add_failed_nodes();
    failed.set_node(n.name());
    failed.set_should_continue_running(e.should_continue_running);
    for (std::string& w : why) failed.add_failed_predicates(std::move(w));
  }
  return response;
}

}  // namespace dsd::service
