// Every validation rule of a dsd.v1 request, one method per message: the
// API server's rules (pkg/apis/core/validation, pkg/apis/apps/validation;
// the semantics doc, section 10) plus request consistency. This is the file
// to edit when Kubernetes changes a rule; rules.cc says which upstream
// check each one mirrors. Used by the drivers (snapshot.h, filter.h), which
// add the checks across objects (unique names and uids). Uses generated
// protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_RULES_H_
#define DSD_SERVER_CONVERT_RULES_H_

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsd/v1/dsd.pb.h"
#include "server/convert/errors.h"
#include "server/convert/field_path.h"
#include "server/convert/internal/seen_keys.h"
#include "server/convert/internal/string_cache.h"
#include "server/convert/selector_values.h"
#include "server/convert/time.h"
#include "server/engine/types.h"

namespace dsd::convert {

// A pod's identity as the uniqueness checks read it back: views that
// outlive the pod's message (see Validator::Keep).
struct PodKey {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view uid;
};

// Checks messages against the rules and collects violations, with paths
// rendered only when something is wrong (`path()` holds the current one).
//
// With a snapshot to fill it also converts (from_proto.h), in the same pass
// over the request, as long as no violation was found: each object's
// memory is then read once (a large request does not fit in the cache),
// and the label strings it validates become canonical views (StringCache)
// that the engine then finds in the cache. After a violation the snapshot
// is incomplete and must be dropped. Not thread-safe; one per request.
class Validator {
 public:
  Validator(std::string_view root, std::vector<Violation>& out,
            engine::Snapshot* converted = nullptr)
      : path_(root), out_(&out), snap_(converted) {}

  FieldPath& path() { return path_; }

  // Where the violations go from now on (a driver that reads objects in
  // any order but reports them by kind keeps a list per kind).
  void set_out(std::vector<Violation>& out) { out_ = &out; }
  // Whether any violation was found since construction, wherever it went.
  bool found() const { return found_ != 0; }

  // While set, each object checked is overwritten by the next (objects
  // streamed from the wire, see PodSource and ObjectSink): a view kept past
  // the object is copied into the snapshot (or scratch storage) first.
  void set_transient(bool transient) { transient_ = transient; }
  std::string_view Keep(std::string_view s) {
    return transient_ && !s.empty() ? Storage().CopyString(s) : s;
  }

  bool converting() const { return snap_ != nullptr && found_ == 0; }

  // Where the next DaemonSet's requirement values are, when the wire
  // reader took them out of its bytes (null: in the message).
  void set_values(SelectorValues* values) { values_ = values; }
  engine::Snapshot* snapshot() { return snap_; }

  void Add(std::string_view leaf, std::string description) {
    ++found_;
    if (out_->size() >= kMaxViolations + 1) return;  // enough to say "more"
    out_->push_back({path_.Render(leaf), std::move(description)});
  }

  void Subdomain(std::string_view leaf, std::string_view value, bool required);

  // Replaces a valid `value` by its canonical view.
  void Namespace(std::string_view leaf, std::string_view& value);

  // A google.protobuf.Timestamp, or one WireNode read.
  template <typename TimestampT>
  void Timestamp(std::string_view leaf, const TimestampT& t) {
    if (!IsValidTimestamp(t)) Add(leaf, "is not a valid timestamp");
  }

  // Validates a label list; when converting, also fills `converted` with
  // canonical views.
  // `List`: a message's labels, or a WireNode's.
  template <typename List>
  void Labels(std::string_view leaf, const List& labels,
              engine::Labels* converted = nullptr);

  // A LabelSelectorRequirement (set operators only) or, with `node_rules`,
  // a NodeSelectorRequirement against labels (adds Gt/Lt).
  void Requirement(const v1::SelectorRequirement& r, bool node_rules);

  void Selector(const v1::LabelSelector& s);

  void Affinity(const v1::RequiredNodeAffinity& a);

