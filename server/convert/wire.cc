#include "server/convert/wire.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"

namespace dsd::convert {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

constexpr uint32_t kSnapshotTag =
    WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kNodeTag =
    WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kDaemonSetTag =
    WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kPodTag =
    WireFormatLite::MakeTag(3, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

// Longer than any request can be (and than an int counts).
constexpr uint32_t kMaxLength = std::numeric_limits<int32_t>::max();

absl::Status NotWireFormat(const google::protobuf::MessageLite& request) {
  return absl::InvalidArgumentError(
      "the request is not a " + request.GetTypeName() +
      " in the protobuf wire format (truncated or corrupt bytes)");
}

// Reads a length-delimited field's length (its tag read) and pushes it as
// the limit. False when it runs past the enclosing field's end (PushLimit
// would silently keep the enclosing limit) or the bytes' end.
bool PushLength(CodedInputStream& in, CodedInputStream::Limit& limit) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length) || length > kMaxLength) return false;
  const int room = in.BytesUntilLimit();  // -1: no enclosing limit
  if (room >= 0 && static_cast<int>(length) > room) return false;
  limit = in.PushLimit(static_cast<int>(length));
  return true;
}

// Parses one message field's value (its tag read) into `message`, as
// protobuf parses an element of a repeated message field.
bool ReadMessage(CodedInputStream& in, google::protobuf::MessageLite& message) {
  CodedInputStream::Limit limit;
  if (!PushLength(in, limit)) return false;
  const bool ok = message.MergePartialFromCodedStream(&in) &&
                  in.ConsumedEntireMessage() && in.BytesUntilLimit() == 0;
  in.PopLimit(limit);
  return ok;
}

// Reads one `snapshot` occurrence (its length already read and pushed as
// the limit) into `snapshot`, skipping and counting the pods. Unknown
// fields are dropped.
bool ReadSnapshotButPods(CodedInputStream& in, v1::Snapshot& snapshot,
                         int& pods) {
  while (const uint32_t tag = in.ReadTag()) {
    bool ok = true;
    if (tag == kNodeTag) {
      ok = ReadMessage(in, *snapshot.add_nodes());
    } else if (tag == kDaemonSetTag) {
      ok = ReadMessage(in, *snapshot.add_daemon_sets());
    } else if (tag == kPodTag) {
      uint32_t length = 0;
      ok = in.ReadVarint32(&length) && length <= kMaxLength &&
           in.Skip(static_cast<int>(length));
      ++pods;
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok) return false;
  }
  // The end of the bytes ends the loop too: then the length lied.
  return in.ConsumedEntireMessage() && in.BytesUntilLimit() == 0;
}

}  // namespace

absl::StatusOr<int> ReadRequestHead(const OpenBytes& open,
                                    google::protobuf::MessageLite& request,
                                    v1::Snapshot& snapshot) {
  request.Clear();
  snapshot.Clear();
  // The request's other fields (a few small ones), re-encoded as they came
  // for protobuf to parse.
  std::string rest;
  int pods = 0;
  {
    const auto stream = open(/*last=*/false);
    CodedInputStream in(stream.get());
    StringOutputStream rest_stream(&rest);
    CodedOutputStream copy(&rest_stream);
    while (const uint32_t tag = in.ReadTag()) {
      if (tag != kSnapshotTag) {
        if (!WireFormatLite::SkipField(&in, tag, &copy)) {
          return NotWireFormat(request);
        }
        continue;
      }
      CodedInputStream::Limit limit;
      if (!PushLength(in, limit) || !ReadSnapshotButPods(in, snapshot, pods)) {
        return NotWireFormat(request);
      }
      in.PopLimit(limit);
    }
    if (!in.ConsumedEntireMessage()) return NotWireFormat(request);
  }
  if (!request.ParseFromString(rest)) return NotWireFormat(request);
  return pods;
}

WirePods::WirePods(const OpenBytes& open, int count)
    : stream_(open(/*last=*/true)), count_(count) {
  in_.emplace(stream_.get());
}

const v1::Pod* WirePods::Next() {
  if (next_ >= count_ || !error_.ok()) return nullptr;
  CodedInputStream& in = *in_;
  // Pass 1 checked the structure: only a pod's own content can fail here.
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (snapshot_) {
      if (tag == 0) {
        in.PopLimit(*snapshot_);
        snapshot_.reset();
        continue;
      }
      if (tag != kPodTag) {
        WireFormatLite::SkipField(&in, tag);
        continue;
      }
      uint32_t length = 0;
      in.ReadVarint32(&length);
      const CodedInputStream::Limit limit =
          in.PushLimit(static_cast<int>(length));
      pod_.Clear();
      const bool ok =
          pod_.MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage();
      in.PopLimit(limit);
      if (!ok) {
        error_ = absl::InvalidArgumentError(
            "snapshot.pods[" + std::to_string(next_) +
            "] is not a dsd.v1.Pod in the protobuf wire format (a string "
            "that is not UTF-8, or corrupt bytes)");
        return nullptr;
      }
      ++next_;
      return &pod_;
    }
    if (tag == 0) break;  // the end, before `count_` pods: pass 1 disagrees
    if (tag != kSnapshotTag) {
      WireFormatLite::SkipField(&in, tag);
      continue;
    }
    uint32_t length = 0;
    in.ReadVarint32(&length);
    snapshot_ = in.PushLimit(static_cast<int>(length));
  }
  error_ = absl::InternalError("the request's bytes changed between passes");
  return nullptr;
}

}  // namespace dsd::convert
