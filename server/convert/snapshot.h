// dsd.v1 snapshot -> engine snapshot, validated: the entry points that walk
// a request's objects once, applying every rule (rules.h) and the checks
// across objects (unique names and uids), converting (from_proto.h) as they
// go. Uses generated protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_SNAPSHOT_H_
#define DSD_SERVER_CONVERT_SNAPSHOT_H_

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dsd/v1/dsd.pb.h"
#include "server/convert/errors.h"
#include "server/convert/selector_values.h"
#include "server/convert/wire_node.h"
#include "server/engine/types.h"

namespace dsd::convert {

// The pods of a snapshot, in order, one at a time: a large request's pods
// are validated and converted as they are read from the wire (wire.h),
// never all parsed at once. A source may reuse one message for every pod;
// the converter then copies what it keeps.
class PodSource {
 public:
  virtual ~PodSource() = default;
  // How many pods Next returns (known up front: containers are sized once).
  virtual int size() const = 0;
  // The next pod, valid until the next call; nullptr after the last one or
  // when the source failed (see the source's own error).
  virtual const v1::Pod* Next() = 0;
  // Whether Next overwrites the pod it returned before.
  virtual bool reuses_pods() const = 0;
  // Where the requirement values of the pod Next returned last are, when
  // the source took them out of its bytes (selector_values.h); null when
  // they are in the message.
  virtual SelectorValues* values() { return nullptr; }
};

// The nodes and DaemonSets of a snapshot, handed over one at a time as the
// wire reader (wire.h) parses them, each in a message it then reuses for
// the next object of its kind: a large request's nodes are never all
// parsed at once. Nodes and DaemonSets may come interleaved (protobuf
// accepts repeated fields in any order); `index` counts each kind apart.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  // A DaemonSet may be taken (swapped out); a node is read as views into
  // bytes that live until the next object (wire_node.h). A status other
  // than OK stops the reading, which then returns it. A DaemonSet's
  // requirement values are not in the message but in `values`
  // (selector_values.h), bound to it.
  virtual absl::Status Node(const WireNode& node, int index) = 0;
  virtual absl::Status DaemonSet(v1::DaemonSet& ds, int index,
                                 SelectorValues& values) = 0;
  // Before the first object, when the reader has counted them: how many
  // nodes and DaemonSets will come (at most; within the count limits), for
  // the sink to size its storage once rather than grow it.
  virtual void Reserve(int /*nodes*/, int /*daemon_sets*/) {}
};

// ValidateAndConvertSnapshot fed one object at a time: the nodes and
// DaemonSets as an ObjectSink (copying what it keeps, as for streamed
// pods), then the pods through Finish. The violations are the same, in the
// same order (every node's, then every DaemonSet's, then the pods'),
// whatever order the nodes and DaemonSets came in.
class SnapshotConverter final : public ObjectSink {
 public:
  // `options` gives the request's options when a DaemonSet arrives: the
  // wire reader parses the request's other fields before the snapshot's
  // objects, into a message that did not hold its options yet when this
  // was made (a reference taken then would be to the default instance).
  // `converted` (may be null: validation only) should be empty; its
  // strings point into storage of its own. `cancelled` (may be empty) is
  // polled every few dozen objects.
  using OptionsOf = std::function<const v1::DecideOptions&()>;
  SnapshotConverter(OptionsOf options, std::string_view root,
                    engine::Snapshot* converted,
                    const std::function<bool()>& cancelled);
  ~SnapshotConverter() override;

  // DEADLINE_EXCEEDED once `cancelled` said so (polled every few dozen
  // objects); else OK, whatever the object's violations.
  absl::Status Node(const WireNode& node, int index) override;
  absl::Status DaemonSet(v1::DaemonSet& ds, int index,
                         SelectorValues& values) override;
  void Reserve(int nodes, int daemon_sets) override;

  // The pods; then appends every violation (the nodes', the DaemonSets',
  // the pods') to `out`, at most kMaxViolations + 1 in all, as a
  // Validator does. False when there was any, or when cancelled (the
  // snapshot is then incomplete).
  bool Finish(PodSource& pods, std::vector<Violation>& out);

  int nodes() const;
  int daemon_sets() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Validates `snapshot` (paths are rooted at `root`, e.g. "snapshot") with
// the rules `options` select (Lt/Gt tolerations need the gate) and appends
// every violation to `out`. Returns false when any was found.
bool ValidateSnapshot(const v1::Snapshot& snapshot,
                      const v1::DecideOptions& options, std::string_view root,
                      std::vector<Violation>& out);

// Validates DecideOptions (rooted at `root`, e.g. "options").
bool ValidateOptions(const v1::DecideOptions& options, std::string_view root,
                     std::vector<Violation>& out);

// ValidateSnapshot and the conversion in one pass over the request (each
// object's memory is read once; a large request does not fit in the
// cache), with the pods from `pods` (those of `head` are ignored), into
// `converted` (which should be empty); without `converted`, validation
// only. The violations are those ValidateSnapshot finds; when there is
// any, `converted` is incomplete and must not be used. Repeated strings
// (label keys and values, namespaces, controller uids, pods' node names)
// become views of one occurrence in the request, which the engine then
// finds in the cache. Node and DaemonSet strings are
// views into `head`, which must outlive `converted`; pod strings are views
// into the pods when the source keeps them, else copies. `cancelled`,
// when given, is polled every few dozen objects: once it returns true the
// pass stops (the result is then incomplete; the caller answers
// DEADLINE_EXCEEDED).
bool ValidateAndConvertSnapshot(const v1::Snapshot& head, PodSource& pods,
                                const v1::DecideOptions& options,
                                std::string_view root,
                                std::vector<Violation>& out,
                                engine::Snapshot* converted,
                                const std::function<bool()>& cancelled = {});

// The same for a parsed snapshot (all its pods), as one status: the
// converted snapshot, or INVALID_ARGUMENT listing every violation (paths
// rooted at "snapshot" and "options"). The snapshot's strings point into
// `snapshot`, which must outlive it.
absl::StatusOr<engine::Snapshot> SnapshotFromProto(
    const v1::Snapshot& snapshot, const v1::DecideOptions& options = {});

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_SNAPSHOT_H_
