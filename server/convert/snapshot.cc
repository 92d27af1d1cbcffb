// Validation mirrors the API server (pkg/apis/core/validation,
// pkg/apis/apps/validation; the semantics doc, section 10) plus request
// consistency (unique names and uids). Conversion is a plain copy with
// string views into the request.
#include "server/convert/snapshot.h"

#include <string>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "server/convert/field_path.h"
#include "server/engine/k8s_names.h"
#include "server/engine/selectors.h"
#include "server/engine/taints.h"

namespace dsd::convert {
namespace {

namespace eng = ::dsd::engine;

std::string Quote(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

constexpr std::string_view kLabelKeyRule =
    "must be a label key: an optional DNS subdomain prefix and '/', and a "
    "name of 1-63 characters [A-Za-z0-9-_.] starting and ending "
    "alphanumeric";
constexpr std::string_view kLabelValueRule =
    "must be a label value: at most 63 characters [A-Za-z0-9-_.] starting "
    "and ending alphanumeric, or empty";
constexpr std::string_view kSubdomainRule =
    "must be a DNS-1123 subdomain: at most 253 lowercase alphanumerics, '-' "
    "and '.', starting and ending alphanumeric";

// Collects violations with paths rendered only when something is wrong.
class Validator {
 public:
  Validator(std::string_view root, std::vector<Violation>& out)
      : path_(root), out_(out) {}

  FieldPath& path() { return path_; }

  void Add(std::string_view leaf, std::string description) {
    if (out_.size() >= kMaxViolations + 1) return;  // enough to say "more"
    out_.push_back({path_.Render(leaf), std::move(description)});
  }

  void Subdomain(std::string_view leaf, std::string_view value, bool required) {
    if (value.empty()) {
      if (required) Add(leaf, "is required");
      return;
    }
    if (!eng::IsDns1123Subdomain(value)) {
      Add(leaf, std::string(kSubdomainRule) + ", got " + Quote(value));
    }
  }

  void Namespace(std::string_view leaf, std::string_view value) {
    if (value.empty()) {
      Add(leaf, "is required");
    } else if (!eng::IsDns1123Label(value)) {
      Add(leaf,
          "must be a DNS-1123 label: at most 63 lowercase alphanumerics and "
          "'-', starting and ending alphanumeric, got " +
              Quote(value));
    }
  }

  void Timestamp(std::string_view leaf, const google::protobuf::Timestamp& t) {
    // google.protobuf.Timestamp's range: 0001-01-01 .. 9999-12-31.
    if (t.seconds() < -62135596800 || t.seconds() > 253402300799 ||
        t.nanos() < 0 || t.nanos() > 999999999) {
      Add(leaf, "is not a valid timestamp");
    }
  }

  void Labels(std::string_view leaf,
              const google::protobuf::RepeatedPtrField<v1::Label>& labels) {
    if (labels.empty()) return;
    // Label lists are short: a quadratic scan beats a hash set (which
    // allocates) until a few dozen keys.
    constexpr int kHashAbove = 32;
    absl::flat_hash_set<std::string_view> seen;
    for (int i = 0; i < labels.size(); ++i) {
      const v1::Label& l = labels[i];
      auto scope = path_.Key(leaf, l.key());
      bool duplicate = false;
      if (labels.size() > kHashAbove) {
        duplicate = !seen.insert(l.key()).second;
      } else {
        for (int j = 0; j < i && !duplicate; ++j) {
          duplicate = labels[j].key() == l.key();
        }
      }
      if (!eng::IsLabelKey(l.key())) {
        Add("", std::string(kLabelKeyRule) + ", got " + Quote(l.key()));
      } else if (duplicate) {
        Add("", "duplicate key");
      }
      if (!eng::IsLabelValue(l.value())) {
        Add("", std::string(kLabelValueRule) + ", got " + Quote(l.value()));
      }
    }
  }

  // A LabelSelectorRequirement (set operators only) or, with `node_rules`,
  // a NodeSelectorRequirement against labels (adds Gt/Lt).
  void Requirement(const v1::SelectorRequirement& r, bool node_rules) {
    if (!eng::IsLabelKey(r.key())) {
      Add("key", std::string(kLabelKeyRule) + ", got " + Quote(r.key()));
    }
    for (int i = 0; i < r.values_size(); ++i) {
      auto scope = path_.Index("values", static_cast<size_t>(i));
      if (!eng::IsLabelValue(r.values(i))) {
        Add("", std::string(kLabelValueRule) + ", got " + Quote(r.values(i)));
      }
    }
    switch (r.operator_()) {
      case v1::SELECTOR_OPERATOR_IN:
      case v1::SELECTOR_OPERATOR_NOT_IN:
        if (r.values().empty()) {
          Add("values", "must have at least one value for In and NotIn");
        }
        return;
      case v1::SELECTOR_OPERATOR_EXISTS:
      case v1::SELECTOR_OPERATOR_DOES_NOT_EXIST:
        if (!r.values().empty()) {
          Add("values", "must be empty for Exists and DoesNotExist");
        }
        return;
      case v1::SELECTOR_OPERATOR_GT:
      case v1::SELECTOR_OPERATOR_LT:
        if (!node_rules) break;
        if (r.values_size() != 1 || !eng::ParseInt64(r.values(0))) {
          Add("values", "must be exactly one integer for Gt and Lt");
        }
        return;
      default:
        break;
    }
    Add("operator", node_rules ? "must be one of In, NotIn, Exists, "
                                 "DoesNotExist, Gt, Lt"
                               : "must be one of In, NotIn, Exists, "
                                 "DoesNotExist");
  }

  void Selector(const v1::LabelSelector& s) {
    Labels("match_labels", s.match_labels());
    for (int i = 0; i < s.match_expressions_size(); ++i) {
      auto scope = path_.Index("match_expressions", static_cast<size_t>(i));
      Requirement(s.match_expressions(i), /*node_rules=*/false);
    }
  }

  void Affinity(const v1::RequiredNodeAffinity& a) {
    if (a.node_selector_terms().empty()) {
      Add("node_selector_terms", "must have at least one term");
    }
    for (int t = 0; t < a.node_selector_terms_size(); ++t) {
      auto term_scope =
          path_.Index("node_selector_terms", static_cast<size_t>(t));
      const v1::NodeSelectorTerm& term = a.node_selector_terms(t);
      for (int i = 0; i < term.match_expressions_size(); ++i) {
        auto scope = path_.Index("match_expressions", static_cast<size_t>(i));
        Requirement(term.match_expressions(i), /*node_rules=*/true);
      }
      for (int i = 0; i < term.match_fields_size(); ++i) {
        auto scope = path_.Index("match_fields", static_cast<size_t>(i));
        const v1::SelectorRequirement& r = term.match_fields(i);
        if (r.key() != "metadata.name") {
          Add("key", "must be metadata.name, got " + Quote(r.key()));
        }
        if (r.operator_() != v1::SELECTOR_OPERATOR_IN &&
            r.operator_() != v1::SELECTOR_OPERATOR_NOT_IN) {
          Add("operator", "must be In or NotIn");
        }
        if (r.values_size() != 1) {
          Add("values", "must have exactly one value");
        } else {
          Subdomain("values[0]", r.values(0), /*required=*/true);
        }
      }
    }
  }

  void Toleration(const v1::Toleration& t, bool comparison_operators) {
    if (t.key().empty()) {
      if (t.operator_() != v1::TOLERATION_OPERATOR_EXISTS) {
        Add("operator", "must be Exists when key is empty");
      }
    } else if (!eng::IsLabelKey(t.key())) {
      Add("key", std::string(kLabelKeyRule) + ", got " + Quote(t.key()));
    }
    switch (t.operator_()) {
      case v1::TOLERATION_OPERATOR_EQUAL:
        if (!eng::IsLabelValue(t.value())) {
          Add("value",
              std::string(kLabelValueRule) + ", got " + Quote(t.value()));
        }
        break;
      case v1::TOLERATION_OPERATOR_EXISTS:
        if (!t.value().empty()) {
          Add("value", "must be empty when operator is Exists");
        }
        break;
      case v1::TOLERATION_OPERATOR_LT:
      case v1::TOLERATION_OPERATOR_GT:
        if (!comparison_operators) {
          Add("operator",
              "must be Exists or Equal (Lt and Gt need "
              "options.toleration_comparison_operators)");
        } else if (!eng::ParseCanonicalInt64(t.value())) {
          Add("value",
              "must be a canonical decimal integer for Lt and Gt, "
              "got " +
                  Quote(t.value()));
        }
        break;
      default:
        Add("operator",
            "must be Exists or Equal, got " +
                (v1::TolerationOperator_IsValid(t.operator_())
                     ? v1::TolerationOperator_Name(t.operator_())
                     : std::to_string(static_cast<int>(t.operator_()))));
        break;
    }
    if (!v1::TaintEffect_IsValid(t.effect())) {
      Add("effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    if (t.has_toleration_seconds() &&
        t.effect() != v1::TAINT_EFFECT_NO_EXECUTE) {
      Add("toleration_seconds", "may only be set when effect is NoExecute");
    }
  }

  // maxUnavailable / maxSurge / partition; returns the value scaled against
  // one node's worth (only "is it zero?" matters to validation).
  bool IntOrPercent(std::string_view leaf, const v1::IntOrPercent& v,
                    bool* is_zero) {
    auto scope = path_.Field(leaf);
    switch (v.value_case()) {
      case v1::IntOrPercent::kCount:
        if (v.count() < 0) {
          Add("count", "must be greater than or equal to 0");
          return false;
        }
        *is_zero = v.count() == 0;
        return true;
      case v1::IntOrPercent::kPercent: {
        const std::string& p = v.percent();
        const std::string_view digits =
            std::string_view(p).substr(0, p.empty() ? 0 : p.size() - 1);
        const auto n = eng::ParseInt64(digits);
        if (p.size() < 2 || p.back() != '%' || digits.front() == '+' ||
            digits.front() == '-' || !n) {
          Add("percent",
              "must be an integer percentage like \"25%\", got " + Quote(p));
          return false;
        }
        if (*n > 100) {
          Add("percent", "must not be greater than 100%");
          return false;
        }
        *is_zero = *n == 0;
        return true;
      }
      case v1::IntOrPercent::VALUE_NOT_SET:
        break;
    }
    Add("", "must be set to a count or a percentage");
    return false;
  }

  void Strategy(const v1::UpdateStrategy& s) {
    switch (s.type()) {
      case v1::UPDATE_STRATEGY_TYPE_ON_DELETE:
        return;  // the rolling-update fields are ignored
      case v1::UPDATE_STRATEGY_TYPE_ROLLING_UPDATE:
        break;
      default:
        Add("type", "must be RollingUpdate or OnDelete");
        return;
    }
    bool unavailable_zero = true;
    bool surge_zero = true;
    bool ok = true;
    if (!s.has_max_unavailable()) {
      Add("max_unavailable",
          "is required for RollingUpdate (Kubernetes "
          "defaults it to 1)");
      ok = false;
    } else {
      ok = IntOrPercent("max_unavailable", s.max_unavailable(),
                        &unavailable_zero);
    }
    if (s.has_max_surge()) {
      ok = IntOrPercent("max_surge", s.max_surge(), &surge_zero) && ok;
    }
    if (ok && !unavailable_zero && !surge_zero) {
      Add("max_surge", "may not be set when maxUnavailable is non-zero");
    } else if (ok && unavailable_zero && surge_zero) {
      Add("max_unavailable", "cannot be 0 when maxSurge is 0");
    }
    if (s.has_partition()) {
      bool ignored = false;
      IntOrPercent("partition", s.partition(), &ignored);
    }
    if (s.has_rollout_node_selector()) {
      auto scope = path_.Field("rollout_node_selector");
      Selector(s.rollout_node_selector());
    }
  }

  void Node(const v1::Node& n) {
    Subdomain("name", n.name(), /*required=*/true);
    Labels("labels", n.labels());
    absl::flat_hash_set<std::pair<std::string_view, int>> seen;
    for (int i = 0; i < n.taints_size(); ++i) {
      auto scope = path_.Index("taints", static_cast<size_t>(i));
      const v1::Taint& t = n.taints(i);
      if (t.key().empty()) {
        Add("key", "is required");
      } else if (!eng::IsLabelKey(t.key())) {
        Add("key", std::string(kLabelKeyRule) + ", got " + Quote(t.key()));
      }
      if (!eng::IsLabelValue(t.value())) {
        Add("value",
            std::string(kLabelValueRule) + ", got " + Quote(t.value()));
      }
      if (t.effect() == v1::TAINT_EFFECT_UNSPECIFIED ||
          !v1::TaintEffect_IsValid(t.effect())) {
        Add("effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
      } else if (!seen.insert({t.key(), t.effect()}).second) {
        Add("", "duplicate taint: key and effect must be unique per node");
      }
      if (t.has_time_added()) Timestamp("time_added", t.time_added());
    }
  }

  void DaemonSet(const v1::DaemonSet& ds, bool comparison_operators) {
    Namespace("namespace", ds.namespace_());
    Subdomain("name", ds.name(), /*required=*/true);
    if (ds.uid().empty()) Add("uid", "is required");
    if (ds.has_creation_timestamp()) {
      Timestamp("creation_timestamp", ds.creation_timestamp());
    }
    if (ds.has_deletion_timestamp()) {
      Timestamp("deletion_timestamp", ds.deletion_timestamp());
    }
    if (ds.generation() < 0) Add("generation", "must be >= 0");
    if (ds.has_template_generation() && ds.template_generation() < 0) {
      Add("template_generation", "must be >= 0");
    }
    if (ds.min_ready_seconds() < 0) Add("min_ready_seconds", "must be >= 0");
    const v1::PodTemplate& tmpl = ds.template_();
    {
      auto scope = path_.Field("template");
      Labels("labels", tmpl.labels());
      Subdomain("node_name", tmpl.node_name(), /*required=*/false);
      Labels("node_selector", tmpl.node_selector());
      if (tmpl.has_required_node_affinity()) {
        auto a = path_.Field("required_node_affinity");
        Affinity(tmpl.required_node_affinity());
      }
      for (int i = 0; i < tmpl.tolerations_size(); ++i) {
        auto t = path_.Index("tolerations", static_cast<size_t>(i));
        Toleration(tmpl.tolerations(i), comparison_operators);
      }
    }
    if (!ds.has_selector()) {
      Add("selector", "is required");
    } else {
      const size_t before = out_.size();
      {
        auto scope = path_.Field("selector");
        Selector(ds.selector());
      }
      if (ds.selector().match_labels().empty() &&
          ds.selector().match_expressions().empty()) {
        Add("selector", "empty selector is invalid for daemonset");
      } else if (out_.size() == before) {
        const eng::DaemonSet converted = DaemonSetFromProto(ds);
        if (!eng::SelectorMatches(converted.selector,
                                  converted.template_labels)) {
          Add("selector", "does not match template labels");
        }
      }
    }
    if (!ds.has_update_strategy()) {
      Add("update_strategy", "is required");
    } else {
      auto scope = path_.Field("update_strategy");
      Strategy(ds.update_strategy());
    }
  }

  void Pod(const v1::Pod& p) {
    Namespace("namespace", p.namespace_());
    Subdomain("name", p.name(), /*required=*/true);
    if (p.uid().empty()) Add("uid", "is required");
    Labels("labels", p.labels());
    if (p.has_creation_timestamp()) {
      Timestamp("creation_timestamp", p.creation_timestamp());
    }
    if (p.has_deletion_timestamp()) {
      Timestamp("deletion_timestamp", p.deletion_timestamp());
    }
    Subdomain("node_name", p.node_name(), /*required=*/false);
    if (p.has_required_node_affinity()) {
      auto a = path_.Field("required_node_affinity");
      Affinity(p.required_node_affinity());
    }
    if (!v1::PodPhase_IsValid(p.phase())) {
      Add("phase",
          "must be Pending, Running, Succeeded, Failed, Unknown or unset");
    }
    if (p.has_ready_transition_time()) {
      Timestamp("ready_transition_time", p.ready_transition_time());
    }
  }

 private:
  FieldPath path_;
  std::vector<Violation>& out_;
};

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

eng::Labels ToLabels(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels) {
  eng::Labels out;
  out.reserve(static_cast<size_t>(labels.size()));
  for (const v1::Label& l : labels) out.push_back({l.key(), l.value()});
  return out;
}

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

std::vector<eng::Requirement> ToRequirements(
    const google::protobuf::RepeatedPtrField<v1::SelectorRequirement>& rs) {
  std::vector<eng::Requirement> out;
  out.reserve(static_cast<size_t>(rs.size()));
  for (const v1::SelectorRequirement& r : rs) {
    eng::Requirement req{r.key(), ToOperator(r.operator_()), {}};
    req.values.assign(r.values().begin(), r.values().end());
    out.push_back(std::move(req));
  }
  return out;
}

eng::LabelSelector ToSelector(const v1::LabelSelector& s) {
  return {ToLabels(s.match_labels()), ToRequirements(s.match_expressions())};
}

std::vector<eng::NodeSelectorTerm> ToTerms(const v1::RequiredNodeAffinity& a) {
  std::vector<eng::NodeSelectorTerm> out;
  out.reserve(static_cast<size_t>(a.node_selector_terms_size()));
  for (const v1::NodeSelectorTerm& t : a.node_selector_terms()) {
    out.push_back({ToRequirements(t.match_expressions()),
                   ToRequirements(t.match_fields())});
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

// Flags a repeated identity (name or uid) once per duplicate.
template <typename Key>
void Unique(absl::flat_hash_set<Key>& seen, const Key& key, Validator& v,
            std::string_view leaf, std::string_view what) {
  if (!seen.insert(key).second) {
    v.Add(leaf, std::string("duplicate ") + std::string(what));
  }
}

}  // namespace

bool ValidateOptions(const v1::DecideOptions& options, std::string_view root,
                     std::vector<Violation>& out) {
  const size_t before = out.size();
  Validator v(root, out);
  const int minor = options.kubernetes_minor();
  if (minor != 0 && (minor < 8 || minor > engine::kCurrentKubernetesMinor)) {
    v.Add("kubernetes_minor",
          "must be 0 (current) or between 8 and " +
              std::to_string(engine::kCurrentKubernetesMinor));
  }
  return out.size() == before;
}

bool ValidateSnapshot(const v1::Snapshot& snapshot,
                      const v1::DecideOptions& options, std::string_view root,
                      std::vector<Violation>& out) {
  const size_t before = out.size();
  Validator v(root, out);
  const bool gate = options.toleration_comparison_operators();

  absl::flat_hash_set<std::string_view> node_names;
  for (int i = 0; i < snapshot.nodes_size(); ++i) {
    auto scope = v.path().Index("nodes", static_cast<size_t>(i));
    v.Node(snapshot.nodes(i));
    Unique(node_names, std::string_view(snapshot.nodes(i).name()), v, "name",
           "node name");
  }
  absl::flat_hash_set<std::string_view> ds_uids;
  absl::flat_hash_set<std::pair<std::string_view, std::string_view>> ds_names;
  for (int i = 0; i < snapshot.daemon_sets_size(); ++i) {
    auto scope = v.path().Index("daemon_sets", static_cast<size_t>(i));
    const v1::DaemonSet& ds = snapshot.daemon_sets(i);
    v.DaemonSet(ds, gate);
    if (!ds.uid().empty()) {
      Unique(ds_uids, std::string_view(ds.uid()), v, "uid", "DaemonSet uid");
    }
    Unique(ds_names,
           std::pair<std::string_view, std::string_view>(ds.namespace_(),
                                                         ds.name()),
           v, "name", "DaemonSet namespace/name");
  }
  absl::flat_hash_set<std::string_view> pod_uids;
  absl::flat_hash_set<std::pair<std::string_view, std::string_view>> pod_names;
  for (int i = 0; i < snapshot.pods_size(); ++i) {
    auto scope = v.path().Index("pods", static_cast<size_t>(i));
    const v1::Pod& pod = snapshot.pods(i);
    v.Pod(pod);
    if (!pod.uid().empty()) {
      Unique(pod_uids, std::string_view(pod.uid()), v, "uid", "pod uid");
    }
    Unique(pod_names,
           std::pair<std::string_view, std::string_view>(pod.namespace_(),
                                                         pod.name()),
           v, "name", "pod namespace/name");
  }
  return out.size() == before;
}

engine::Node NodeFromProto(const v1::Node& n) {
  eng::Node node;
  node.name = n.name();
  node.labels = ToLabels(n.labels());
  node.taints.reserve(static_cast<size_t>(n.taints_size()));
  for (const v1::Taint& t : n.taints()) {
    eng::Taint taint{
        t.key(), t.value(),
        ToEffect(t.effect()).value_or(eng::TaintEffect::kNoSchedule),
        std::nullopt};
    if (t.has_time_added()) taint.time_added = ToTime(t.time_added());
    node.taints.push_back(taint);
  }
  return node;
}

engine::DaemonSet DaemonSetFromProto(const v1::DaemonSet& d) {
  eng::DaemonSet ds;
  ds.namespace_name = d.namespace_();
  ds.name = d.name();
  ds.uid = d.uid();
  if (d.has_creation_timestamp()) {
    ds.creation_timestamp = ToTime(d.creation_timestamp());
  }
  ds.being_deleted = d.has_deletion_timestamp();
  ds.generation = d.generation();
  if (d.has_template_generation()) {
    ds.template_generation = d.template_generation();
  }
  ds.current_revision_hash = d.current_revision_hash();
  ds.selector = ToSelector(d.selector());
  const v1::PodTemplate& t = d.template_();
  ds.template_labels = ToLabels(t.labels());
  ds.node_name = t.node_name();
  ds.node_selector = ToLabels(t.node_selector());
  if (t.has_required_node_affinity()) {
    ds.required_node_affinity = ToTerms(t.required_node_affinity());
  }
  ds.tolerations.reserve(static_cast<size_t>(t.tolerations_size()));
  for (const v1::Toleration& tol : t.tolerations()) {
    eng::Toleration out{tol.key(), ToTolerationOperator(tol.operator_()),
                        tol.value(), ToEffect(tol.effect()), std::nullopt};
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
    strategy.node_selector = ToSelector(s.rollout_node_selector());
  }
  ds.min_ready_seconds = d.min_ready_seconds();
  return ds;
}

engine::Snapshot SnapshotFromProto(const v1::Snapshot& snapshot) {
  eng::Snapshot snap;
  snap.nodes.reserve(static_cast<size_t>(snapshot.nodes_size()));
  for (const v1::Node& n : snapshot.nodes())
    snap.nodes.push_back(NodeFromProto(n));
  snap.daemon_sets.reserve(static_cast<size_t>(snapshot.daemon_sets_size()));
  for (const v1::DaemonSet& d : snapshot.daemon_sets()) {
    snap.daemon_sets.push_back(DaemonSetFromProto(d));
  }
  snap.pods.reserve(static_cast<size_t>(snapshot.pods_size()));
  for (const v1::Pod& p : snapshot.pods()) {
    eng::Pod& pod = snap.pods.emplace_back();
    pod.namespace_name = p.namespace_();
    pod.name = p.name();
    pod.uid = p.uid();
    pod.labels = ToLabels(p.labels());
    pod.controller_uid = p.controller_uid();
    if (p.has_creation_timestamp()) {
      pod.creation_timestamp = ToTime(p.creation_timestamp());
    }
    pod.terminating = p.has_deletion_timestamp();
    pod.node_name = p.node_name();
    // Only unscheduled pods are targeted through their affinity.
    if (p.node_name().empty() && p.has_required_node_affinity()) {
      pod.required_node_affinity = ToTerms(p.required_node_affinity());
    }
    pod.phase = ToPhase(p.phase());
    pod.ready = p.ready();
    if (p.has_ready_transition_time()) {
      pod.ready_since = ToTime(p.ready_transition_time());
    }
  }
  return snap;
}

engine::Options OptionsFromProto(const v1::DecideOptions& options) {
  eng::Options out;
  out.explain = options.explain();
  out.kubernetes_minor = options.kubernetes_minor();
  out.taint_eviction = options.taint_eviction();
  out.toleration_comparison_operators =
      options.toleration_comparison_operators();
  out.rolling_update_after_manage = !options.one_sync();
  return out;
}

}  // namespace dsd::convert
