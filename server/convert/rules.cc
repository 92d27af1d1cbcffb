// The rules, as the API server applies them (pkg/apis/core/validation,
// pkg/apis/apps/validation; the semantics doc, section 10). Conversion
// (from_proto.h) is woven in only where one pass must read an object once:
// Labels, Node, DaemonSet and Pod.
#include "server/convert/rules.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "server/common/hash.h"
#include "server/convert/from_proto.h"
#include "server/convert/wire_node.h"
#include "server/engine/k8s_names.h"
#include "server/engine/selectors.h"
#include "server/engine/taints.h"

namespace dsd::convert {
namespace {

// The i-th label of a message's list or of a WireNode's.
const v1::Label& LabelAt(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels, size_t i) {
  return labels[static_cast<int>(i)];
}
const WireNode::Label& LabelAt(const std::vector<WireNode::Label>& labels,
                               size_t i) {
  return labels[i];
}

namespace eng = ::dsd::engine;

// `s` quoted for an error message: at most kQuoted bytes of it (then its
// size), control bytes escaped, so that one hostile value cannot make an
// error too large to deliver or forge lines where it is printed.
std::string Quote(std::string_view s) {
  constexpr size_t kQuoted = 64;
  size_t end = std::min(s.size(), kQuoted);
  if (end < s.size()) {
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xc0) == 0x80) {
      --end;
    }
  }
  std::string out = "\"";
  for (const char c : s.substr(0, end)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      constexpr char kHex[] = "0123456789abcdef";
      out += c == '"'    ? std::string("\\\"")
             : c == '\\' ? std::string("\\\\")
                         : std::string{'\\', 'x', kHex[u >> 4], kHex[u & 15]};
    } else {
      out += c;
    }
  }
  out += '"';
  if (end < s.size()) {
    out.insert(out.size() - 1, "...");
    out += " (" + std::to_string(s.size()) + " bytes)";
  }
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

}  // namespace

void Validator::Subdomain(std::string_view leaf, std::string_view value,
                          bool required) {
  if (value.empty()) {
    if (required) Add(leaf, "is required");
    return;
  }
  if (!eng::IsDns1123Subdomain(value)) {
    Add(leaf, std::string(kSubdomainRule) + ", got " + Quote(value));
  }
}

// Replaces a valid `value` by its canonical view.
void Validator::Namespace(std::string_view leaf, std::string_view& value) {
  // Consecutive objects are mostly in one namespace.
  if (common::Equal(last_namespace_, value) && !value.empty()) {
    value = last_namespace_;
    return;
  }
  if (value.empty()) {
    Add(leaf, "is required");
  } else if (!namespaces_.Valid(value, eng::IsDns1123Label, Keeper{this})) {
    Add(leaf,
        "must be a DNS-1123 label: at most 63 lowercase alphanumerics and "
        "'-', starting and ending alphanumeric, got " +
            Quote(value));
    value = Keep(value);  // the uniqueness checks read it later
  } else {
    last_namespace_ = value;
  }
}

