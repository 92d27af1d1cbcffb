// The one mapping from absl::Status to grpc::Status. Nothing else in dsd
// constructs a grpc::Status from an error: handlers return absl::Status
// (with typed payloads such as google.rpc.BadRequest) and the gRPC adapter
// finishes every call through ToGrpcStatus.
#ifndef DSD_SERVER_TRANSPORT_STATUS_H_
#define DSD_SERVER_TRANSPORT_STATUS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace dsd::transport {

// Messages longer than this many bytes are cut (at a UTF-8 character
// boundary) and end in "...": they travel in an HTTP/2 trailer, twice
// (grpc-message, and inside grpc-status-details-bin), and gRPC clients
// refuse response metadata over 8 KiB by default, losing the whole error.
inline constexpr size_t kMaxStatusMessageBytes = 512;
// The serialized details' bound (base64 makes it a third larger on the
// wire): statuses built by convert/errors.h stay under it; a larger one
// keeps its code and message but loses its payloads.
inline constexpr size_t kMaxStatusDetailsBytes = 4096;

// OK maps to grpc::Status::OK. Any other status keeps its code (absl and
// gRPC share the numbers; an out-of-range code becomes UNKNOWN) and its
// message, truncated to kMaxStatusMessageBytes. Its error_details (sent as
// the grpc-status-details-bin trailer) is a serialized google.rpc.Status
// with the same code and message, and one google.protobuf.Any per absl
// payload, with the payload's type URL and bytes unchanged, unless they
// would exceed kMaxStatusDetailsBytes (then none).
grpc::Status ToGrpcStatus(const absl::Status& status);

// The canonical name of the google.rpc.Code numbered `code` ("OK",
// "INVALID_ARGUMENT", ...; a grpc::StatusCode converts), as used in logs
// and metric labels; "UNKNOWN" for any other number. An int, not the enum:
// a grpc::StatusCode holding such a number would be undefined behaviour.
std::string CodeName(int code);

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_STATUS_H_
