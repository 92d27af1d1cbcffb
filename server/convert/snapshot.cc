// The driver: one pass over a request's nodes, DaemonSets and pods that
// applies the rules (rules.h) to each object, the checks across objects
// (unique names and uids, through UniqueIndex) and, while nothing is wrong,
// converts (from_proto.h). Polls for cancellation every few dozen objects.
#include "server/convert/snapshot.h"

#include <cstdint>
#include <string>
#include <utility>

#include "server/common/cancel.h"
#include "server/convert/internal/unique_index.h"
#include "server/convert/rules.h"

namespace dsd::convert {
namespace {

namespace eng = ::dsd::engine;
using internal::MakeUniqueIndex;

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

namespace {

using NamespacedName = std::pair<std::string_view, std::string_view>;

// The keys the uniqueness indexes read back, by object index (views that
// outlive a streamed object).
//
// The node names: those of the nodes converted so far are the converted
// nodes' own (the engine's copies, which pods then point at); a node
// checked after a violation, or without a snapshot to convert into, has
// its name kept in a list of its own. A node costs no second view of its
// name while the request is valid: 16 bytes for each of 50,000 nodes.
class NodeNames {
 public:
  explicit NodeNames(const eng::Snapshot* converted) : converted_(converted) {}

  void Reserve(int nodes) {
    if (converted_ == nullptr) others_.reserve(static_cast<size_t>(nodes));
  }
  // The next node, just checked: `converted` says whether it is the
  // converted snapshot's last node, else its name is `name`.
  void Add(bool converted, std::string_view name) {
    if (converted) {
      ++converted_count_;
    } else {
      others_.push_back(name);
    }
  }
  std::string_view operator[](uint32_t i) const {
    return i < converted_count_ ? converted_->nodes[i].name
                                : others_[i - converted_count_];
  }

 private:
  const eng::Snapshot* converted_;
  // Nodes 0 .. converted_count_ - 1 are converted (they come first: the
  // first violation ends the conversion), the rest are in others_.
  uint32_t converted_count_ = 0;
  std::vector<std::string_view> others_;
};
struct NodeNameOf {
  const NodeNames* names;
  std::string_view operator()(uint32_t i) const { return (*names)[i]; }
};
struct DaemonSetKey {
  std::string_view namespace_name;
  std::string_view name;
  std::string_view uid;
};
struct DaemonSetUidOf {
  const std::vector<DaemonSetKey>* keys;
  std::string_view operator()(uint32_t i) const { return (*keys)[i].uid; }
};
struct DaemonSetNameOf {
  const std::vector<DaemonSetKey>* keys;
  NamespacedName operator()(uint32_t i) const {
    const DaemonSetKey& k = (*keys)[i];
    return {k.namespace_name, k.name};
  }
};

// The one pass over a snapshot: nodes and DaemonSets as they come, then
// the pods. Each kind's violations go to a list of their own (objects may
// come interleaved) and are reported nodes first, as the snapshot's
// fields are ordered; a Validator caps each list as it caps one.
class SnapshotPass {
 public:
  SnapshotPass(SnapshotConverter::OptionsOf options, std::string_view root,
               eng::Snapshot* converted, const std::function<bool()>& cancelled,
               bool objects_outlive)
      : options_(std::move(options)),
        converted_(converted),
        cancelled_(cancelled),
        cancel_(cancelled_),
        v_(root, node_violations_, converted),
        node_name_list_(converted),
        node_names_(0, NodeNameOf{&node_name_list_}),
        ds_uids_(0, DaemonSetUidOf{&ds_keys_}),
        ds_names_(0, DaemonSetNameOf{&ds_keys_}) {
    v_.set_transient(!objects_outlive);
  }

  // False once cancelled. `NodeT`: v1::Node or WireNode.
  template <typename NodeT>
  bool Node(const NodeT& node) {
    if (cancel_.Tick()) return false;
    const int i = nodes_++;
    // Its slot in the name index is fetched while the node is checked.
    const uint64_t name_hash = node_names_.AnnounceKey(node.name());
    v_.set_out(node_violations_);
    auto scope = v_.path().Index("nodes", static_cast<size_t>(i));
    v_.Node(node);
    // The node names as the engine snapshot holds them: copied together
    // into the snapshot when converting (every pod looks its node up by
    // name, here and in the engine), else views into the request (or
    // copies, for a streamed node).
    const bool converted = v_.converting();
    node_name_list_.Add(converted,
                        converted ? std::string_view() : v_.Keep(node.name()));
    Unique(node_names_, i, name_hash, v_, "name", "node name");
    return true;
  }