// Validates a label list; when converting, also fills `converted` with
// canonical views.
template <typename List>
void Validator::Labels(std::string_view leaf, const List& labels,
                       eng::Labels* converted) {
  if (labels.empty()) return;
  const auto n = static_cast<size_t>(labels.size());
  // The same list as the last valid one (the pods of a DaemonSet at one
  // revision carry identical labels): valid, and when converting the
  // object shares that list (it is a view): nothing to allocate or copy.
  const bool convert = converted != nullptr && converting();
  if (n == recent_.size() && (!convert || recent_in_snapshot_) &&
      SameAsRecent(labels)) {
    if (convert) *converted = recent_;
    return;
  }
  // The canonical labels go to the snapshot when converting, else to the
  // scratch buffer `recent_` does not use (no per-call array to clear:
  // a local std::array of views is zeroed on every call).
  std::span<eng::Label> dst;
  if (convert) {
    dst = TakeLabels(n);
    *converted = dst;
  } else {
    std::vector<eng::Label>& buffer = recent_.data() == label_scratch_[0].data()
                                          ? label_scratch_[1]
                                          : label_scratch_[0];
    if (buffer.size() < n) buffer.resize(n);
    dst = std::span<eng::Label>(buffer.data(), n);
  }
  // Label lists are short: a quadratic scan over the keys seen so far
  // beats a hash set (which allocates) until a few dozen keys.
  constexpr size_t kHashAbove = 32;
  std::optional<absl::flat_hash_set<std::string_view, common::StringViewHash,
                                    common::StringViewEq>>
      seen;
  if (n > kHashAbove) seen.emplace().reserve(n);
  // Objects of one kind mostly carry the same keys in the same order, and
  // often the same values: compare with the last valid list first (its
  // labels are canonical and valid). While every key so far matched it
  // position by position, the keys are distinct as that list's were.
  bool same_keys = true;
  bool all_ok = true;
  for (size_t i = 0; i < n; ++i) {
    const auto& l = LabelAt(labels, i);
    std::string_view key = l.key();
    std::string_view value = l.value();
    const bool recent = i < recent_.size();
    bool key_ok = true;
    if (recent && common::Equal(recent_[i].key(), key)) {
      key = recent_[i].key();
    } else {
      same_keys = false;
      key_ok = label_keys_.Valid(key, eng::IsLabelKey, CountedKeeper{this});
    }
    bool duplicate = false;
    if (seen) {
      duplicate = !seen->insert(key).second;
    } else if (!same_keys) {
      for (size_t j = 0; j < i && !duplicate; ++j) {
        duplicate = common::Equal(dst[j].key(), key);
      }
    }
    bool value_ok = true;
    if (recent && common::Equal(recent_[i].value(), value)) {
      value = recent_[i].value();
    } else {
      value_ok =
          label_values_.Valid(value, eng::IsLabelValue, CountedKeeper{this});
    }
    if (key_ok && value_ok && !duplicate) {
      // Both are the snapshot's counted copies now (or empty).
      dst[i] = eng::Label(eng::CountedString::Of(key),
                          eng::CountedString::Of(value));
      continue;
    }
    dst[i] = {};  // an invalid key is never a valid one's duplicate
    all_ok = false;
    // The keyed path segment is pushed only to report.
    auto scope = path_.Key(leaf, key);
    if (!key_ok) {
      Add("", std::string(kLabelKeyRule) + ", got " + Quote(key));
    } else if (duplicate) {
      Add("", "duplicate key");
    }
    if (!value_ok) {
      Add("", std::string(kLabelValueRule) + ", got " + Quote(value));
    }
  }
  if (all_ok) {
    recent_ = dst;
    recent_in_snapshot_ = convert;
  }
}

// A LabelSelectorRequirement (set operators only) or, with `node_rules`,
// a NodeSelectorRequirement against labels (adds Gt/Lt).
void Validator::Requirement(const v1::SelectorRequirement& r, bool node_rules) {
  if (!eng::IsLabelKey(r.key())) {
    Add("key", std::string(kLabelKeyRule) + ", got " + Quote(r.key()));
  }
  const eng::RequirementValues values = Values(r);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!eng::IsLabelValue(values[i])) {
      auto scope = path_.Index("values", i);
      Add("", std::string(kLabelValueRule) + ", got " + Quote(values[i]));
    }
  }
  switch (r.operator_()) {
    case v1::SELECTOR_OPERATOR_IN:
    case v1::SELECTOR_OPERATOR_NOT_IN:
      if (values.empty()) {
        Add("values", "must have at least one value for In and NotIn");
      }
      return;
    case v1::SELECTOR_OPERATOR_EXISTS:
    case v1::SELECTOR_OPERATOR_DOES_NOT_EXIST:
      if (!values.empty()) {
        Add("values", "must be empty for Exists and DoesNotExist");
      }
      return;
    case v1::SELECTOR_OPERATOR_GT:
    case v1::SELECTOR_OPERATOR_LT:
      if (!node_rules) break;
      if (values.size() != 1 || !eng::ParseInt64(values[0])) {
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

void Validator::Selector(const v1::LabelSelector& s) {
  Labels("match_labels", s.match_labels());
  for (int i = 0; i < s.match_expressions_size(); ++i) {
    auto scope = path_.Index("match_expressions", static_cast<size_t>(i));
    Requirement(s.match_expressions(i), /*node_rules=*/false);
  }
}

void Validator::Affinity(const v1::RequiredNodeAffinity& a) {
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
      const eng::RequirementValues values = Values(r);
      if (values.size() != 1) {
        Add("values", "must have exactly one value");
      } else {
        Subdomain("values[0]", values[0], /*required=*/true);
      }
    }
  }
}

void Validator::Toleration(const v1::Toleration& t, bool comparison_operators) {
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
  if (t.has_toleration_seconds() && t.effect() != v1::TAINT_EFFECT_NO_EXECUTE) {
    Add("toleration_seconds", "may only be set when effect is NoExecute");
  }
}

