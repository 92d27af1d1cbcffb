// Engine plan -> dsd.v1 DecideResponse (the plan contract's JSON is the
// proto3 JSON of DecideResponse). Explain's response: explain.h.
#ifndef DSD_SERVER_CONVERT_PLAN_H_
#define DSD_SERVER_CONVERT_PLAN_H_

#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "server/engine/types.h"

namespace dsd::convert {

// Fills `out` (cleared first). requeue_after is rounded up to seconds.
void PlanToProto(const engine::Plan& plan, absl::Time evaluated_at,
                 v1::DecideResponse& out);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_PLAN_H_
