#include "server/convert/wire.h"

#include <cstdint>
#include <string>
#include <utility>

#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/convert/errors.h"
#include "server/convert/internal/wire_format.h"
#include "server/convert/limits.h"

namespace dsd::convert {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using internal::LengthDelimited;
using internal::PushLength;
using internal::ReadLength;
using internal::ReadTag;
using internal::SkipField;

constexpr uint32_t kSnapshotTag = LengthDelimited(1);
constexpr uint32_t kNodeTag = LengthDelimited(1);
constexpr uint32_t kDaemonSetTag = LengthDelimited(2);
constexpr uint32_t kPodTag = LengthDelimited(3);

absl::Status NotWireFormat(const google::protobuf::MessageLite& request) {
  return absl::InvalidArgumentError(
      "the request is not a " + request.GetTypeName() +
      " in the protobuf wire format (truncated or corrupt bytes)");
}

// Over a count limit: RESOURCE_EXHAUSTED while reading, before the
// objects past the limit are parsed.
absl::Status OverLimit(const char* subject, size_t limit) {
  return LimitExceeded(
      subject, "more than " + std::to_string(limit) +
                   " objects exceed the server's limit of " +
                   std::to_string(limit) +
                   "; split the request or raise the server's --max_* flag");
}

absl::Status Bad(bool& bad) {
  bad = true;
  return absl::OkStatus();
}

bool Over(int count, size_t limit) {
  return limit != 0 && static_cast<size_t>(count) > limit;
}

std::string Indexed(const char* field, int index);

// An object whose selector values SelectorValues took but could not bind
// back to its parsed message: a bug of ours, not of the request's.
absl::Status ValuesNotPlaced(const char* field, int index) {
  return absl::InternalError(Indexed(field, index) +
                             ": its selector values could not be placed; "
                             "nothing was decided");
}

// A read buffer grown past this for one large object is not kept for the
// rest.
constexpr size_t kKeepBufferBytes = 64 << 10;

// A pod this large may pass a per-object cap (limits.h): pass 1 scans it,
// and pass 2 takes its requirement values out (selector_values.h).
size_t LargePodBytes() {
  static const size_t bytes = SmallestOverACap(*v1::Pod::descriptor());
  return bytes;
}

// Reads the object whose length-delimited value (its tag read) comes next
// into `bytes`, and checks it against the per-object caps (limits.h): an
// object large enough to pass one is scanned before protobuf parses it
// (`scan_from`: SmallestOverACap of its type). Its path is `field`[`index`].
// `bad` is set for bytes that are not wire format.
absl::Status ReadObject(CodedInputStream& in,
                        const google::protobuf::Descriptor& type,
                        size_t scan_from, const char* field, int index,
                        std::string& bytes, bool& bad) {
  int length = 0;
  if (!ReadLength(in, length) || !in.ReadString(&bytes, length)) {
    bad = true;
    return absl::OkStatus();
  }
  if (static_cast<size_t>(length) < scan_from) return absl::OkStatus();
  CodedInputStream scan(reinterpret_cast<const uint8_t*>(bytes.data()), length);
  absl::Status st = ScanRepeatedCaps(type, scan, Indexed(field, index));
  if (absl::IsInvalidArgument(st)) {
    bad = true;
    return absl::OkStatus();
  }
  return st;
}

std::string Indexed(const char* field, int index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

// Pass 1's state across the snapshot's occurrences: the counts, and the
// messages objects are parsed into, each reused for the next object.
struct ObjectReader {
  // Null when the request's other fields did not parse (the read fails
  // then, once the bytes before the failure have been checked).
  ObjectSink* sink = nullptr;
  int nodes = 0;
  int daemon_sets = 0;
  int pods = 0;
  WireNode node;  // reused: its lists keep their memory
  // Emptied rather than cleared after each one (see below).
  v1::DaemonSet daemon_set;
  std::string bytes;  // the object being read
};

// Reads one `snapshot` occurrence (its length already read and pushed as
// the limit), handing its nodes and DaemonSets to the sink and skipping and
// counting the pods. Unknown fields are dropped. Each object large enough
// to pass a per-object cap is checked against the caps before it is parsed
// (a smaller one is left to protobuf's parse, which rejects what the scan
// would); a count limit holds as soon as it is passed. `bad` is set for
// bytes that are not wire format.
absl::Status ReadSnapshotButPods(CodedInputStream& in, ObjectReader& r,
                                 const WireLimits& limits, bool& bad) {
  static const size_t scan_nodes = SmallestOverACap(*v1::Node::descriptor());
  static const size_t scan_daemon_sets =
      SmallestOverACap(*v1::DaemonSet::descriptor());
  const size_t scan_pods = LargePodBytes();
  while (const uint32_t tag = ReadTag(in, bad)) {
    if (tag == kNodeTag || tag == kDaemonSetTag) {
      const bool node = tag == kNodeTag;
      const char* field = node ? "snapshot.nodes" : "snapshot.daemon_sets";
      int& count = node ? r.nodes : r.daemon_sets;
      const int i = count;
      const size_t limit = node ? limits.max_nodes : limits.max_daemon_sets;
      if (Over(i + 1, limit)) return OverLimit(field, limit);
      const google::protobuf::Descriptor& type =
          node ? *v1::Node::descriptor() : *v1::DaemonSet::descriptor();
      if (auto st = ReadObject(in, type, node ? scan_nodes : scan_daemon_sets,
                               field, i, r.bytes, bad);
          !st.ok() || bad) {
        return st;
      }
      // A node is read without protobuf (wire_node.h). A DaemonSet's
      // requirement values are taken out of its bytes first
      // (selector_values.h); protobuf parses the rest.
      SelectorValues values;
      if (node ? !r.node.Read(r.bytes)
               : !values.Take(r.bytes) ||
                     !r.daemon_set.ParsePartialFromString(r.bytes)) {
        // A string that is not UTF-8, or (an object too small to scan for
        // caps) corrupt bytes.
        return absl::InvalidArgumentError(
            Indexed(field, i) + " is not a " + type.full_name() +
            " in the protobuf wire format (a string that is not UTF-8, or "
            "corrupt bytes)");
      }
      if (!node && !values.Bind(r.daemon_set)) {
        return ValuesNotPlaced(field, i);
      }
      ++count;
      if (r.sink != nullptr) {
        absl::Status st = node ? r.sink->Node(r.node, i)
                               : r.sink->DaemonSet(r.daemon_set, i, values);
        if (!st.ok()) return st;
      }
      // A DaemonSet's strings go once the sink has it (a cleared message
      // would keep them for the next one: a required affinity may list
      // 100,000 values), and a buffer grown for one large object is not
      // kept for the rest.
      if (!node) v1::DaemonSet().Swap(&r.daemon_set);
      if (r.bytes.capacity() > kKeepBufferBytes) std::string().swap(r.bytes);
    } else if (tag == kPodTag) {
      if (Over(r.pods + 1, limits.max_pods)) {
        return OverLimit("snapshot.pods", limits.max_pods);
      }
      int length = 0;
      if (!ReadLength(in, length)) return Bad(bad);
      if (static_cast<size_t>(length) < scan_pods) {
        if (!in.Skip(length)) return Bad(bad);
      } else {
        // Scanned where it is: pass 1 needs no copy of a pod's bytes.
        const CodedInputStream::Limit pod = in.PushLimit(length);
        absl::Status st = ScanRepeatedCaps(*v1::Pod::descriptor(), in,
                                           Indexed("snapshot.pods", r.pods));
        if (absl::IsInvalidArgument(st)) return Bad(bad);
        if (!st.ok()) return st;
        // The bytes may end before the pod's length does.
        if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) {
          return Bad(bad);
        }
        in.PopLimit(pod);
      }
      ++r.pods;
    } else if (!SkipField(in, tag, nullptr)) {
      return Bad(bad);
    }
  }
  // The end of the bytes ends the loop too: then the length lied.
  bad = bad || !in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0;
  return absl::OkStatus();
}

// The snapshot's objects as the quick pass counts them by their tags.
struct ObjectCount {
  int nodes = 0;
  int daemon_sets = 0;
  int pods = 0;
  // Every object was counted: the count did not stop early.
  bool complete = true;
};

// Counts the objects of one `snapshot` occurrence (its length pushed as
// the limit), skipping each by its length, and moves to the occurrence's
// end. Past bytes that are not wire format, or a count past its limit
// (pass 1 stops there, so no more work is done here than pass 1 does
// before it stops), it stops counting; pass 1 reports either. False where
// a skip of the whole occurrence is: the bytes end before it does.
bool CountObjects(CodedInputStream& in, const WireLimits& limits,
                  ObjectCount& count) {
  bool bad = false;
  while (const uint32_t tag = ReadTag(in, bad)) {
    count.nodes += tag == kNodeTag ? 1 : 0;
    count.daemon_sets += tag == kDaemonSetTag ? 1 : 0;
    count.pods += tag == kPodTag ? 1 : 0;
    if (Over(count.nodes, limits.max_nodes) ||
        Over(count.daemon_sets, limits.max_daemon_sets) ||
        Over(count.pods, limits.max_pods) || !SkipField(in, tag, nullptr)) {
      count.complete = false;
      break;
    }
  }
  count.complete = count.complete && !bad;
  return in.Skip(in.BytesUntilLimit());
}

// Reads the request's fields but its snapshot into `request` (they are
// re-encoded as they came for protobuf to parse), and counts the
// snapshot's objects. False when the fields do not parse, or the bytes are
// not wire format at the top level. `size` is set to the bytes read.
bool ReadAllButSnapshot(const OpenBytes& open,
                        google::protobuf::MessageLite& request,
                        const WireLimits& limits, int64_t& size,
                        ObjectCount& count) {
  std::string rest;
  {
    const auto stream = open(/*last=*/false);
    CodedInputStream in(stream.get());
    StringOutputStream rest_stream(&rest);
    CodedOutputStream copy(&rest_stream);
    bool bad = false;
    while (const uint32_t tag = ReadTag(in, bad)) {
      if (tag == kSnapshotTag) {
        CodedInputStream::Limit limit;
        if (!PushLength(in, limit) || !CountObjects(in, limits, count)) {
          return false;
        }
        in.PopLimit(limit);
      } else if (!SkipField(in, tag, &copy)) {
        return false;
      }
    }
    if (bad || !in.ConsumedEntireMessage()) return false;
    size = in.CurrentPosition();
  }
  return request.ParseFromString(rest);
}

// The ObjectSink of the ReadRequestHead that collects the objects.
class CollectObjects final : public ObjectSink {
 public:
  explicit CollectObjects(v1::Snapshot& snapshot) : snapshot_(snapshot) {}
  absl::Status Node(const WireNode& node, int /*index*/) override {
    node.CopyTo(*snapshot_.add_nodes());
    return absl::OkStatus();
  }
  absl::Status DaemonSet(v1::DaemonSet& ds, int /*index*/,
                         SelectorValues& values) override {
    values.Restore(ds);
    snapshot_.add_daemon_sets()->Swap(&ds);
    return absl::OkStatus();
  }

