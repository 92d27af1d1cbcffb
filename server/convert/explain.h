// Engine plan (decided with explanations) -> dsd.v1 ExplainResponse, with
// Explain's filters applied. Uses generated protobuf code and Abseil; no
// gRPC.
#ifndef DSD_SERVER_CONVERT_EXPLAIN_H_
#define DSD_SERVER_CONVERT_EXPLAIN_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "server/engine/types.h"

namespace dsd::convert {

// The explanations of `plan` (decided from `snapshot` at `evaluated_at`),
// only of request.daemon_set ("namespace/name") and request.node when they
// are set. NOT_FOUND (errors.h) when either names an object `snapshot`
// does not hold.
absl::StatusOr<v1::ExplainResponse> ExplainToProto(
    const engine::Plan& plan, const engine::Snapshot& snapshot,
    absl::Time evaluated_at, const v1::ExplainRequest& request);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_EXPLAIN_H_
