// dsd.v1 snapshot -> engine snapshot, validated: the entry points that walk
// a request's objects once, applying every rule (rules.h) and the checks
// across objects (unique names and uids), converting (from_proto.h) as they
// go. Uses generated protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_SNAPSHOT_H_
#define DSD_SERVER_CONVERT_SNAPSHOT_H_

#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dsd/v1/dsd.pb.h"
#include "server/convert/errors.h"
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
