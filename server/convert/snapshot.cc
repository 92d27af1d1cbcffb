// Validation mirrors the API server (pkg/apis/core/validation,
// pkg/apis/apps/validation; the semantics doc, section 10) plus request
// consistency (unique names and uids). Conversion is a plain copy with
// string views into the request, except for pods streamed off the wire
// (PodSource::reuses_pods): what the snapshot keeps of those is copied.
#include "server/convert/snapshot.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "server/convert/field_path.h"
#include "server/engine/internal/cancel.h"
#include "server/engine/internal/hash.h"
#include "server/engine/k8s_names.h"
#include "server/engine/selectors.h"
#include "server/engine/taints.h"

namespace dsd::convert {
namespace {

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

// FromUnixSeconds(s) + Nanoseconds(n). Valid timestamps (0001-9999, nanos
// in range) go through FromUnixNanos, which is inline (the Duration
// addition is an out-of-line call, twice per pod) and exact here: the
// nanoseconds since the epoch fit an int64 up to the year 2262 and
// FromUnixNanos floors like the sum does. Other values take the sum.
absl::Time ToTime(const google::protobuf::Timestamp& t) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kFastSeconds =
      std::numeric_limits<int64_t>::max() / kNanosPerSecond - 1;
  if (t.nanos() >= 0 && t.nanos() < kNanosPerSecond &&
      t.seconds() > -kFastSeconds && t.seconds() < kFastSeconds) {
    return absl::FromUnixNanos(t.seconds() * kNanosPerSecond + t.nanos());
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Label lists go into the snapshot's blocks (no allocation per object).
eng::Labels ToLabels(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels,
    eng::Snapshot& storage) {
  const std::span<eng::Label> out =
      storage.AllocateLabels(static_cast<size_t>(labels.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    const v1::Label& l = labels[static_cast<int>(i)];
    out[i] = {l.key(), l.value()};
  }
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

eng::LabelSelector ToSelector(const v1::LabelSelector& s,
                              eng::Snapshot& storage) {
  return {ToLabels(s.match_labels(), storage),
          ToRequirements(s.match_expressions())};
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

// The node fields but its labels (views into the request).
void FillNode(const v1::Node& n, eng::Node& node) {
  node.name = n.name();
  node.taints.reserve(static_cast<size_t>(n.taints_size()));
  for (const v1::Taint& t : n.taints()) {
    eng::Taint taint{
        t.key(), t.value(),
        ToEffect(t.effect()).value_or(eng::TaintEffect::kNoSchedule),
        std::nullopt};
    if (t.has_time_added()) taint.time_added = ToTime(t.time_added());
    node.taints.push_back(taint);
  }
}

// The pod fields but its labels (views into the request).
void FillPod(const v1::Pod& p, eng::Pod& pod) {
  pod.namespace_name = p.namespace_();
  pod.name = p.name();
  pod.uid = p.uid();
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

// One view per distinct string among those that repeat across a request's
// objects (label keys and values, namespaces, controller uids): an equal
// string seen before replaces the view, so that the engine's many compares
// and hashes of these strings read a few hot cache lines rather than every
// pod's own request memory. Validation uses it too: a string equal to one
// that already passed a check needs no second scan. Direct mapped on a few
// characters. `keep` turns a view into one that outlives the object it came
// from (identity for a parsed request; a copy for streamed pods).
// The keys met so far in one object's list (taints by key and effect,
// back-off entries by node), to flag repeats: a scan while the list is
// short (the usual handful costs no allocation of a set), a hash set past
// kScanUpTo keys, so that a hostile list of a million entries costs linear
// time, not quadratic.
template <typename Key>
class SeenKeys {
 public:
  // Whether `key` was inserted before; inserts it.
  bool Insert(const Key& key) {
    if (set_) return !set_->insert(key).second;
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return true;
    keys_.push_back(key);
    if (keys_.size() > kScanUpTo) {
      set_.emplace(keys_.begin(), keys_.end());
      keys_.clear();
    }
    return false;
  }

 private:
  // internal/hash.h's string hash (Abseil's falls back to std::hash here).
  struct Hash {
    size_t operator()(std::string_view s) const {
      return eng::internal::HashString(s);
    }
    size_t operator()(const std::pair<std::string_view, int>& p) const {
      return eng::internal::HashString(p.first,
                                       static_cast<uint64_t>(p.second) + 1);
    }
  };
  static constexpr size_t kScanUpTo = 32;
  std::vector<Key> keys_;
  std::optional<absl::flat_hash_set<Key, Hash>> set_;
};

class StringCache {
 public:
  // Replaces `s` by an earlier equal string, or remembers (a kept) `s`.
  template <typename Keep>
  void Canonical(std::string_view& s, Keep keep) {
    if (s.empty()) return;
    std::string_view& slot = Slot(s);
    if (eng::internal::Equal(slot, s)) {
      s = slot;
    } else {
      slot = s = keep(s);
    }
  }

  // Whether `s` passes `check`; if it does, replaces `s` by an earlier equal
  // string that passed it (then without checking again), or by a kept copy.
  template <typename Check, typename Keep>
  bool Valid(std::string_view& s, Check check, Keep keep) {
    if (s.empty()) return check(s);
    std::string_view& slot = Slot(s);
    if (eng::internal::Equal(slot, s)) {
      s = slot;
      return true;
    }
    if (!check(s)) return false;
    slot = s = keep(s);
    return true;
  }

 private:
  std::string_view& Slot(std::string_view s) {
    const auto at = [&](size_t i) {
      return static_cast<size_t>(static_cast<unsigned char>(s[i]));
    };
    const size_t n = s.size();
    return slots_[(n * 31 + at(0) * 7 + at(n / 2) * 3 + at(n - 2 + (n < 2)) +
                   at(n - 1) * 5) %
                  slots_.size()];
  }

  std::array<std::string_view, 128> slots_{};
};

// A pod's identity as the uniqueness checks read it back: views that
// outlive the pod's message (see Validator::Keep).
struct PodKey {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view uid;
};

// Collects violations with paths rendered only when something is wrong.
//
// With a snapshot to fill it also converts, in the same pass over the
// request, as long as no violation was found: each object's memory is then
// read once (a large request does not fit in the cache). After a violation
// the snapshot is incomplete and must be dropped.
class Validator {
 public:
  Validator(std::string_view root, std::vector<Violation>& out,
            eng::Snapshot* converted = nullptr)
      : path_(root), out_(out), before_(out.size()), snap_(converted) {}

  FieldPath& path() { return path_; }

  // While set, each object checked is overwritten by the next (pods
  // streamed from the wire, see PodSource): a view kept past the object
  // is copied into the snapshot (or scratch storage) first.
  void set_transient(bool transient) { transient_ = transient; }
  std::string_view Keep(std::string_view s) {
    return transient_ && !s.empty() ? Storage().CopyString(s) : s;
  }

  bool converting() const { return snap_ != nullptr && out_.size() == before_; }
  eng::Snapshot* snapshot() { return snap_; }

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

  // Replaces a valid `value` by its canonical view.
  void Namespace(std::string_view leaf, std::string_view& value) {
    // Consecutive objects are mostly in one namespace.
    if (eng::internal::Equal(last_namespace_, value) && !value.empty()) {
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

  void Timestamp(std::string_view leaf, const google::protobuf::Timestamp& t) {
    // google.protobuf.Timestamp's range: 0001-01-01 .. 9999-12-31.
    if (t.seconds() < -62135596800 || t.seconds() > 253402300799 ||
        t.nanos() < 0 || t.nanos() > 999999999) {
      Add(leaf, "is not a valid timestamp");
    }
  }

  // Validates a label list; when converting, also fills `converted` with
  // canonical views.
  void Labels(std::string_view leaf,
              const google::protobuf::RepeatedPtrField<v1::Label>& labels,
              eng::Labels* converted = nullptr) {
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
      std::vector<eng::Label>& buffer =
          recent_.data() == label_scratch_[0].data() ? label_scratch_[1]
                                                     : label_scratch_[0];
      if (buffer.size() < n) buffer.resize(n);
      dst = std::span<eng::Label>(buffer.data(), n);
    }
    // Label lists are short: a quadratic scan over the keys seen so far
    // beats a hash set (which allocates) until a few dozen keys.
    constexpr size_t kHashAbove = 32;
    std::optional<
        absl::flat_hash_set<std::string_view, eng::internal::StringViewHash,
                            eng::internal::StringViewEq>>
        seen;
    if (n > kHashAbove) seen.emplace().reserve(n);
    // Objects of one kind mostly carry the same keys in the same order, and
    // often the same values: compare with the last valid list first (its
    // labels are canonical and valid). While every key so far matched it
    // position by position, the keys are distinct as that list's were.
    bool same_keys = true;
    bool all_ok = true;
    for (size_t i = 0; i < n; ++i) {
      const v1::Label& l = labels[static_cast<int>(i)];
      std::string_view key = l.key();
      std::string_view value = l.value();
      const bool recent = i < recent_.size();
      bool key_ok = true;
      if (recent && eng::internal::Equal(recent_[i].key, key)) {
        key = recent_[i].key;
      } else {
        same_keys = false;
        key_ok = label_keys_.Valid(key, eng::IsLabelKey, Keeper{this});
      }
      bool duplicate = false;
      if (seen) {
        duplicate = !seen->insert(key).second;
      } else if (!same_keys) {
        for (size_t j = 0; j < i && !duplicate; ++j) {
          duplicate = eng::internal::Equal(dst[j].key, key);
        }
      }
      bool value_ok = true;
      if (recent && eng::internal::Equal(recent_[i].value, value)) {
        value = recent_[i].value;
      } else {
        value_ok = label_values_.Valid(value, eng::IsLabelValue, Keeper{this});
      }
      dst[i] = {key, value};
      if (key_ok && value_ok && !duplicate) continue;
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
    eng::Node* out = converting() ? &snap_->nodes.emplace_back() : nullptr;
    Subdomain("name", n.name(), /*required=*/true);
    Labels("labels", n.labels(), out != nullptr ? &out->labels : nullptr);
    SeenKeys<std::pair<std::string_view, int>> taint_keys;  // key, effect
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
      const bool repeated = taint_keys.Insert({t.key(), t.effect()});
      if (t.effect() == v1::TAINT_EFFECT_UNSPECIFIED ||
          !v1::TaintEffect_IsValid(t.effect())) {
        Add("effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
      } else if (repeated) {
        Add("", "duplicate taint: key and effect must be unique per node");
      }
      if (t.has_time_added()) Timestamp("time_added", t.time_added());
    }
    if (out != nullptr && converting()) {
      FillNode(n, *out);
      out->name = snap_->CopyString(out->name);
    }
  }

  void DaemonSet(const v1::DaemonSet& ds, bool comparison_operators) {
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
      const size_t before = out_.size();
      {
        auto scope = path_.Field("selector");
        Selector(ds.selector());
      }
      if (ds.selector().match_labels().empty() &&
          ds.selector().match_expressions().empty()) {
        Add("selector", "empty selector is invalid for daemonset");
      } else if (out_.size() == before) {
        converted = DaemonSetFromProto(ds, Storage());
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
    SeenKeys<std::string_view> backoff_nodes;
    for (int i = 0; i < ds.failed_pod_backoffs_size(); ++i) {
      auto scope = path_.Index("failed_pod_backoffs", static_cast<size_t>(i));
      FailedPodBackoff(ds.failed_pod_backoffs(i), backoff_nodes);
    }
    if (!converting()) return;
    if (!converted) converted = DaemonSetFromProto(ds, *snap_);
    converted->namespace_name = ns;
    snap_->daemon_sets.push_back(std::move(*converted));
  }

  // One entry of the DaemonSet's failed-pod back-off (flowcontrol.Backoff:
  // 1 s doubling up to 15 min); `nodes` holds the earlier entries' nodes.
  void FailedPodBackoff(const v1::FailedPodBackoff& b,
                        SeenKeys<std::string_view>& nodes) {
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
      Add("delay",
          "must be more than 0 and at most 15m (the maximum back-off)");
    }
  }

  // Checks pod `p` and, with a snapshot, appends it: the whole pod while
  // converting, after a violation only its identity (the uniqueness checks
  // read it back from there). `node_name` is the pod's node name, or the
  // equal name of a node (`node_name_valid`: of a node that passed
  // validation). Returns the pod's identity.
  PodKey Pod(const v1::Pod& p, std::string_view node_name,
             bool node_name_valid) {
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
    FillPod(p, *out);
    out->namespace_name = key.namespace_name;
    out->name = key.name;
    out->uid = key.uid;
    out->node_name = node_name_valid ? node_name : Keep(node_name);
    for (eng::NodeSelectorTerm& term : out->required_node_affinity) {
      for (auto* reqs : {&term.match_expressions, &term.match_fields}) {
        for (eng::Requirement& r : *reqs) {
          r.key = Keep(r.key);
          for (std::string_view& value : r.values) value = Keep(value);
        }
      }
    }
    std::string_view controller = p.controller_uid();
    // Consecutive pods mostly share their owner.
    if (eng::internal::Equal(controller, last_controller_uid_)) {
      controller = last_controller_uid_;
    } else {
      controller_uids_.Canonical(controller, Keeper{this});
      last_controller_uid_ = controller;
    }
    out->controller_uid = controller;
    return key;
  }

 private:
  // Keep as a StringCache argument.
  struct Keeper {
    Validator* self;
    std::string_view operator()(std::string_view s) const {
      return self->Keep(s);
    }
  };

  // Whether `labels` equal recent_ key for key and value for value.
  bool SameAsRecent(
      const google::protobuf::RepeatedPtrField<v1::Label>& labels) const {
    for (size_t i = 0; i < recent_.size(); ++i) {
      const v1::Label& l = labels[static_cast<int>(i)];
      if (!eng::internal::Equal(recent_[i].key, l.key()) ||
          !eng::internal::Equal(recent_[i].value, l.value())) {
        return false;
      }
    }
    return true;
  }

  // Room for `n` labels in the snapshot, carved from large allocations:
  // one call into the snapshot per few thousand labels, not per list.
  std::span<eng::Label> TakeLabels(size_t n) {
    constexpr size_t kChunk = 2048;
    if (label_room_.size() < n)
      label_room_ = snap_->AllocateLabels(std::max(n, kChunk));
    const std::span<eng::Label> out = label_room_.first(n);
    label_room_ = label_room_.subspan(n);
    return out;
  }

  // Where label lists of objects converted only for a check go.
  eng::Snapshot& Storage() {
    if (snap_ != nullptr) return *snap_;
    if (!scratch_) scratch_.emplace();
    return *scratch_;
  }

  FieldPath path_;
  std::vector<Violation>& out_;
  const size_t before_;
  eng::Snapshot* const snap_;
  std::optional<eng::Snapshot> scratch_;
  bool transient_ = false;
  StringCache label_keys_;
  StringCache label_values_;
  // The last label list that was valid: in the snapshot when converting,
  // else in one of the scratch buffers.
  std::span<const eng::Label> recent_;
  // Whether recent_ is in the snapshot (objects may then share it), or in
  // a scratch buffer (lists validated without being converted).
  bool recent_in_snapshot_ = false;
  std::array<std::vector<eng::Label>, 2> label_scratch_;
  std::span<eng::Label> label_room_;  // see TakeLabels
  std::string_view last_namespace_;   // the last valid namespace
  std::string_view last_controller_uid_;
  StringCache namespaces_;
  StringCache controller_uids_;
};

// Detects repeated identities (names, uids) among the objects of one
// request: an open-addressing table of object indices, each slot holding
// the index and 32 bits of its key's hash. The key is read through
// `key_of` only when those 32 bits match (practically only for a real
// duplicate): reading an earlier object's key means several cache misses
// into the request, and Abseil's 7-bit tags made that happen on about one
// insert in ten. Half empty at most; sized up front, never rehashed.
//
// A 150,000-pod table is far from the cache: the caller announces an
// object before checking its other fields (Announce hashes the key and
// prefetches its slot) and inserts it after them, when the slot has
// arrived. Announcing objects further ahead measured slower: reading ahead
// of the pass over the request defeats the hardware's sequential
// prefetching, which costs more than the table.
template <typename KeyOf>
class UniqueIndex {
 public:
  UniqueIndex(int n, KeyOf key_of) : key_of_(key_of) {
    size_t capacity = 16;
    while (capacity < 2 * static_cast<size_t>(n)) capacity *= 2;
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
  }

  // The hash to insert object `index` with; prefetches its slot.
  uint64_t Announce(int index) {
    return AnnounceKey(key_of_(static_cast<uint32_t>(index)));
  }
  // The same for an object whose key `key_of` cannot read yet.
  template <typename Key>
  uint64_t AnnounceKey(const Key& key) {
    const uint64_t hash = HashKey(key);
    __builtin_prefetch(&slots_[hash & mask_]);
    return hash;
  }

  // The index of the object with `key`, or -1.
  template <typename Key>
  int Find(const Key& key) {
    const uint64_t hash = HashKey(key);
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) return -1;
      if (Tag(slot) == Tag(hash) && KeyEqual(key_of_(Index(slot)), key)) {
        return static_cast<int>(Index(slot));
      }
    }
  }

  // False when an earlier object had the same key.
  bool Insert(int index) { return Insert(index, Announce(index)); }
  bool Insert(int index, uint64_t hash) {
    const auto i = static_cast<uint32_t>(index);
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint64_t slot = slots_[pos];
      if (slot == 0) {
        slots_[pos] = (Tag(hash) << 32) | (uint64_t{i} + 1);
        return true;
      }
      if (Tag(slot) == Tag(hash) &&
          KeyEqual(key_of_(Index(slot)), key_of_(i))) {
        return false;
      }
    }
  }

 private:
  // Slot layout: tag (hash bits 32-63) above index + 1; 0 is empty. The
  // position comes from the low bits, so tag and position are independent.
  static uint64_t Tag(uint64_t hash_or_slot) { return hash_or_slot >> 32; }
  static uint32_t Index(uint64_t slot) {
    return static_cast<uint32_t>(slot & 0xffffffffu) - 1;
  }

  static bool KeyEqual(std::string_view a, std::string_view b) {
    return eng::internal::Equal(a, b);
  }
  static bool KeyEqual(const std::pair<std::string_view, std::string_view>& a,
                       const std::pair<std::string_view, std::string_view>& b) {
    return eng::internal::Equal(a.first, b.first) &&
           eng::internal::Equal(a.second, b.second);
  }
  uint64_t HashKey(std::string_view s) { return eng::internal::HashString(s); }
  uint64_t HashKey(const std::pair<std::string_view, std::string_view>& p) {
    // Consecutive objects mostly share a namespace: hash it once.
    if (!eng::internal::Equal(p.first, first_) || first_hash_ == 0) {
      first_.assign(p.first);  // a copy: the key may be a streamed pod's
      first_hash_ = eng::internal::HashString(p.first) | 1;
    }
    return eng::internal::HashString(p.second, first_hash_);
  }

  KeyOf key_of_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  std::string first_;  // HashKey's memo
  uint64_t first_hash_ = 0;
};

// Strings longer than the inline capacity of std::string keep their bytes
// in a separate heap block, apart from the arena where the parser put the
// messages one after another: the pass over the pods streams through the
// arena, but each such block is a cache miss of its own. Fetching the bytes
// of the pod a couple of places ahead measured ~15% off the pass. Only the
// strings that are usually long (uids are UUIDs, pod names carry a suffix,
// label keys a prefix): reading further into the next pods, or all of
// their strings, measured slower, as did fetching further ahead.
void PrefetchPodStrings(const v1::Pod& p) {
  __builtin_prefetch(p.uid().data());
  __builtin_prefetch(p.name().data());
  __builtin_prefetch(p.controller_uid().data());
  for (const v1::Label& l : p.labels()) __builtin_prefetch(l.key().data());
}

// The pods of a parsed request: views into them stay valid.
class RepeatedPods final : public PodSource {
 public:
  explicit RepeatedPods(const google::protobuf::RepeatedPtrField<v1::Pod>& pods)
      : pods_(pods) {}
  int size() const override { return pods_.size(); }
  const v1::Pod* Next() override {
    if (next_ >= pods_.size()) return nullptr;
    if (next_ + 2 < pods_.size()) PrefetchPodStrings(pods_[next_ + 2]);
    return &pods_[next_++];
  }
  bool reuses_pods() const override { return false; }

 private:
  const google::protobuf::RepeatedPtrField<v1::Pod>& pods_;
  int next_ = 0;
};

template <typename KeyOf>
UniqueIndex<KeyOf> MakeUniqueIndex(int n, KeyOf key_of) {
  return UniqueIndex<KeyOf>(n, key_of);
}

// Flags a repeated identity (name or uid) once per duplicate.
template <typename Set>
void Unique(Set& seen, int index, uint64_t hash, Validator& v,
            std::string_view leaf, std::string_view what) {
  if (!seen.Insert(index, hash)) {
    v.Add(leaf, std::string("duplicate ") + std::string(what));
  }
}
template <typename Set>
void Unique(Set& seen, int index, Validator& v, std::string_view leaf,
            std::string_view what) {
  Unique(seen, index, seen.Announce(index), v, leaf, what);
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

namespace {

// ValidateSnapshot, converting into `converted` when it is not null.
bool CheckSnapshot(const v1::Snapshot& snapshot, PodSource& pods,
                   const v1::DecideOptions& options, std::string_view root,
                   std::vector<Violation>& out, eng::Snapshot* converted,
                   const std::function<bool()>& cancelled = {}) {
  const size_t before = out.size();
  eng::internal::CancelPoll cancel(cancelled);
  Validator v(root, out, converted);
  const bool gate = options.toleration_comparison_operators();
  if (converted != nullptr) {
    converted->nodes.reserve(static_cast<size_t>(snapshot.nodes_size()));
    converted->daemon_sets.reserve(
        static_cast<size_t>(snapshot.daemon_sets_size()));
    converted->pods.reserve(static_cast<size_t>(pods.size()));
  }

  using NamespacedName = std::pair<std::string_view, std::string_view>;
  const auto& nodes = snapshot.nodes();
  // The node names as the engine snapshot holds them: copied together into
  // the snapshot when converting (every pod looks its node up by name, here
  // and in the engine), else views into the request. The table of a few
  // thousand nodes stays in the cache: no prefetching needed.
  std::vector<std::string_view> node_name_views;
  node_name_views.reserve(static_cast<size_t>(nodes.size()));
  auto node_names = MakeUniqueIndex(
      nodes.size(), [&node_name_views](uint32_t i) -> std::string_view {
        return node_name_views[i];
      });
  for (int i = 0; i < nodes.size(); ++i) {
    if (cancel.Tick()) return false;
    // As for pods (PrefetchPodStrings): node label keys are long strings.
    if (i + 2 < nodes.size()) {
      for (const v1::Label& l : nodes[i + 2].labels()) {
        __builtin_prefetch(l.key().data());
      }
    }
    auto scope = v.path().Index("nodes", static_cast<size_t>(i));
    v.Node(nodes[i]);
    node_name_views.push_back(v.converting() ? v.snapshot()->nodes.back().name
                                             : nodes[i].name());
    Unique(node_names, i, v, "name", "node name");
  }
  const auto& dss = snapshot.daemon_sets();
  auto ds_uids =
      MakeUniqueIndex(dss.size(), [&dss](uint32_t i) -> std::string_view {
        return dss[static_cast<int>(i)].uid();
      });
  auto ds_names = MakeUniqueIndex(dss.size(), [&dss](uint32_t i) {
    const v1::DaemonSet& ds = dss[static_cast<int>(i)];
    return NamespacedName(ds.namespace_(), ds.name());
  });
  for (int i = 0; i < dss.size(); ++i) {
    if (cancel.Check()) return false;
    auto scope = v.path().Index("daemon_sets", static_cast<size_t>(i));
    const v1::DaemonSet& ds = dss[i];
    v.DaemonSet(ds, gate);
    if (!ds.uid().empty()) Unique(ds_uids, i, v, "uid", "DaemonSet uid");
    Unique(ds_names, i, v, "name", "DaemonSet namespace/name");
  }
  // The pods' identities, for the uniqueness checks to read back (views
  // that outlive a streamed pod): the converted pods, or without a
  // snapshot to convert into, a list of their own.
  std::vector<PodKey> pod_keys;
  if (converted == nullptr) pod_keys.reserve(static_cast<size_t>(pods.size()));
  const auto key_of = [&pod_keys, converted](uint32_t i) -> PodKey {
    if (converted == nullptr) return pod_keys[i];
    const eng::Pod& pod = converted->pods[i];
    return {pod.namespace_name, pod.name, pod.uid};
  };
  auto pod_uids = MakeUniqueIndex(
      pods.size(),
      [&key_of](uint32_t i) -> std::string_view { return key_of(i).uid; });
  auto pod_names = MakeUniqueIndex(pods.size(), [&key_of](uint32_t i) {
    const PodKey key = key_of(i);
    return NamespacedName(key.namespace_name, key.name);
  });
  v.set_transient(pods.reuses_pods());
  int i = 0;
  for (const v1::Pod* pod = pods.Next(); pod != nullptr;
       pod = pods.Next(), ++i) {
    if (cancel.Tick()) return false;
    const uint64_t uid_hash = pod_uids.AnnounceKey(pod->uid());
    const uint64_t name_hash =
        pod_names.AnnounceKey(NamespacedName(pod->namespace_(), pod->name()));
    auto scope = v.path().Index("pods", static_cast<size_t>(i));
    // The engine looks every pod's node up by name: point the pod at the
    // node's own copy of the name (compact, see StringCache). While
    // converting, every node so far passed validation, so a pod's node
    // name equal to a node's is valid without a second scan.
    std::string_view node_name = pod->node_name();
    bool node_name_valid = false;
    if (v.converting() && !node_name.empty()) {
      if (const int n = node_names.Find(node_name); n >= 0) {
        node_name = node_name_views[static_cast<size_t>(n)];
        node_name_valid = true;
      }
    }
    const PodKey key = v.Pod(*pod, node_name, node_name_valid);
    if (converted == nullptr) pod_keys.push_back(key);
    if (!pod->uid().empty()) Unique(pod_uids, i, uid_hash, v, "uid", "pod uid");
    Unique(pod_names, i, name_hash, v, "name", "pod namespace/name");
  }
  return out.size() == before;
}

}  // namespace

bool ValidateSnapshot(const v1::Snapshot& snapshot,
                      const v1::DecideOptions& options, std::string_view root,
                      std::vector<Violation>& out) {
  RepeatedPods pods(snapshot.pods());
  return CheckSnapshot(snapshot, pods, options, root, out, nullptr);
}

bool ValidateAndConvertSnapshot(const v1::Snapshot& snapshot,
                                const v1::DecideOptions& options,
                                std::string_view root,
                                std::vector<Violation>& out,
                                engine::Snapshot& converted) {
  RepeatedPods pods(snapshot.pods());
  return CheckSnapshot(snapshot, pods, options, root, out, &converted);
}

bool ValidateAndConvertSnapshot(const v1::Snapshot& head, PodSource& pods,
                                const v1::DecideOptions& options,
                                std::string_view root,
                                std::vector<Violation>& out,
                                engine::Snapshot* converted,
                                const std::function<bool()>& cancelled) {
  return CheckSnapshot(head, pods, options, root, out, converted, cancelled);
}

engine::Node NodeFromProto(const v1::Node& n, engine::Snapshot& storage) {
  eng::Node node;
  FillNode(n, node);
  node.labels = ToLabels(n.labels(), storage);
  return node;
}

engine::DaemonSet DaemonSetFromProto(const v1::DaemonSet& d,
                                     engine::Snapshot& storage) {
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
  ds.selector = ToSelector(d.selector(), storage);
  const v1::PodTemplate& t = d.template_();
  ds.template_labels = ToLabels(t.labels(), storage);
  ds.node_name = t.node_name();
  ds.node_selector = ToLabels(t.node_selector(), storage);
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
    strategy.node_selector = ToSelector(s.rollout_node_selector(), storage);
  }
  ds.min_ready_seconds = d.min_ready_seconds();
  ds.failed_pod_backoffs.reserve(
      static_cast<size_t>(d.failed_pod_backoffs_size()));
  for (const v1::FailedPodBackoff& b : d.failed_pod_backoffs()) {
    ds.failed_pod_backoffs.push_back(
        {b.node(), ToTime(b.last_update()),
         absl::Seconds(b.delay().seconds()) +
             absl::Nanoseconds(b.delay().nanos())});
  }
  return ds;
}

engine::Snapshot SnapshotFromProto(const v1::Snapshot& snapshot) {
  eng::Snapshot snap;
  snap.nodes.reserve(static_cast<size_t>(snapshot.nodes_size()));
  for (const v1::Node& n : snapshot.nodes()) {
    snap.nodes.push_back(NodeFromProto(n, snap));
  }
  snap.daemon_sets.reserve(static_cast<size_t>(snapshot.daemon_sets_size()));
  for (const v1::DaemonSet& d : snapshot.daemon_sets()) {
    snap.daemon_sets.push_back(DaemonSetFromProto(d, snap));
  }
  snap.pods.reserve(static_cast<size_t>(snapshot.pods_size()));
  for (const v1::Pod& p : snapshot.pods()) {
    eng::Pod& pod = snap.pods.emplace_back();
    FillPod(p, pod);
    pod.labels = ToLabels(p.labels(), snap);
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
