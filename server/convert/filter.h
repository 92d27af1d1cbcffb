// Validation of a dsd.v1 FilterRequest (the scheduler-extender path): one
// DaemonSet and candidate nodes, checked with the snapshot's rules
// (rules.h), paths as the request names them ("daemon_set.selector",
// "nodes[1].name"). Uses generated protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_FILTER_H_
#define DSD_SERVER_CONVERT_FILTER_H_

#include "absl/status/status.h"
#include "dsd/v1/dsd.pb.h"

namespace dsd::convert {

// RESOURCE_EXHAUSTED over a per-object cap (limits.h), else INVALID_ARGUMENT
// listing every violation: options, then the nodes (names unique), then
// the DaemonSet. OK for a valid request (convert it with from_proto.h).
absl::Status ValidateFilterRequest(const v1::FilterRequest& request);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_FILTER_H_
