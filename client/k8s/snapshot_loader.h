// Kubernetes objects as users have them (`kubectl get ... -o json` Lists,
// single objects, multi-document YAML) -> a dsd.v1 Snapshot, with
// Kubernetes' own defaulting. The server never sees Kubernetes JSON: this
// is the one place that reads it. No gRPC.
#ifndef DSD_CLIENT_K8S_SNAPSHOT_LOADER_H_
#define DSD_CLIENT_K8S_SNAPSHOT_LOADER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dsd/v1/dsd.pb.h"

namespace dsd::client {

// The input SnapshotLoader reads at most, all texts together (1 GiB).
inline constexpr int64_t kDefaultMaxInputBytes = int64_t{1} << 30;

// `text` safe to print on one terminal line: control bytes (NUL, newline,
// ESC, DEL, ...) and bytes that are not UTF-8 become \xNN; valid UTF-8 is
// kept (a backslash too, so quoted JSON escapes such as \" read as usual).
std::string Printable(std::string_view text);

// One problem in the input. ToString() joins the non-empty parts with ": "
// on one line (each part made Printable), e.g. (wrapped here)
//   ds.yaml: DaemonSet kube-system/ssd-monitor:
//       spec.template.spec.tolerations[0].operator: must be Exists or
//       Equal, got "Like"
// (object and field are empty when unknown, e.g. for a YAML syntax error).
struct InputProblem {
  std::string source;  // file name, or "<stdin>"
  std::string object;  // "Node k8s-node1", "DaemonSet ns/name", "Pod ns/name"
  std::string field;   // Kubernetes field path, e.g. spec.taints[0].effect
  std::string message;
  std::string ToString() const;
};

// Where each snapshot entry came from, to translate the server's field
// paths (snapshot.daemon_sets[2].template...) back to the user's objects.
struct ObjectOrigin {
  std::string source;
  std::string object;  // as in InputProblem::object
};

struct LoadedSnapshot {
  v1::Snapshot snapshot;
  std::vector<ObjectOrigin> nodes;        // parallel to snapshot.nodes
  std::vector<ObjectOrigin> daemon_sets;  // parallel to snapshot.daemon_sets
  std::vector<ObjectOrigin> pods;         // parallel to snapshot.pods
  std::vector<std::string> warnings;      // e.g. skipped kinds, one line each
  std::vector<InputProblem> problems;     // empty when the input is usable
};

// Accumulates input documents, then builds the snapshot.
class SnapshotLoader {
 public:
  // `max_input_bytes` (> 0) bounds the bytes of all added texts together.
  explicit SnapshotLoader(int64_t max_input_bytes = kDefaultMaxInputBytes)
      : max_input_bytes_(max_input_bytes) {}

  // Reads a file (JSON or YAML, detected from content); "-" reads stdin.
  // Unreadable files become problems, and so does a file that takes the
  // input past max_input_bytes or memory ("FILE: too large to load (...)";
  // its reading stops there, so /dev/zero ends too).
  void AddFile(const std::string& path);
  // Parses `text` from `source` (JSON or YAML, possibly multi-document),
  // counted against max_input_bytes like a file.
  void AddText(std::string_view text, const std::string& source);
  // Converts everything added: Node, apps/v1 DaemonSet, v1 Pod and apps/v1
  // ControllerRevision (for current revision hashes); `List` items are
  // flattened; other kinds are skipped with one warning each.
  //
  // Kubernetes' defaulting is applied (namespace "default", toleration
  // operator "" -> Equal, updateStrategy RollingUpdate with maxUnavailable
  // 1). Objects without metadata.uid (manifests) get "uid:<ns>/<name>". A
  // DaemonSet's current_revision_hash is the controller-revision-hash of its
  // newest ControllerRevision (owned by its uid, or ownerless in its
  // namespace and matched by its selector); without one, the hash its own
  // pods at its template generation agree on; else empty.
  //
  // Problems beyond the objects' fields: no object at all in what was
  // added ("no objects in a.yaml, b.yaml"); a string or key that is not
  // UTF-8 (named by object and field path, as for JSON, which cannot
  // carry one); memory running out ("FILE: too large to load (out of
  // memory ...)"). Never throws. Finish does not consume the texts added.
  LoadedSnapshot Finish();

  // Objects another SnapshotLoader converted (one at a time, as
  // dsd-adapter's store holds them), with their origins, problems and
  // warnings: Finish appends them after the objects of the texts, and its
  // cross-object step covers them (every DaemonSet's current_revision_hash
  // is decided again from all revisions and pods it has). They move into
  // the next Finish's result, unlike the texts.
  void AddConverted(LoadedSnapshot converted);

 private:
  struct Document;  // one added text, parsed (defined in the .cc)
  // Whether `bytes` more fit in max_input_bytes; a problem for `source`
  // otherwise.
  bool Reserve(size_t bytes, const std::string& source);
  void AddRead(std::string text, const std::string& source);

  int64_t max_input_bytes_;
  int64_t total_bytes_ = 0;           // of the texts added so far
  std::vector<std::string> sources_;  // parallel to texts_
  std::vector<std::string> texts_;
  std::vector<InputProblem> read_problems_;  // files AddFile could not read
  LoadedSnapshot converted_;                 // AddConverted's, in order
};

// "snapshot.daemon_sets[2].template.tolerations[0].operator" ->
// "DaemonSet kube-system/x: spec.template.spec.tolerations[0].operator"
// (with the source file prepended when known). Paths it cannot map are
// returned unchanged.
std::string TranslateFieldPath(const LoadedSnapshot& loaded,
                               std::string_view proto_path);

}  // namespace dsd::client

#endif  // DSD_CLIENT_K8S_SNAPSHOT_LOADER_H_