 private:
  v1::Snapshot& snapshot_;
};

}  // namespace

absl::StatusOr<int> ReadRequestHead(const OpenBytes& open,
                                    google::protobuf::MessageLite& request,
                                    ObjectSink& objects,
                                    const WireLimits& limits, int64_t* size) {
  request.Clear();
  // The request's other fields first (a quick pass: the snapshot is
  // skipped by its length): the sink may need them (its options) for the
  // first object. When they do not parse, the objects are still read, for
  // nothing but their checks: a limit passed or a malformed object earlier
  // in the bytes is reported first, as one pass over the bytes would.
  int64_t bytes_read = 0;
  ObjectCount count;
  const bool head_ok =
      ReadAllButSnapshot(open, request, limits, bytes_read, count);
  ObjectReader reader;
  reader.sink = head_ok ? &objects : nullptr;
  // A count cut short (a limit passed, bytes that are not wire format)
  // comes before a read that fails: no room is made for it.
  if (head_ok && count.complete) {
    objects.Reserve(count.nodes, count.daemon_sets);
  }
  // Without pods there is no pass 2: this pass is the last, and may free
  // the bytes behind it (a request of nodes alone shrinks as it converts).
  const bool last = head_ok && count.complete && count.pods == 0;
  {
    const auto stream = open(last);
    CodedInputStream in(stream.get());
    bool bad = false;
    while (const uint32_t tag = ReadTag(in, bad)) {
      if (tag != kSnapshotTag) {
        if (!SkipField(in, tag, nullptr)) return NotWireFormat(request);
        continue;
      }
      CodedInputStream::Limit limit;
      if (!PushLength(in, limit)) return NotWireFormat(request);
      if (auto st = ReadSnapshotButPods(in, reader, limits, bad); !st.ok()) {
        return st;
      }
      if (bad) return NotWireFormat(request);
      in.PopLimit(limit);
    }
    if (bad || !in.ConsumedEntireMessage()) return NotWireFormat(request);
  }
  if (!head_ok) return NotWireFormat(request);
  if (size != nullptr) *size = bytes_read;
  return reader.pods;
}

