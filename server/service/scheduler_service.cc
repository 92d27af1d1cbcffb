// Each RPC reads like a checklist: limits, validation, conversion, the
// engine, conversion back. No gRPC types; transport maps the statuses.
#include "server/service/scheduler_service.h"

#include <string>
#include <utility>
#include <vector>

#include "server/convert/errors.h"
#include "server/convert/plan.h"
#include "server/convert/snapshot.h"
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

absl::Status CheckLimits(const v1::Snapshot& s, const ServiceOptions& o) {
  if (auto st = CheckLimit("snapshot.nodes", s.nodes_size(), o.max_nodes);
      !st.ok()) {
    return st;
  }
  if (auto st = CheckLimit("snapshot.daemon_sets", s.daemon_sets_size(),
                           o.max_daemon_sets);
      !st.ok()) {
    return st;
  }
  return CheckLimit("snapshot.pods", s.pods_size(), o.max_pods);
}

absl::Status Cancelled() {
  return absl::DeadlineExceededError(
      "the call's deadline passed or it was cancelled; work stopped");
}

bool IsCancelled(const CallContext& call) {
  return call.cancelled && call.cancelled();
}

// Limits, then every validation rule; INVALID_ARGUMENT lists them all.
// Converts the snapshot into `converted` in the same pass (usable when OK).
absl::Status Admit(const v1::Snapshot& snapshot,
                   const v1::DecideOptions& options,
                   const ServiceOptions& limits,
                   const google::protobuf::Timestamp* now,
                   engine::Snapshot& converted) {
  if (auto st = CheckLimits(snapshot, limits); !st.ok()) return st;
  std::vector<convert::Violation> violations;
  // The evaluation time must print as RFC 3339 in the response.
  if (now != nullptr &&
      (now->seconds() < -62135596800 || now->seconds() > 253402300799 ||
       now->nanos() < 0 || now->nanos() > 999999999)) {
    violations.push_back(
        {"now", "is not a valid timestamp (0001-01-01 to 9999-12-31)"});
  }
  convert::ValidateOptions(options, "options", violations);
  convert::ValidateAndConvertSnapshot(snapshot, options, "snapshot", violations,
                                      converted);
  return convert::InvalidArgument(violations);
}

}  // namespace

SchedulerService::SchedulerService(ServiceOptions options,
                                   std::function<absl::Time()> clock)
    : options_(options), clock_(std::move(clock)) {}

absl::StatusOr<v1::DecideResponse> SchedulerService::Decide(
    const v1::DecideRequest& request, const CallContext& call) const {
  engine::Snapshot snapshot;
  if (auto st = Admit(request.snapshot(), request.options(), options_,
                      request.has_now() ? &request.now() : nullptr, snapshot);
      !st.ok()) {
    return st;
  }
  if (IsCancelled(call)) return Cancelled();
  const absl::Time now =
      request.has_now() ? convert::TimeFromProto(request.now()) : clock_();
  const engine::Options options = convert::OptionsFromProto(request.options());
  const engine::Plan plan =
      engine::Decide(snapshot, now, options, call.cancelled);
  if (plan.cancelled) return Cancelled();
  v1::DecideResponse response;
  convert::PlanToProto(plan, now, response);
  return response;
}

absl::StatusOr<v1::ExplainResponse> SchedulerService::Explain(
    const v1::ExplainRequest& request, const CallContext& call) const {
  engine::Snapshot snapshot;
  if (auto st = Admit(request.snapshot(), request.options(), options_,
                      request.has_now() ? &request.now() : nullptr, snapshot);
      !st.ok()) {
    return st;
  }
  const absl::Time now =
      request.has_now() ? convert::TimeFromProto(request.now()) : clock_();
  engine::Options options = convert::OptionsFromProto(request.options());
  options.explain = true;
  const engine::Plan plan =
      engine::Decide(snapshot, now, options, call.cancelled);
  if (plan.cancelled) return Cancelled();

  v1::ExplainResponse response;
  convert::SetTimestamp(now, *response.mutable_evaluated_at());
  for (const engine::DaemonSetPlan& p : plan.daemon_sets) {
    std::string key(p.namespace_name);
    key += '/';
    key += p.name;
    if (!request.daemon_set().empty() && key != request.daemon_set()) continue;
    v1::DaemonSetExplanation& out = *response.add_daemon_sets();
    out.set_namespace_(std::string(p.namespace_name));
    out.set_name(std::string(p.name));
    for (const engine::NodeExplanation& e : p.explanations) {
      if (!request.node().empty() && e.node != request.node()) continue;
      v1::NodeExplanation& n = *out.add_nodes();
      n.set_node(std::string(e.node));
      n.set_should_run(e.should_run);
      n.set_should_continue_running(e.should_continue_running);
      for (const std::string& why : e.failed_predicates) {
        n.add_failed_predicates(why);
      }
    }
  }
  if (!request.daemon_set().empty() && response.daemon_sets().empty()) {
    return absl::NotFoundError("daemon_set " + request.daemon_set() +
                               " is not in the snapshot");
  }
  return response;
}

absl::StatusOr<v1::ValidateResponse> SchedulerService::Validate(
    const v1::ValidateRequest& request, const CallContext& call) const {
  if (auto st = CheckLimits(request.snapshot(), options_); !st.ok()) return st;
  std::vector<convert::Violation> violations;
  convert::ValidateOptions(request.options(), "options", violations);
  convert::ValidateSnapshot(request.snapshot(), request.options(), "snapshot",
                            violations);
  if (IsCancelled(call)) return Cancelled();
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
  if (options_.max_nodes != 0 &&
      static_cast<size_t>(request.nodes_size()) > options_.max_nodes) {
    return CheckLimit("nodes", request.nodes_size(), options_.max_nodes);
  }
  // Validate the DaemonSet and nodes with the snapshot rules; paths are
  // then rooted at "snapshot", so name them as the request does.
  v1::Snapshot scratch;
  *scratch.add_daemon_sets() = request.daemon_set();
  *scratch.mutable_nodes() = request.nodes();
  std::vector<convert::Violation> violations;
  convert::ValidateOptions(request.options(), "options", violations);
  convert::ValidateSnapshot(scratch, request.options(), "", violations);
  for (convert::Violation& v : violations) {
    if (v.field.rfind("daemon_sets[0]", 0) == 0) {
      v.field.replace(0, 14, "daemon_set");
    }
  }
  if (auto st = convert::InvalidArgument(violations); !st.ok()) return st;
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