  // Sized for the objects to come (ObjectSink::Reserve).
  void Reserve(int nodes, int daemon_sets) {
    if (converted_ != nullptr) {
      converted_->nodes.reserve(static_cast<size_t>(nodes));
      converted_->daemon_sets.reserve(static_cast<size_t>(daemon_sets));
    }
    node_name_list_.Reserve(nodes);
    node_names_.Reserve(nodes);
    ds_keys_.reserve(static_cast<size_t>(daemon_sets));
    ds_uids_.Reserve(daemon_sets);
    ds_names_.Reserve(daemon_sets);
  }

  // `values`: where its requirement values are, when not in `ds`.
  bool DaemonSet(const v1::DaemonSet& ds, SelectorValues* values) {
    if (cancel_.Check()) return false;
    const int i = daemon_sets_++;
    v_.set_out(ds_violations_);
    auto scope = v_.path().Index("daemon_sets", static_cast<size_t>(i));
    v_.set_values(values);
    v_.DaemonSet(ds, options_().toleration_comparison_operators());
    v_.set_values(nullptr);
    ds_keys_.push_back(
        {v_.Keep(ds.namespace_()), v_.Keep(ds.name()), v_.Keep(ds.uid())});
    if (!ds.uid().empty()) Unique(ds_uids_, i, v_, "uid", "DaemonSet uid");
    Unique(ds_names_, i, v_, "name", "DaemonSet namespace/name");
    return true;
  }

  bool Finish(PodSource& pods, std::vector<Violation>& out) {
    if (cancel_.stopped()) return false;
    for (auto* list : {&node_violations_, &ds_violations_}) {
      for (Violation& violation : *list) {
        if (out.size() >= kMaxViolations + 1) break;
        out.push_back(std::move(violation));
      }
      list->clear();
    }
    v_.set_out(out);
    if (converted_ != nullptr) {
      converted_->pods.reserve(static_cast<size_t>(pods.size()));
    }
    // The pods' identities, for the uniqueness checks to read back (views
    // that outlive a streamed pod): the converted pods, or without a
    // snapshot to convert into, a list of their own.
    std::vector<PodKey> pod_keys;
    if (converted_ == nullptr) {
      pod_keys.reserve(static_cast<size_t>(pods.size()));
    }
    const auto key_of = [&pod_keys, this](uint32_t i) -> PodKey {
      if (converted_ == nullptr) return pod_keys[i];
      const eng::Pod& pod = converted_->pods[i];
      return {pod.namespace_name, pod.name, pod.uid};
    };
    auto pod_uids = MakeUniqueIndex(
        pods.size(),
        [&key_of](uint32_t i) -> std::string_view { return key_of(i).uid; });
    auto pod_names = MakeUniqueIndex(pods.size(), [&key_of](uint32_t i) {
      const PodKey key = key_of(i);
      return NamespacedName(key.namespace_name, key.name);
    });
    v_.set_transient(pods.reuses_pods());
    int i = 0;
    for (const v1::Pod* pod = pods.Next(); pod != nullptr;
         pod = pods.Next(), ++i) {
      if (cancel_.Tick()) return false;
      const uint64_t uid_hash = pod_uids.AnnounceKey(pod->uid());
      const uint64_t name_hash =
          pod_names.AnnounceKey(NamespacedName(pod->namespace_(), pod->name()));
      auto scope = v_.path().Index("pods", static_cast<size_t>(i));
      // The engine looks every pod's node up by name: point the pod at the
      // node's own copy of the name (compact, see StringCache). While
      // converting, every node so far passed validation, so a pod's node
      // name equal to a node's is valid without a second scan.
      std::string_view node_name = pod->node_name();
      bool node_name_valid = false;
      int32_t node_index = eng::Pod::kNodeNotLooked;
      if (v_.converting() && !node_name.empty()) {
        node_index = eng::Pod::kNoSuchNode;
        if (const int n = node_names_.Find(node_name); n >= 0) {
          node_name = node_name_list_[static_cast<uint32_t>(n)];
          node_name_valid = true;
          node_index = n;
        }
      }
      v_.set_values(pods.values());
      const PodKey key = v_.Pod(*pod, node_name, node_name_valid);
      v_.set_values(nullptr);
      // Every node is in, and valid: the engine need not look it up again.
      if (v_.converting()) converted_->pods.back().node_index = node_index;
      if (converted_ == nullptr) pod_keys.push_back(key);
      if (!pod->uid().empty()) {
        Unique(pod_uids, i, uid_hash, v_, "uid", "pod uid");
      }
      Unique(pod_names, i, name_hash, v_, "name", "pod namespace/name");
    }
    return !v_.found();
  }

  int nodes() const { return nodes_; }
  int daemon_sets() const { return daemon_sets_; }

