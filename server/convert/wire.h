// Reading a request from its wire bytes without ever holding its objects
// parsed at once. A parsed dsd.v1.Pod takes about 1 KB of memory, five
// times its encoding: a 5,000-node request of 35 MB parses into 180 MB; a
// node with one label, 25 bytes on the wire, about 300. So Decide, Explain
// and Validate read their request in two passes over the bytes:
//   1. ReadRequestHead parses every field of the request except the
//      snapshot (a few small ones) and counts the snapshot's objects by
//      their tags, for the sink to size its storage; then it hands the
//      nodes and DaemonSets one by one to an ObjectSink (snapshot.h),
//      each parsed into the same message (with protobuf's own parser, so
//      merging and UTF-8 checks are protobuf's; a DaemonSet's requirement
//      values are taken out of its bytes first, selector_values.h), and
//      counts the pods;
//   2. WirePods returns the pods one by one, each parsed into the same
//      message, for convert to check and copy what it keeps.
// Field 1 of every such request (DecideRequest, ExplainRequest,
// ValidateRequest) is its `Snapshot snapshot`, whose field 3 is `pods`.
#ifndef DSD_SERVER_CONVERT_WIRE_H_
#define DSD_SERVER_CONVERT_WIRE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "google/protobuf/message_lite.h"
#include "server/convert/snapshot.h"

namespace dsd::convert {

// Opens a fresh stream over the same request bytes, once per pass (pass 1
// opens two: the request's other fields, then the snapshot's). `last`
// is set for the last pass (pass 2, or pass 1's second stream when there
// are no pods): that stream may free the bytes it has passed (the
// converted snapshot then grows while the request shrinks).
using OpenBytes =
    std::function<std::unique_ptr<google::protobuf::io::ZeroCopyInputStream>(
        bool last)>;

// The count limits pass 1 enforces as it reads (0: no limit).
struct WireLimits {
  size_t max_nodes = 0;
  size_t max_daemon_sets = 0;
  size_t max_pods = 0;
};

// Pass 1: parses the request's fields but its snapshot into `request`
// (whose own `snapshot` stays empty), then hands the snapshot's nodes and
// DaemonSets to `objects` in the order they come (only once `request` is
// parsed: the sink may read its options), and returns how many pods there
// are. INVALID_ARGUMENT when the bytes are not a `request` in the protobuf
// wire format (exactly the bytes protobuf's parser rejects);
// RESOURCE_EXHAUSTED as soon as a count passes `limits`, or an object a
// per-object cap (limits.h, checked before the object is parsed), naming
// the field path; a status from `objects` as it comes. The first problem
// in the bytes is the one reported, as by one pass over them. `size`, when
// given, is set to the request's size in bytes.
absl::StatusOr<int> ReadRequestHead(const OpenBytes& open,
                                    google::protobuf::MessageLite& request,
                                    ObjectSink& objects,
                                    const WireLimits& limits = {},
                                    int64_t* size = nullptr);

// The same, collecting the nodes and DaemonSets into `snapshot` (for tests
// and tools: it holds them all parsed).
absl::StatusOr<int> ReadRequestHead(const OpenBytes& open,
                                    google::protobuf::MessageLite& request,
                                    v1::Snapshot& snapshot,
                                    const WireLimits& limits = {},
                                    int64_t* size = nullptr);

// Pass 2: the snapshot's pods in order, each parsed into the same message.
// Pass 1 must have accepted the bytes; a pod that does not parse (a string
// that is not UTF-8, say) ends the pods early and sets error().
class WirePods final : public PodSource {
 public:
  WirePods(const OpenBytes& open, int count);

  int size() const override { return count_; }
  const v1::Pod* Next() override;
  bool reuses_pods() const override { return true; }
  // A pod large enough to pass a per-object cap (limits.h) is read into a
  // buffer and its requirement values taken out (selector_values.h): an
  // unscheduled pod's affinity may list 100,000.
  SelectorValues* values() override { return took_ ? &values_ : nullptr; }

  // OK, or INVALID_ARGUMENT naming the pod that did not parse.
  absl::Status error() const { return error_; }

 private:
  std::unique_ptr<google::protobuf::io::ZeroCopyInputStream> stream_;
  std::optional<google::protobuf::io::CodedInputStream> in_;
  int count_;
  int next_ = 0;
  // Inside a `snapshot` field: the limit to pop at its end.
  std::optional<google::protobuf::io::CodedInputStream::Limit> snapshot_;
  v1::Pod pod_;
  std::string bytes_;  // a large pod's
  SelectorValues values_;
  bool took_ = false;  // values_ holds pod_'s values
  absl::Status error_;
};

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_WIRE_H_