  void Toleration(const v1::Toleration& t, bool comparison_operators);

  // maxUnavailable / maxSurge / partition; returns the value scaled against
  // one node's worth (only "is it zero?" matters to validation).
  bool IntOrPercent(std::string_view leaf, const v1::IntOrPercent& v,
                    bool* is_zero);

  void Strategy(const v1::UpdateStrategy& s);

  // One of a node's taints; `keys` holds the earlier taints' key and
  // effect.
  template <typename TaintT>  // v1::Taint or WireNode::Taint
  void Taint(const TaintT& t,
             internal::SeenKeys<std::pair<std::string_view, int>>& keys);

  // A node, appended to the snapshot while converting.
  template <typename NodeT>  // v1::Node or WireNode
  void Node(const NodeT& n);

  // A DaemonSet (Lt/Gt tolerations only with `comparison_operators`),
  // appended to the snapshot while converting.
  void DaemonSet(const v1::DaemonSet& ds, bool comparison_operators);

  // DecideOptions.
  void Options(const v1::DecideOptions& options);

  // One entry of the DaemonSet's failed-pod back-off (flowcontrol.Backoff:
  // 1 s doubling up to 15 min); `nodes` holds the earlier entries' nodes.
  void FailedPodBackoff(const v1::FailedPodBackoff& b,
                        internal::SeenKeys<std::string_view>& nodes);

  // Checks pod `p` and, with a snapshot, appends it: the whole pod while
  // converting, after a violation only its identity (the uniqueness checks
  // read it back from there). `node_name` is the pod's node name, or the
  // equal name of a node (`node_name_valid`: of a node that passed
  // validation). Returns the pod's identity.
  PodKey Pod(const v1::Pod& p, std::string_view node_name,
             bool node_name_valid);

 private:
  // Keep as a StringCache argument.
  struct Keeper {
    Validator* self;
    std::string_view operator()(std::string_view s) const {
      return self->Keep(s);
    }
  };
  // A StringCache argument that keeps a label's strings: always copied,
  // counted (engine::Label), whether the object is transient or not.
  struct CountedKeeper {
    Validator* self;
    std::string_view operator()(std::string_view s) const {
      return self->Storage().CopyCounted(s);
    }
  };

  // Whether `labels` equal recent_ key for key and value for value.
  template <typename List>
  bool SameAsRecent(const List& labels) const;

  // Room for `n` labels in the snapshot, carved from large allocations:
  // one call into the snapshot per few thousand labels, not per list.
  std::span<engine::Label> TakeLabels(size_t n);

  // Where label lists of objects converted only for a check go.
  engine::Snapshot& Storage();

  // The values of `r`: where the wire reader took them, or views of the
  // message's own.
  engine::RequirementValues Values(const v1::SelectorRequirement& r) const {
    if (values_ != nullptr) return values_->Of(r);
    return engine::RequirementValues(
        std::vector<std::string_view>(r.values().begin(), r.values().end()));
  }

  FieldPath path_;
  std::vector<Violation>* out_;
  size_t found_ = 0;  // violations found, including those past the cap
  engine::Snapshot* const snap_;
  std::optional<engine::Snapshot> scratch_;
  SelectorValues* values_ = nullptr;
  bool transient_ = false;
  internal::StringCache label_keys_;
  internal::StringCache label_values_;
  // The last label list that was valid: in the snapshot when converting,
  // else in one of the scratch buffers.
  std::span<const engine::Label> recent_;
  // Whether recent_ is in the snapshot (objects may then share it), or in
  // a scratch buffer (lists validated without being converted).
  bool recent_in_snapshot_ = false;
  std::array<std::vector<engine::Label>, 2> label_scratch_;
  std::span<engine::Label> label_room_;  // see TakeLabels
  std::string_view last_namespace_;      // the last valid namespace
  std::string_view last_controller_uid_;
  internal::StringCache namespaces_;
  internal::StringCache controller_uids_;
};

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_RULES_H_
