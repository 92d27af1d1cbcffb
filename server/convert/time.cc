#include "server/convert/time.h"

namespace dsd::convert {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp& out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

}  // namespace dsd::convert