// maxUnavailable / maxSurge / partition; returns the value scaled against
// one node's worth (only "is it zero?" matters to validation).
bool Validator::IntOrPercent(std::string_view leaf, const v1::IntOrPercent& v,
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

void Validator::Strategy(const v1::UpdateStrategy& s) {
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
    ok =
        IntOrPercent("max_unavailable", s.max_unavailable(), &unavailable_zero);
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

// As ValidateNodeTaints (pkg/apis/core/validation): a label key, a label
// value, a known effect, and key and effect unique per node.
template <typename TaintT>
void Validator::Taint(
    const TaintT& t,
    internal::SeenKeys<std::pair<std::string_view, int>>& keys) {
  if (t.key().empty()) {
    Add("key", "is required");
  } else if (!eng::IsLabelKey(t.key())) {
    Add("key", std::string(kLabelKeyRule) + ", got " + Quote(t.key()));
  }
  if (!eng::IsLabelValue(t.value())) {
    Add("value", std::string(kLabelValueRule) + ", got " + Quote(t.value()));
  }
  const bool repeated = keys.Insert({t.key(), t.effect()});
  if (t.effect() == v1::TAINT_EFFECT_UNSPECIFIED ||
      !v1::TaintEffect_IsValid(t.effect())) {
    Add("effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
  } else if (repeated) {
    Add("", "duplicate taint: key and effect must be unique per node");
  }
  if (t.has_time_added()) Timestamp("time_added", t.time_added());
}

template <typename NodeT>
void Validator::Node(const NodeT& n) {
  eng::Node* out = converting() ? &snap_->nodes.emplace_back() : nullptr;
  Subdomain("name", n.name(), /*required=*/true);
  Labels("labels", n.labels(), out != nullptr ? &out->labels : nullptr);
  internal::SeenKeys<std::pair<std::string_view, int>> taint_keys(
      static_cast<size_t>(n.taints_size()));  // key, effect
  for (int i = 0; i < n.taints_size(); ++i) {
    auto scope = path_.Index("taints", static_cast<size_t>(i));
    Taint(n.taints(i), taint_keys);
  }
  if (out != nullptr && converting()) {
    FillNode(n, *out, *snap_);
    out->name = snap_->CopyString(out->name);
  }
}
template void Validator::Node(const v1::Node& n);
template void Validator::Node(const WireNode& n);

void Validator::DaemonSet(const v1::DaemonSet& ds, bool comparison_operators) {
  // The values taken out of its bytes go where the converted DaemonSet
  // goes (views into them are kept as they are).
  if (values_ != nullptr && converting()) values_->MoveInto(*snap_);
  std::string_view ns = ds.namespace_();
  Namespace("namespace", ns);
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
  // Converted for the selector check; kept when converting.
  std::optional<eng::DaemonSet> converted;
  if (!ds.has_selector()) {
    Add("selector", "is required");
  } else {
    const size_t before = found_;
    {
      auto scope = path_.Field("selector");
      Selector(ds.selector());
    }
    if (ds.selector().match_labels().empty() &&
        ds.selector().match_expressions().empty()) {
      Add("selector", "empty selector is invalid for daemonset");
    } else if (found_ == before) {
      converted = DaemonSetFromProto(ds, Storage(), Keeper{this}, values_);
      if (!eng::SelectorMatches(converted->selector,
                                converted->template_labels)) {
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
  internal::SeenKeys<std::string_view> backoff_nodes(
      static_cast<size_t>(ds.failed_pod_backoffs_size()));
  for (int i = 0; i < ds.failed_pod_backoffs_size(); ++i) {
    auto scope = path_.Index("failed_pod_backoffs", static_cast<size_t>(i));
    FailedPodBackoff(ds.failed_pod_backoffs(i), backoff_nodes);
  }
  if (!converting()) return;
  if (!converted) {
    converted = DaemonSetFromProto(ds, *snap_, Keeper{this}, values_);
  }
  converted->namespace_name = ns;
  snap_->daemon_sets.push_back(std::move(*converted));
}

// One entry of the DaemonSet's failed-pod back-off (flowcontrol.Backoff:
// 1 s doubling up to 15 min); `nodes` holds the earlier entries' nodes.
void Validator::FailedPodBackoff(const v1::FailedPodBackoff& b,
                                 internal::SeenKeys<std::string_view>& nodes) {
  Subdomain("node", b.node(), /*required=*/true);
  if (!b.node().empty() && nodes.Insert(b.node())) {
    Add("node", "duplicate node: one back-off entry per node");
  }
  if (!b.has_last_update()) {
    Add("last_update", "is required");
  } else {
    Timestamp("last_update", b.last_update());
  }
  constexpr int64_t kMaxSeconds = 15 * 60;
  const google::protobuf::Duration& d = b.delay();
  const bool in_range = d.nanos() >= 0 && d.nanos() <= 999999999 &&
                        d.seconds() >= 0 && d.seconds() <= kMaxSeconds &&
                        (d.seconds() < kMaxSeconds || d.nanos() == 0) &&
                        (d.seconds() > 0 || d.nanos() > 0);
  if (!b.has_delay()) {
    Add("delay", "is required");
  } else if (!in_range) {
    Add("delay", "must be more than 0 and at most 15m (the maximum back-off)");
  }
}

// Checks pod `p` and, with a snapshot, appends it: the whole pod while
// converting, after a violation only its identity (the uniqueness checks
// read it back from there). `node_name` is the pod's node name, or the
// equal name of a node (`node_name_valid`: of a node that passed
// validation). Returns the pod's identity.
PodKey Validator::Pod(const v1::Pod& p, std::string_view node_name,
                      bool node_name_valid) {
  // As for a DaemonSet: values taken out of its bytes go where it goes.
  if (values_ != nullptr && converting()) values_->MoveInto(*snap_);
  eng::Pod* const added =
      snap_ != nullptr ? &snap_->pods.emplace_back() : nullptr;
  eng::Pod* const out = converting() ? added : nullptr;
  PodKey key{p.namespace_(), Keep(p.name()), Keep(p.uid())};
  Namespace("namespace", key.namespace_name);
  Subdomain("name", key.name, /*required=*/true);
  if (key.uid.empty()) Add("uid", "is required");
  Labels("labels", p.labels(), out != nullptr ? &out->labels : nullptr);
  if (p.has_creation_timestamp()) {
    Timestamp("creation_timestamp", p.creation_timestamp());
  }
  if (p.has_deletion_timestamp()) {
    Timestamp("deletion_timestamp", p.deletion_timestamp());
  }
  if (!node_name_valid) {
    Subdomain("node_name", p.node_name(), /*required=*/false);
  }
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
  if (added != nullptr) {
    added->namespace_name = key.namespace_name;
    added->name = key.name;
    added->uid = key.uid;
  }
  if (out == nullptr || !converting()) return key;
  FillPod(p, *out, values_);
  out->namespace_name = key.namespace_name;
  out->name = key.name;
  out->uid = key.uid;
  out->node_name = node_name_valid ? node_name : Keep(node_name);
  for (eng::NodeSelectorTerm& term : out->required_node_affinity) {
    for (auto* reqs : {&term.match_expressions, &term.match_fields}) {
      for (eng::Requirement& r : *reqs) {
        r.key = Keep(r.key);
        // Values that are views (FillPod) are the pod's own strings;
        // those taken out of its bytes are kept already (MoveInto).
        for (std::string_view& value : r.values.views()) value = Keep(value);
      }
    }
  }
  std::string_view controller = p.controller_uid();
  // Consecutive pods mostly share their owner.
  if (common::Equal(controller, last_controller_uid_)) {
    controller = last_controller_uid_;
  } else {
    controller_uids_.Canonical(controller, Keeper{this});
    last_controller_uid_ = controller;
  }
  out->controller_uid = controller;
  return key;
}

// Whether `labels` equal recent_ key for key and value for value.
template <typename List>
bool Validator::SameAsRecent(const List& labels) const {
  for (size_t i = 0; i < recent_.size(); ++i) {
    const auto& l = LabelAt(labels, i);
    if (!common::Equal(recent_[i].key(), l.key()) ||
        !common::Equal(recent_[i].value(), l.value())) {
      return false;
    }
  }
  return true;
}

// Room for `n` labels in the snapshot, carved from large allocations:
// one call into the snapshot per few thousand labels, not per list.
std::span<eng::Label> Validator::TakeLabels(size_t n) {
  constexpr size_t kChunk = 2048;
  if (label_room_.size() < n)
    label_room_ = snap_->AllocateLabels(std::max(n, kChunk));
  const std::span<eng::Label> out = label_room_.first(n);
  label_room_ = label_room_.subspan(n);
  return out;
}

// Where label lists of objects converted only for a check go.
eng::Snapshot& Validator::Storage() {
  if (snap_ != nullptr) return *snap_;
  if (!scratch_) scratch_.emplace();
  return *scratch_;
}

void Validator::Options(const v1::DecideOptions& options) {
  const int minor = options.kubernetes_minor();
  if (minor != 0 && (minor < 8 || minor > engine::kCurrentKubernetesMinor)) {
    Add("kubernetes_minor",
        "must be 0 (current) or between 8 and " +
            std::to_string(engine::kCurrentKubernetesMinor));
  }
}

}  // namespace dsd::convert
