// Test builders for engine types: state only what matters, get Kubernetes'
// defaults for the rest. Every string and label list is interned into the
// Snapshot passed to the builder, so the views stay valid as long as that
// snapshot lives. Label lists are staged in vectors and interned by Build()
// and Add() (engine::Labels is a view).
//
//   engine::Snapshot snap;
//   NodeBuilder(snap, "node-1").Label("disk", "ssd").Add();
//   const auto ds = DaemonSetBuilder(snap, "ssd-monitor")
//                        .NodeSelector("disk", "ssd").Add();
//   PodBuilder(snap, "ssd-monitor-abc").OwnedBy(ds).OnNode("node-1").Add();
#ifndef DSD_TESTS_TESTING_BUILDERS_H_
#define DSD_TESTS_TESTING_BUILDERS_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "server/engine/types.h"

namespace dsd::testing {

// A fixed, readable instant for tests: 2026-01-01T00:00:00Z.
inline absl::Time T0() { return absl::FromUnixSeconds(1767225600); }
// T0 plus `seconds`.
inline absl::Time At(int64_t seconds) { return T0() + absl::Seconds(seconds); }

inline engine::Toleration MakeToleration(
    engine::Snapshot& snap, std::string key, engine::TolerationOperator op,
    std::string value, std::optional<engine::TaintEffect> effect,
    std::optional<int64_t> seconds = std::nullopt) {
  return engine::Toleration{snap.Intern(std::move(key)), op,
                            snap.Intern(std::move(value)), effect, seconds};
}

inline engine::Requirement MakeRequirement(engine::Snapshot& snap,
                                           std::string key,
                                           engine::SelectorOperator op,
                                           std::vector<std::string> values) {
  engine::Requirement r{snap.Intern(std::move(key)), op, {}};
  for (auto& v : values) r.values.push_back(snap.Intern(std::move(v)));
  return r;
}

class NodeBuilder {
 public:
  NodeBuilder(engine::Snapshot& snap, std::string name) : snap_(snap) {
    node_.name = snap_.Intern(std::move(name));
  }
  NodeBuilder& Label(std::string key, std::string value) {
    labels_.push_back(snap_.MakeLabel(key, value));
    return *this;
  }
  NodeBuilder& Taint(std::string key, std::string value,
                     engine::TaintEffect effect,
                     std::optional<absl::Time> time_added = std::nullopt) {
    taints_.push_back(snap_.MakeTaint(key, value, effect, time_added));
    return *this;
  }
  // kubeadm's control-plane node: node-role label and NoSchedule taint.
  NodeBuilder& ControlPlane() {
    Label("node-role.kubernetes.io/control-plane", "");
    return Taint("node-role.kubernetes.io/control-plane", "",
                 engine::TaintEffect::kNoSchedule);
  }
  // `kubectl cordon`: the node lifecycle controller adds this taint.
  NodeBuilder& Cordoned() {
    return Taint("node.kubernetes.io/unschedulable", "",
                 engine::TaintEffect::kNoSchedule);
  }
  // A NotReady node: the node lifecycle controller's NoExecute taint.
  NodeBuilder& NotReady(std::optional<absl::Time> since = std::nullopt) {
    return Taint("node.kubernetes.io/not-ready", "",
                 engine::TaintEffect::kNoExecute, since);
  }
  engine::Node Build() const {
    engine::Node node = node_;
    node.labels = snap_.InternLabels(labels_);
    node.taints = snap_.InternTaints(taints_);
    return node;
  }
  // Appends to the snapshot and returns a copy (references into the
  // snapshot's vectors would dangle after the next Add).
  engine::Node Add() {
    engine::Node node = Build();
    snap_.nodes.push_back(node);
    return node;
  }

