// Per-object caps on repeated fields, checked on the wire before an object
// is parsed: protobuf turns a two-byte empty element into a message of
// 50-100 bytes, so a request of a few megabytes of empty taints or values
// would parse into gigabytes. Every cap is far above what a real cluster
// uses; each is named in dsd.proto's comment on its field. Over a cap:
// RESOURCE_EXHAUSTED with a QuotaFailure naming the field path
// ("snapshot.nodes[3].taints").
#ifndef DSD_SERVER_CONVERT_LIMITS_H_
#define DSD_SERVER_CONVERT_LIMITS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/message.h"

namespace dsd::convert {

// The cap on one repeated field's elements in one object (the field's full
// name, e.g. "dsd.v1.Node.taints"); 0 for a field without a cap.
int RepeatedFieldCap(const google::protobuf::FieldDescriptor& field);

// The fewest bytes a `type` message needs to pass a cap: each element of
// a repeated field takes at least 2 (a tag and a length or a value; no
// capped field is a packed scalar), so a message of fewer bytes than twice
// its smallest cap plus one passes none, and ScanRepeatedCaps need not
// read it (SIZE_MAX: no cap below `type`).
size_t SmallestOverACap(const google::protobuf::Descriptor& type);

// Counts the repeated fields of the `type` message whose bytes `in` holds
// (up to its current limit; the stream is then at that limit), recursing
// into sub-messages. OK, RESOURCE_EXHAUSTED over a cap (the path is `path`
// plus the field's), or INVALID_ARGUMENT for bytes that are not wire
// format. Reads each tag and length once; no allocation for valid input.
absl::Status ScanRepeatedCaps(const google::protobuf::Descriptor& type,
                              google::protobuf::io::CodedInputStream& in,
                              std::string_view path);

// The same on a parsed message (Filter's typed request).
absl::Status CheckRepeatedCaps(const google::protobuf::Message& message,
                               std::string_view path);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_LIMITS_H_
