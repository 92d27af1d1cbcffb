#include "server/convert/plan.h"

#include <limits>

#include "server/convert/time.h"

namespace dsd::convert {
namespace {

// engine::DeleteReason -> dsd.v1.DeleteReason (same order, proto from 1).
v1::DeleteReason ToProto(engine::DeleteReason r) {
  using E = engine::DeleteReason;
  switch (r) {
    case E::kNodeNameMismatch:
      return v1::NodeNameMismatch;
    case E::kNodeAffinityMismatch:
      return v1::NodeAffinityMismatch;
    case E::kUntoleratedNoExecuteTaint:
      return v1::UntoleratedNoExecuteTaint;
    case E::kFailedPod:
      return v1::FailedPod;
    case E::kSucceededPod:
      return v1::SucceededPod;
    case E::kDuplicatePod:
      return v1::DuplicatePod;
    case E::kOldPodNotReady:
      return v1::OldPodNotReady;
    case E::kSurgeReplaced:
      return v1::SurgeReplaced;
    case E::kRollingUpdate:
      return v1::RollingUpdate;
    case E::kRollingUpdateUnavailable:
      return v1::RollingUpdateUnavailable;
    case E::kSchedulingConstraintChanged:
      return v1::SchedulingConstraintChanged;
    case E::kNodeGone:
      return v1::NodeGone;
    case E::kTaintEviction:
      return v1::TaintEviction;
  }
  return v1::DELETE_REASON_UNSPECIFIED;
}

int32_t CeilSeconds(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return 0;
  const int64_t s = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  return s > std::numeric_limits<int32_t>::max()
             ? std::numeric_limits<int32_t>::max()
             : static_cast<int32_t>(s);
}

}  // namespace

void PlanToProto(const engine::Plan& plan, absl::Time evaluated_at,
                 v1::DecideResponse& out) {
  out.Clear();
  SetTimestamp(evaluated_at, *out.mutable_evaluated_at());
  out.mutable_daemon_sets()->Reserve(static_cast<int>(plan.daemon_sets.size()));
  for (const engine::DaemonSetPlan& p : plan.daemon_sets) {
    v1::DaemonSetPlan& dp = *out.add_daemon_sets();
    dp.set_namespace_(p.namespace_name.data(), p.namespace_name.size());
    dp.set_name(p.name.data(), p.name.size());
    for (const engine::PodCreate& c : p.creates) {
      dp.add_create()->set_node(c.node.data(), c.node.size());
    }
    for (const engine::PodDelete& d : p.deletes) {
      v1::PodDelete& pd = *dp.add_delete_();
      pd.set_pod(d.pod.data(), d.pod.size());
      pd.set_node(d.node.data(), d.node.size());
      pd.set_reason(ToProto(d.reason));
      pd.set_message(d.message);
    }
    v1::DaemonSetStatus& s = *dp.mutable_status();
    s.set_desired_number_scheduled(p.status.desired_number_scheduled);
    s.set_current_number_scheduled(p.status.current_number_scheduled);
    s.set_number_misscheduled(p.status.number_misscheduled);
    s.set_number_ready(p.status.number_ready);
    s.set_updated_number_scheduled(p.status.updated_number_scheduled);
    s.set_number_available(p.status.number_available);
    s.set_number_unavailable(p.status.number_unavailable);
    dp.set_requeue_after_seconds(CeilSeconds(p.requeue_after));
    dp.set_revision_unknown(p.revision_unknown);
    for (const std::string& note : p.notes) dp.add_notes(note);
    for (const engine::NodeExplanation& e : p.explanations) {
      v1::NodeExplanation& pe = *dp.add_explanations();
      pe.set_node(e.node.data(), e.node.size());
      pe.set_should_run(e.should_run);
      pe.set_should_continue_running(e.should_continue_running);
      for (const std::string& why : e.failed_predicates) {
        pe.add_failed_predicates(why);
      }
    }
  }
}

}  // namespace dsd::convert
