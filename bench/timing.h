// Helpers the service benchmarks share: wall-clock seconds, and request
// bytes presented as the service reads them off the wire.
#ifndef DSD_BENCH_TIMING_H_
#define DSD_BENCH_TIMING_H_

#include <chrono>
#include <memory>
#include <string>

#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/convert/wire.h"

namespace dsd::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// `bytes` (which must outlive the result) as the service reads a request.
inline convert::OpenBytes OpenArray(const std::string& bytes) {
  return [&bytes](bool /*last*/) {
    return std::make_unique<google::protobuf::io::ArrayInputStream>(
        bytes.data(), static_cast<int>(bytes.size()));
  };
}

}  // namespace dsd::bench

#endif  // DSD_BENCH_TIMING_H_