 private:
  engine::Snapshot& snap_;
  engine::Node node_;
  std::vector<engine::Label> labels_;
  std::vector<engine::Taint> taints_;
};

// Defaults: namespace "default", uid "uid-<name>", selector and template
// labels {app: <name>}, RollingUpdate with maxUnavailable 1 (the API
// defaults), current revision hash "rev-2", template generation 2.
class DaemonSetBuilder {
 public:
  DaemonSetBuilder(engine::Snapshot& snap, std::string name) : snap_(snap) {
    ds_.namespace_name = snap_.Intern("default");
    ds_.uid = snap_.Intern("uid-" + name);
    ds_.name = snap_.Intern(name);
    ds_.current_revision_hash = snap_.Intern("rev-2");
    ds_.template_generation = 2;
    ds_.creation_timestamp = T0();
    const engine::Label app = snap_.MakeLabel("app", ds_.name);
    match_labels_ = {app};
    template_labels_ = {app};
  }
  DaemonSetBuilder& Namespace(std::string ns) {
    ds_.namespace_name = snap_.Intern(std::move(ns));
    return *this;
  }
  DaemonSetBuilder& Uid(std::string uid) {
    ds_.uid = snap_.Intern(std::move(uid));
    return *this;
  }
  DaemonSetBuilder& Created(absl::Time t) {
    ds_.creation_timestamp = t;
    return *this;
  }
  // Replaces the selector and template labels with {key: value}.
  DaemonSetBuilder& SelectorLabels(
      std::initializer_list<std::pair<std::string, std::string>> labels) {
    match_labels_.clear();
    template_labels_.clear();
    for (const auto& [k, v] : labels) {
      const engine::Label l = snap_.MakeLabel(k, v);
      match_labels_.push_back(l);
      template_labels_.push_back(l);
    }
    return *this;
  }
  DaemonSetBuilder& SelectorExpression(engine::Requirement r) {
    ds_.selector.match_expressions.push_back(std::move(r));
    return *this;
  }
  DaemonSetBuilder& TemplateLabel(std::string key, std::string value) {
    template_labels_.push_back(snap_.MakeLabel(key, value));
    return *this;
  }
  DaemonSetBuilder& NodeSelector(std::string key, std::string value) {
    node_selector_.push_back(snap_.MakeLabel(key, value));
    return *this;
  }
  DaemonSetBuilder& NodeName(std::string node) {
    ds_.node_name = snap_.Intern(std::move(node));
    return *this;
  }
  // Adds one required node-affinity term (creating the list if absent).
  DaemonSetBuilder& AffinityTerm(engine::NodeSelectorTerm term) {
    if (!ds_.required_node_affinity) ds_.required_node_affinity.emplace();
    ds_.required_node_affinity->push_back(std::move(term));
    return *this;
  }
  // Required node affinity present with zero terms (matches no node).
  DaemonSetBuilder& EmptyAffinity() {
    ds_.required_node_affinity.emplace();
    return *this;
  }
  DaemonSetBuilder& Toleration(engine::Toleration t) {
    ds_.tolerations.push_back(t);
    return *this;
  }
  // {key, Exists, every effect}.
  DaemonSetBuilder& Tolerate(std::string key) {
    return Toleration(MakeToleration(snap_, std::move(key),
                                     engine::TolerationOperator::kExists, "",
                                     std::nullopt));
  }
  DaemonSetBuilder& HostNetwork(bool on = true) {
    ds_.host_network = on;
    return *this;
  }
  DaemonSetBuilder& OnDelete() {
    ds_.update_strategy.type = engine::UpdateStrategyType::kOnDelete;
    return *this;
  }
  DaemonSetBuilder& MaxUnavailable(std::optional<engine::IntOrPercent> v) {
    ds_.update_strategy.max_unavailable = v;
    return *this;
  }
  DaemonSetBuilder& MaxSurge(std::optional<engine::IntOrPercent> v) {
    ds_.update_strategy.max_surge = v;
    return *this;
  }
  DaemonSetBuilder& MinReadySeconds(int64_t s) {
    ds_.min_ready_seconds = s;
    return *this;
  }
  // An empty hash means "unknown" (no ControllerRevision in the input).
  DaemonSetBuilder& Revision(std::string hash) {
    ds_.current_revision_hash = snap_.Intern(std::move(hash));
    return *this;
  }
  DaemonSetBuilder& TemplateGeneration(std::optional<int64_t> g) {
    ds_.template_generation = g;
    return *this;
  }
  // A failed-pod back-off entry the caller tracks for `node`.
  DaemonSetBuilder& FailedPodBackoff(std::string node, absl::Time last_update,
                                     absl::Duration delay) {
    ds_.failed_pod_backoffs.push_back(
        {snap_.Intern(std::move(node)), last_update, delay});
    return *this;
  }
  DaemonSetBuilder& BeingDeleted() {
    ds_.being_deleted = true;
    return *this;
  }
  DaemonSetBuilder& Strategy(engine::UpdateStrategy s) {
    ds_.update_strategy = std::move(s);
    return *this;
  }
  engine::DaemonSet Build() const {
    engine::DaemonSet ds = ds_;
    ds.selector.match_labels = snap_.InternLabels(match_labels_);
    ds.template_labels = snap_.InternLabels(template_labels_);
    ds.node_selector = snap_.InternLabels(node_selector_);
    return ds;
  }
  // Appends to the snapshot and returns a copy (references into the
  // snapshot's vectors would dangle after the next Add).
  engine::DaemonSet Add() {
    engine::DaemonSet ds = Build();
    snap_.daemon_sets.push_back(ds);
    return ds;
  }

