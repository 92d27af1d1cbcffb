// Engine plan -> dsd.v1 DecideResponse / ExplainResponse (the plan
// contract's JSON is the proto3 JSON of DecideResponse).
#ifndef DSD_SERVER_CONVERT_PLAN_H_
#define DSD_SERVER_CONVERT_PLAN_H_

#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "server/engine/types.h"

namespace dsd::convert {

// Fills `out` (cleared first). requeue_after is rounded up to seconds.
void PlanToProto(const engine::Plan& plan, absl::Time evaluated_at,
                 v1::DecideResponse& out);

void SetTimestamp(absl::Time t, google::protobuf::Timestamp& out);
absl::Time TimeFromProto(const google::protobuf::Timestamp& t);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_PLAN_H_