 private:
  const SnapshotConverter::OptionsOf options_;
  eng::Snapshot* const converted_;
  const std::function<bool()> cancelled_;  // a copy: cancel_ refers to it
  common::CancelPoll cancel_;
  std::vector<Violation> node_violations_;
  std::vector<Violation> ds_violations_;
  Validator v_;
  int nodes_ = 0;
  int daemon_sets_ = 0;
  NodeNames node_name_list_;
  internal::UniqueIndex<NodeNameOf> node_names_;
  std::vector<DaemonSetKey> ds_keys_;
  internal::UniqueIndex<DaemonSetUidOf> ds_uids_;
  internal::UniqueIndex<DaemonSetNameOf> ds_names_;
};

}  // namespace

struct SnapshotConverter::State : SnapshotPass {
  using SnapshotPass::SnapshotPass;
};

SnapshotConverter::SnapshotConverter(OptionsOf options, std::string_view root,
                                     engine::Snapshot* converted,
                                     const std::function<bool()>& cancelled)
    : state_(std::make_unique<State>(std::move(options), root, converted,
                                     cancelled,
                                     /*objects_outlive=*/false)) {}

SnapshotConverter::~SnapshotConverter() = default;

absl::Status SnapshotConverter::Node(const WireNode& node, int /*index*/) {
  if (state_->Node(node)) return absl::OkStatus();
  return absl::DeadlineExceededError("cancelled while reading the nodes");
}

void SnapshotConverter::Reserve(int nodes, int daemon_sets) {
  state_->Reserve(nodes, daemon_sets);
}

absl::Status SnapshotConverter::DaemonSet(v1::DaemonSet& ds, int /*index*/,
                                          SelectorValues& values) {
  if (state_->DaemonSet(ds, &values)) return absl::OkStatus();
  return absl::DeadlineExceededError("cancelled while reading the DaemonSets");
}

bool SnapshotConverter::Finish(PodSource& pods, std::vector<Violation>& out) {
  return state_->Finish(pods, out);
}

int SnapshotConverter::nodes() const { return state_->nodes(); }
int SnapshotConverter::daemon_sets() const { return state_->daemon_sets(); }

namespace {

// ValidateSnapshot, converting into `converted` when it is not null: the
// pass over a parsed snapshot, whose strings the engine snapshot may view.
bool CheckSnapshot(const v1::Snapshot& snapshot, PodSource& pods,
                   const v1::DecideOptions& options, std::string_view root,
                   std::vector<Violation>& out, eng::Snapshot* converted,
                   const std::function<bool()>& cancelled = {}) {
  SnapshotPass pass(
      [&options]() -> const v1::DecideOptions& { return options; }, root,
      converted, cancelled, /*objects_outlive=*/true);
  const auto& nodes = snapshot.nodes();
  pass.Reserve(nodes.size(), snapshot.daemon_sets_size());
  for (int i = 0; i < nodes.size(); ++i) {
    // As for pods (PrefetchPodStrings): node label keys are long strings.
    if (i + 2 < nodes.size()) {
      for (const v1::Label& l : nodes[i + 2].labels()) {
        __builtin_prefetch(l.key().data());
      }
    }
    if (!pass.Node(nodes[i])) return false;
  }
  for (const v1::DaemonSet& ds : snapshot.daemon_sets()) {
    if (!pass.DaemonSet(ds, nullptr)) return false;
  }
  return pass.Finish(pods, out);
}

}  // namespace

bool ValidateOptions(const v1::DecideOptions& options, std::string_view root,
                     std::vector<Violation>& out) {
  const size_t before = out.size();
  Validator v(root, out);
  v.Options(options);
  return out.size() == before;
}

bool ValidateSnapshot(const v1::Snapshot& snapshot,
                      const v1::DecideOptions& options, std::string_view root,
                      std::vector<Violation>& out) {
  RepeatedPods pods(snapshot.pods());
  return CheckSnapshot(snapshot, pods, options, root, out, nullptr);
}

bool ValidateAndConvertSnapshot(const v1::Snapshot& head, PodSource& pods,
                                const v1::DecideOptions& options,
                                std::string_view root,
                                std::vector<Violation>& out,
                                engine::Snapshot* converted,
                                const std::function<bool()>& cancelled) {
  return CheckSnapshot(head, pods, options, root, out, converted, cancelled);
}

absl::StatusOr<engine::Snapshot> SnapshotFromProto(
    const v1::Snapshot& snapshot, const v1::DecideOptions& options) {
  std::vector<Violation> violations;
  ValidateOptions(options, "options", violations);
  engine::Snapshot converted;
  RepeatedPods pods(snapshot.pods());
  CheckSnapshot(snapshot, pods, options, "snapshot", violations, &converted);
  if (!violations.empty()) return InvalidArgument(violations);
  return converted;
}

}  // namespace dsd::convert
