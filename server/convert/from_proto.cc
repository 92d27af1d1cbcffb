// dsd.v1 -> engine mappers: plain copies, string views into the request.
// They assume a request that passed validation (rules.h): an enum value
// validation rejects maps to the engine's default here.
#include "server/convert/from_proto.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/convert/time.h"
#include "server/convert/wire_node.h"
#include "server/engine/k8s_names.h"

namespace dsd::convert {
namespace {

namespace eng = ::dsd::engine;

eng::SelectorOperator ToOperator(v1::SelectorOperator op) {
  switch (op) {
    case v1::SELECTOR_OPERATOR_NOT_IN:
      return eng::SelectorOperator::kNotIn;
    case v1::SELECTOR_OPERATOR_EXISTS:
      return eng::SelectorOperator::kExists;
    case v1::SELECTOR_OPERATOR_DOES_NOT_EXIST:
      return eng::SelectorOperator::kDoesNotExist;
    case v1::SELECTOR_OPERATOR_GT:
      return eng::SelectorOperator::kGt;
    case v1::SELECTOR_OPERATOR_LT:
      return eng::SelectorOperator::kLt;
    default:
      return eng::SelectorOperator::kIn;
  }
}

// With `values`, the values are read there and kept as they are (views
// that live as long as `values`, or as the storage it moved them into).
std::vector<eng::Requirement> ToRequirements(
    const google::protobuf::RepeatedPtrField<v1::SelectorRequirement>& rs,
    KeepString keep, const SelectorValues* values) {
  std::vector<eng::Requirement> out;
  out.reserve(static_cast<size_t>(rs.size()));
  for (const v1::SelectorRequirement& r : rs) {
    eng::Requirement req{keep(r.key()), ToOperator(r.operator_()), {}};
    if (values != nullptr) {
      req.values = values->Of(r);
    } else {
      req.values.reserve(static_cast<size_t>(r.values_size()));
      for (const std::string& v : r.values()) req.values.push_back(keep(v));
    }
    out.push_back(std::move(req));
  }
  return out;
}

eng::LabelSelector ToSelector(const v1::LabelSelector& s,
                              eng::Snapshot& storage, KeepString keep,
                              const SelectorValues* values) {
  return {LabelsFromProto(s.match_labels(), storage),
          ToRequirements(s.match_expressions(), keep, values)};
}

// `expressions` false: the terms' matchFields only (a pod's: see FillPod).
std::vector<eng::NodeSelectorTerm> ToTerms(const v1::RequiredNodeAffinity& a,
                                           KeepString keep,
                                           const SelectorValues* values,
                                           bool expressions = true) {
  std::vector<eng::NodeSelectorTerm> out;
  out.reserve(static_cast<size_t>(a.node_selector_terms_size()));
  for (const v1::NodeSelectorTerm& t : a.node_selector_terms()) {
    out.push_back({expressions
                       ? ToRequirements(t.match_expressions(), keep, values)
                       : std::vector<eng::Requirement>(),
                   ToRequirements(t.match_fields(), keep, values)});
  }
  return out;
}

std::optional<eng::TaintEffect> ToEffect(v1::TaintEffect e) {
  switch (e) {
    case v1::TAINT_EFFECT_NO_SCHEDULE:
      return eng::TaintEffect::kNoSchedule;
    case v1::TAINT_EFFECT_PREFER_NO_SCHEDULE:
      return eng::TaintEffect::kPreferNoSchedule;
    case v1::TAINT_EFFECT_NO_EXECUTE:
      return eng::TaintEffect::kNoExecute;
    default:
      return std::nullopt;
  }
}

eng::TolerationOperator ToTolerationOperator(v1::TolerationOperator op) {
  switch (op) {
    case v1::TOLERATION_OPERATOR_EXISTS:
      return eng::TolerationOperator::kExists;
    case v1::TOLERATION_OPERATOR_LT:
      return eng::TolerationOperator::kLt;
    case v1::TOLERATION_OPERATOR_GT:
      return eng::TolerationOperator::kGt;
    default:
      return eng::TolerationOperator::kEqual;
  }
}

std::optional<eng::IntOrPercent> ToIntOrPercent(const v1::IntOrPercent& v) {
  switch (v.value_case()) {
    case v1::IntOrPercent::kCount:
      return eng::IntOrPercent{v.count(), false};
    case v1::IntOrPercent::kPercent: {
      const std::string& p = v.percent();
      const auto n = eng::ParseInt64(
          std::string_view(p).substr(0, p.empty() ? 0 : p.size() - 1));
      return eng::IntOrPercent{n.value_or(0), true};
    }
    case v1::IntOrPercent::VALUE_NOT_SET:
      break;
  }
  return std::nullopt;
}

eng::PodPhase ToPhase(v1::PodPhase phase) {
  switch (phase) {
    case v1::POD_PHASE_PENDING:
      return eng::PodPhase::kPending;
    case v1::POD_PHASE_RUNNING:
      return eng::PodPhase::kRunning;
    case v1::POD_PHASE_SUCCEEDED:
      return eng::PodPhase::kSucceeded;
    case v1::POD_PHASE_FAILED:
      return eng::PodPhase::kFailed;
    case v1::POD_PHASE_UNKNOWN:
      return eng::PodPhase::kUnknown;
    default:
      return eng::PodPhase::kUnset;
  }
}

}  // namespace

// Label lists go into the snapshot's blocks (no allocation per object),
// their strings into its character blocks.
eng::Labels LabelsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels,
    eng::Snapshot& storage) {
  const std::span<eng::Label> out =
      storage.AllocateLabels(static_cast<size_t>(labels.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const v1::Label& l = labels[static_cast<int>(i)];
    out[i] = storage.MakeLabel(l.key(), l.value());
  }
  return out;
}

template <typename NodeT>
void FillNode(const NodeT& n, eng::Node& node, eng::Snapshot& storage) {
  node.name = n.name();
  const std::span<eng::Taint> taints =
      storage.AllocateTaints(static_cast<size_t>(n.taints_size()));
  node.taints = taints;
  for (size_t i = 0; i < taints.size(); ++i) {
    const auto& t = n.taints(static_cast<int>(i));
    taints[i] = storage.MakeTaint(
        t.key(), t.value(),
        ToEffect(t.effect()).value_or(eng::TaintEffect::kNoSchedule),
        t.has_time_added()
            ? std::optional<absl::Time>(TimeFromProto(t.time_added()))
            : std::nullopt);
  }
}
template void FillNode(const v1::Node& n, eng::Node& node,
                       eng::Snapshot& storage);
template void FillNode(const WireNode& n, eng::Node& node,
                       eng::Snapshot& storage);

void FillPod(const v1::Pod& p, eng::Pod& pod, const SelectorValues* values) {
  pod.namespace_name = p.namespace_();
  pod.name = p.name();
  pod.uid = p.uid();
  pod.controller_uid = p.controller_uid();
  if (p.has_creation_timestamp()) {
    pod.creation_timestamp = TimeFromProto(p.creation_timestamp());
  }
  pod.terminating = p.has_deletion_timestamp();
  pod.node_name = p.node_name();
  // Only unscheduled pods are targeted through their affinity, and only
  // its matchFields are read (GetTargetNodeName). Its matchExpressions are
  // validated but not kept: many small pods could list thousands of values
  // there, at 16 bytes a view against 2 bytes on the wire.
  if (p.node_name().empty() && p.has_required_node_affinity()) {
    pod.required_node_affinity =
        ToTerms(p.required_node_affinity(), SameView, values,
                /*expressions=*/false);
  }
  pod.phase = ToPhase(p.phase());
  pod.ready = p.ready();
  if (p.has_ready_transition_time()) {
    pod.ready_since = TimeFromProto(p.ready_transition_time());
  }
}

engine::Node NodeFromProto(const v1::Node& n, engine::Snapshot& storage) {
  eng::Node node;
  FillNode(n, node, storage);
  node.labels = LabelsFromProto(n.labels(), storage);
  return node;
}

engine::DaemonSet DaemonSetFromProto(const v1::DaemonSet& d,
                                     engine::Snapshot& storage, KeepString keep,
                                     const SelectorValues* values) {
  eng::DaemonSet ds;
  ds.namespace_name = keep(d.namespace_());
  ds.name = keep(d.name());
  ds.uid = keep(d.uid());
  if (d.has_creation_timestamp()) {
    ds.creation_timestamp = TimeFromProto(d.creation_timestamp());
  }
  ds.being_deleted = d.has_deletion_timestamp();
  ds.generation = d.generation();
  if (d.has_template_generation()) {
    ds.template_generation = d.template_generation();
  }
  ds.current_revision_hash = keep(d.current_revision_hash());
  ds.selector = ToSelector(d.selector(), storage, keep, values);
  const v1::PodTemplate& t = d.template_();
  ds.template_labels = LabelsFromProto(t.labels(), storage);
  ds.node_name = keep(t.node_name());
  ds.node_selector = LabelsFromProto(t.node_selector(), storage);
  if (t.has_required_node_affinity()) {
    ds.required_node_affinity =
        ToTerms(t.required_node_affinity(), keep, values);
  }
  ds.tolerations.reserve(static_cast<size_t>(t.tolerations_size()));
  for (const v1::Toleration& tol : t.tolerations()) {
    eng::Toleration out{keep(tol.key()), ToTolerationOperator(tol.operator_()),
                        keep(tol.value()), ToEffect(tol.effect()),
                        std::nullopt};
    if (tol.has_toleration_seconds()) {
      out.toleration_seconds = tol.toleration_seconds();
    }
    ds.tolerations.push_back(out);
  }
  ds.host_network = t.host_network();

  const v1::UpdateStrategy& s = d.update_strategy();
  eng::UpdateStrategy& strategy = ds.update_strategy;
  strategy.type = s.type() == v1::UPDATE_STRATEGY_TYPE_ON_DELETE
                      ? eng::UpdateStrategyType::kOnDelete
                      : eng::UpdateStrategyType::kRollingUpdate;
  strategy.max_unavailable = s.has_max_unavailable()
                                 ? ToIntOrPercent(s.max_unavailable())
                                 : std::nullopt;
  if (s.has_max_surge()) strategy.max_surge = ToIntOrPercent(s.max_surge());
  if (s.has_partition()) strategy.partition = ToIntOrPercent(s.partition());
  strategy.paused = s.paused();
  if (s.has_rollout_node_selector()) {
    strategy.node_selector =
        ToSelector(s.rollout_node_selector(), storage, keep, values);
  }
  ds.min_ready_seconds = d.min_ready_seconds();
  ds.failed_pod_backoffs.reserve(
      static_cast<size_t>(d.failed_pod_backoffs_size()));
  for (const v1::FailedPodBackoff& b : d.failed_pod_backoffs()) {
    ds.failed_pod_backoffs.push_back(
        {keep(b.node()), TimeFromProto(b.last_update()),
         absl::Seconds(b.delay().seconds()) +
             absl::Nanoseconds(b.delay().nanos())});
  }
  return ds;
}

engine::Options OptionsFromProto(const v1::DecideOptions& options) {
  eng::Options out;
  out.explain = options.explain();
  out.explain_action_nodes_only = options.explain_action_nodes_only();
  out.kubernetes_minor = options.kubernetes_minor();
  out.taint_eviction = options.taint_eviction();
  out.toleration_comparison_operators =
      options.toleration_comparison_operators();
  out.rolling_update_after_manage = !options.one_sync();
  return out;
}

}  // namespace dsd::convert