 private:
  engine::Snapshot& snap_;
  engine::DaemonSet ds_;
  std::vector<engine::Label> match_labels_;
  std::vector<engine::Label> template_labels_;
  std::vector<engine::Label> node_selector_;
};

// Defaults: namespace "default", uid "uid-<name>", phase Running, not Ready,
// unset creationTimestamp (sorts oldest), no owner.
class PodBuilder {
 public:
  PodBuilder(engine::Snapshot& snap, std::string name) : snap_(snap) {
    pod_.namespace_name = snap_.Intern("default");
    pod_.uid = snap_.Intern("uid-" + name);
    pod_.name = snap_.Intern(std::move(name));
    pod_.phase = engine::PodPhase::kRunning;
  }
  // A daemon pod of `ds` at its current revision: namespace, template
  // labels, controller-revision-hash and pod-template-generation labels,
  // controller owner reference.
  PodBuilder& OwnedBy(const engine::DaemonSet& ds) {
    pod_.namespace_name = ds.namespace_name;
    pod_.controller_uid = ds.uid;
    labels_.assign(ds.template_labels.begin(), ds.template_labels.end());
    if (!ds.current_revision_hash.empty()) {
      labels_.push_back(snap_.MakeLabel("controller-revision-hash",
                                        ds.current_revision_hash));
    }
    if (ds.template_generation) {
      labels_.push_back(snap_.MakeLabel(
          "pod-template-generation", std::to_string(*ds.template_generation)));
    }
    return *this;
  }
  // Matching labels but no owner reference (an orphan to adopt).
  PodBuilder& MatchingOrphanOf(const engine::DaemonSet& ds) {
    pod_.namespace_name = ds.namespace_name;
    labels_.assign(ds.template_labels.begin(), ds.template_labels.end());
    return *this;
  }
  // Sets the revision labels to an older template: hash and generation.
  PodBuilder& Revision(std::string hash,
                       std::optional<int64_t> generation = std::nullopt) {
    SetLabel("controller-revision-hash", std::move(hash));
    if (generation) {
      SetLabel("pod-template-generation", std::to_string(*generation));
    } else {
      RemoveLabel("pod-template-generation");
    }
    return *this;
  }
  PodBuilder& SetLabel(std::string key, std::string value) {
    RemoveLabel(key);
    labels_.push_back(snap_.MakeLabel(key, value));
    return *this;
  }
  PodBuilder& RemoveLabel(const std::string& key) {
    std::erase_if(labels_,
                  [&](const engine::Label& l) { return l.key() == key; });
    return *this;
  }
  PodBuilder& ControllerUid(std::string uid) {
    pod_.controller_uid = snap_.Intern(std::move(uid));
    return *this;
  }
  PodBuilder& Namespace(std::string ns) {
    pod_.namespace_name = snap_.Intern(std::move(ns));
    return *this;
  }
  PodBuilder& OnNode(std::string node) {
    pod_.node_name = snap_.Intern(std::move(node));
    return *this;
  }
  // Unbound pod targeting `node` the way the controller creates them:
  // required affinity with matchFields metadata.name In [node].
  PodBuilder& TargetNode(std::string node) {
    engine::NodeSelectorTerm term;
    term.match_fields.push_back(MakeRequirement(
        snap_, "metadata.name", engine::SelectorOperator::kIn, {node}));
    pod_.required_node_affinity = {term};
    return *this;
  }
  PodBuilder& AffinityTerm(engine::NodeSelectorTerm term) {
    pod_.required_node_affinity.push_back(std::move(term));
    return *this;
  }
  PodBuilder& Created(absl::Time t) {
    pod_.creation_timestamp = t;
    return *this;
  }
  PodBuilder& Phase(engine::PodPhase phase) {
    pod_.phase = phase;
    return *this;
  }
  PodBuilder& Failed() { return Phase(engine::PodPhase::kFailed); }
  PodBuilder& Succeeded() { return Phase(engine::PodPhase::kSucceeded); }
  // Ready=True, lastTransitionTime `since` (unset when nullopt).
  PodBuilder& Ready(std::optional<absl::Time> since = std::nullopt) {
    pod_.ready = true;
    pod_.ready_since = since;
    return *this;
  }
  PodBuilder& NotReady() {
    pod_.ready = false;
    pod_.ready_since.reset();
    return *this;
  }
  PodBuilder& Terminating() {
    pod_.terminating = true;
    return *this;
  }
  engine::Pod Build() const {
    engine::Pod pod = pod_;
    pod.labels = snap_.InternLabels(labels_);
    return pod;
  }
  // Appends to the snapshot and returns a copy (references into the
  // snapshot's vectors would dangle after the next Add).
  engine::Pod Add() {
    engine::Pod pod = Build();
    snap_.pods.push_back(pod);
    return pod;
  }

 private:
  engine::Snapshot& snap_;
  engine::Pod pod_;
  std::vector<engine::Label> labels_;
};

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_BUILDERS_H_