absl::StatusOr<int> ReadRequestHead(const OpenBytes& open,
                                    google::protobuf::MessageLite& request,
                                    v1::Snapshot& snapshot,
                                    const WireLimits& limits, int64_t* size) {
  snapshot.Clear();
  CollectObjects sink(snapshot);
  return ReadRequestHead(open, request, sink, limits, size);
}

WirePods::WirePods(const OpenBytes& open, int count) : count_(count) {
  if (count == 0) return;  // then pass 1 was the last (ReadRequestHead)
  stream_ = open(/*last=*/true);
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
      pod_.Clear();
      bool ok = false;
      took_ = length >= LargePodBytes();
      if (took_) {
        ok = in.ReadString(&bytes_, static_cast<int>(length)) &&
             values_.TakeFromPod(bytes_) && pod_.ParsePartialFromString(bytes_);
        if (ok && !values_.Bind(pod_)) {
          error_ = ValuesNotPlaced("snapshot.pods", next_);
          return nullptr;
        }
        if (bytes_.capacity() > kKeepBufferBytes) std::string().swap(bytes_);
      } else {
        const CodedInputStream::Limit limit =
            in.PushLimit(static_cast<int>(length));
        ok =
            pod_.MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage();
        in.PopLimit(limit);
      }
      if (!ok) {
        error_ = absl::InvalidArgumentError(
            Indexed("snapshot.pods", next_) +
            " is not a dsd.v1.Pod in the protobuf wire format (a string "
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
