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

// ValidateSnapshot, converting into `converted` when it is not null.
bool CheckSnapshot(const v1::Snapshot& snapshot, PodSource& pods,
                   const v1::DecideOptions& options, std::string_view root,
                   std::vector<Violation>& out, eng::Snapshot* converted,
                   const std::function<bool()>& cancelled = {}) {
  const size_t before = out.size();
  common::CancelPoll cancel(cancelled);
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
