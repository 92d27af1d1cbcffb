// Engine snapshot -> dsd.v1 request, for benchmarks and load tests that
// need the wire form of a synthetic cluster
// (tests/testing/synthetic_cluster.h).
#ifndef DSD_TESTS_TESTING_SYNTHETIC_REQUEST_H_
#define DSD_TESTS_TESTING_SYNTHETIC_REQUEST_H_

#include "absl/time/time.h"
#include "dsd/v1/dsd.pb.h"
#include "server/engine/types.h"

namespace dsd::testing {

// The request Decide would receive for `snapshot` at `now`.
v1::DecideRequest ToDecideRequest(const engine::Snapshot& snapshot,
                                  absl::Time now);

}  // namespace dsd::testing

#endif  // DSD_TESTS_TESTING_SYNTHETIC_REQUEST_H_
