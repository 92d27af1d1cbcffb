#include "tests/testing/synthetic_request.h"

#include <string>

#include "server/convert/plan.h"
#include "server/convert/time.h"

namespace dsd::testing {
namespace {

template <typename Repeated>
void AddLabels(const engine::Labels& labels, Repeated* out) {
  for (const engine::Label& l : labels) {
    v1::Label* p = out->Add();
    p->set_key(std::string(l.key));
    p->set_value(std::string(l.value));
  }
}

v1::TaintEffect Effect(engine::TaintEffect e) {
  switch (e) {
    case engine::TaintEffect::kNoSchedule:
      return v1::TAINT_EFFECT_NO_SCHEDULE;
    case engine::TaintEffect::kPreferNoSchedule:
      return v1::TAINT_EFFECT_PREFER_NO_SCHEDULE;
    case engine::TaintEffect::kNoExecute:
      return v1::TAINT_EFFECT_NO_EXECUTE;
  }
  return v1::TAINT_EFFECT_UNSPECIFIED;
}

v1::PodPhase Phase(engine::PodPhase p) {
  switch (p) {
    case engine::PodPhase::kPending:
      return v1::POD_PHASE_PENDING;
    case engine::PodPhase::kRunning:
      return v1::POD_PHASE_RUNNING;
    case engine::PodPhase::kSucceeded:
      return v1::POD_PHASE_SUCCEEDED;
    case engine::PodPhase::kFailed:
      return v1::POD_PHASE_FAILED;
    case engine::PodPhase::kUnknown:
      return v1::POD_PHASE_UNKNOWN;
    case engine::PodPhase::kUnset:
      break;
  }
  return v1::POD_PHASE_UNSPECIFIED;
}

void SetCount(const std::optional<engine::IntOrPercent>& v,
              v1::IntOrPercent* out) {
  if (!v) return;
  if (v->is_percent) {
    out->set_percent(std::to_string(v->value) + "%");
  } else {
    out->set_count(static_cast<int32_t>(v->value));
  }
}

}  // namespace

v1::DecideRequest ToDecideRequest(const engine::Snapshot& snapshot,
                                  absl::Time now) {
  v1::DecideRequest request;
  convert::SetTimestamp(now, *request.mutable_now());
  v1::Snapshot& s = *request.mutable_snapshot();
  for (const engine::Node& n : snapshot.nodes) {
    v1::Node& node = *s.add_nodes();
    node.set_name(std::string(n.name));
    AddLabels(n.labels, node.mutable_labels());
    for (const engine::Taint& t : n.taints) {
      v1::Taint& taint = *node.add_taints();
      taint.set_key(std::string(t.key));
      taint.set_value(std::string(t.value));
      taint.set_effect(Effect(t.effect));
    }
  }
  for (const engine::DaemonSet& d : snapshot.daemon_sets) {
    v1::DaemonSet& ds = *s.add_daemon_sets();
    ds.set_namespace_(std::string(d.namespace_name));
    ds.set_name(std::string(d.name));
    ds.set_uid(std::string(d.uid));
    convert::SetTimestamp(d.creation_timestamp,
                          *ds.mutable_creation_timestamp());
    if (d.template_generation) {
      ds.set_template_generation(*d.template_generation);
    }
    ds.set_current_revision_hash(std::string(d.current_revision_hash));
    AddLabels(d.selector.match_labels,
              ds.mutable_selector()->mutable_match_labels());
    v1::PodTemplate& t = *ds.mutable_template_();
    AddLabels(d.template_labels, t.mutable_labels());
    AddLabels(d.node_selector, t.mutable_node_selector());
    for (const engine::Toleration& tol : d.tolerations) {
      v1::Toleration& pt = *t.add_tolerations();
      pt.set_key(std::string(tol.key));
      pt.set_operator_(tol.op == engine::TolerationOperator::kExists
                           ? v1::TOLERATION_OPERATOR_EXISTS
                           : v1::TOLERATION_OPERATOR_EQUAL);
      pt.set_value(std::string(tol.value));
      if (tol.effect) pt.set_effect(Effect(*tol.effect));
    }
    v1::UpdateStrategy& us = *ds.mutable_update_strategy();
    us.set_type(d.update_strategy.type == engine::UpdateStrategyType::kOnDelete
                    ? v1::UPDATE_STRATEGY_TYPE_ON_DELETE
                    : v1::UPDATE_STRATEGY_TYPE_ROLLING_UPDATE);
    SetCount(d.update_strategy.max_unavailable, us.mutable_max_unavailable());
    if (d.update_strategy.max_surge) {
      SetCount(d.update_strategy.max_surge, us.mutable_max_surge());
    }
    ds.set_min_ready_seconds(static_cast<int32_t>(d.min_ready_seconds));
  }
  for (const engine::Pod& p : snapshot.pods) {
    v1::Pod& pod = *s.add_pods();
    pod.set_namespace_(std::string(p.namespace_name));
    pod.set_name(std::string(p.name));
    pod.set_uid(std::string(p.uid));
    AddLabels(p.labels, pod.mutable_labels());
    pod.set_controller_uid(std::string(p.controller_uid));
    if (p.creation_timestamp != absl::InfinitePast()) {
      convert::SetTimestamp(p.creation_timestamp,
                            *pod.mutable_creation_timestamp());
    }
    pod.set_node_name(std::string(p.node_name));
    pod.set_phase(Phase(p.phase));
    pod.set_ready(p.ready);
    if (p.ready_since) {
      convert::SetTimestamp(*p.ready_since,
                            *pod.mutable_ready_transition_time());
    }
  }
  return request;
}

}  // namespace dsd::testing
