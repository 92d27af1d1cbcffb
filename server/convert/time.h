// google.protobuf.Timestamp <-> absl::Time, and the one rule for a
// timestamp's range. Every timestamp of a request and of a response goes
// through here. Uses generated protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_TIME_H_
#define DSD_SERVER_CONVERT_TIME_H_

#include <cstdint>
#include <limits>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace dsd::convert {

// Whether `t` is in google.protobuf.Timestamp's range, 0001-01-01T00:00:00Z
// to 9999-12-31T23:59:59.999999999Z with nanos in [0, 1e9): the times RFC
// 3339 can print, so that a response built from them prints too.
// (`Timestamp`: google.protobuf.Timestamp, or any type of its accessors.)
template <typename Timestamp>
inline bool IsValidTimestamp(const Timestamp& t) {
  return t.seconds() >= -62135596800 && t.seconds() <= 253402300799 &&
         t.nanos() >= 0 && t.nanos() <= 999999999;
}

// FromUnixSeconds(s) + Nanoseconds(n), for any `t` (valid or not). Valid
// timestamps go through FromUnixNanos, which is inline (the Duration
// addition is an out-of-line call, twice per pod) and exact here: the
// nanoseconds since the epoch fit an int64 up to the year 2262 and
// FromUnixNanos floors like the sum does. Other values take the sum.
// Inline: it runs for every pod's timestamps.
template <typename Timestamp>
inline absl::Time TimeFromProto(const Timestamp& t) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kFastSeconds =
      std::numeric_limits<int64_t>::max() / kNanosPerSecond - 1;
  if (t.nanos() >= 0 && t.nanos() < kNanosPerSecond &&
      t.seconds() > -kFastSeconds && t.seconds() < kFastSeconds) {
    return absl::FromUnixNanos(t.seconds() * kNanosPerSecond + t.nanos());
  }
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

// Sets `out` to `t` (seconds floored, nanos in [0, 1e9)).
void SetTimestamp(absl::Time t, google::protobuf::Timestamp& out);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_TIME_H_
