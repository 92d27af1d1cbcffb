// In-process Prometheus metrics for the gRPC methods, without a metrics
// library: request counts by method and code, a latency histogram, request
// bytes and requests in flight, rendered in the Prometheus text exposition
// format (version 0.0.4). Served over HTTP by metrics_server.h.
#ifndef DSD_SERVER_TRANSPORT_METRICS_H_
#define DSD_SERVER_TRANSPORT_METRICS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "grpcpp/support/status_code_enum.h"

namespace dsd::transport {

// The RPCs of dsd.v1.DaemonSetScheduler, and kUnknown for any method the
// server does not have (UnknownMethodService).
enum class Method { kDecide, kExplain, kValidate, kFilter, kUnknown };
inline constexpr size_t kMethodCount = 5;

// "Decide", "Explain", "Validate", "Filter": the proto method names;
// "unknown" for kUnknown.
std::string_view MethodName(Method method);

// Upper bounds (seconds) of dsd_request_duration_seconds' buckets; +Inf is
// implicit.
inline constexpr std::array<double, 13> kDurationBucketsSeconds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// The metric values. Recording is lock-free (relaxed atomics), so calls on
// every gRPC thread never wait; rendering reads each counter once and may
// see a call half-recorded (its count, not yet its duration), which
// Prometheus tolerates. Thread-safe.
//
// Exposed series:
//   dsd_requests_total{method,code}          counter (only non-zero series)
//   dsd_request_duration_seconds{method}     histogram
//   dsd_request_bytes_total{method}          counter (serialized request size)
//   dsd_requests_in_flight                   gauge
//   dsd_request_bytes_in_flight              gauge (admitted, see
//                                            --max_request_bytes_in_flight)
// Every dsd.v1 call that reaches dsd is counted once, with the code its
// client sees, and so is every call of a method the server does not have
// (method="unknown"); grpc.health.v1 and reflection calls are not. gRPC
// rejects some calls before any handler runs, and does not tell us: a
// request over --max_request_bytes (RESOURCE_EXHAUSTED from gRPC's message
// size check), a call whose deadline passed before its request arrived in
// full, a stream over the per-connection limit (refused at the HTTP/2
// layer). Those are not counted.
class Metrics {
 public:
  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A call entered a handler (requests in flight + 1).
  void CallStarted();
  // Calls started and not finished.
  int64_t InFlight() const {
    return in_flight_.load(std::memory_order_relaxed);
  }
  // Calls started since the process began.
  uint64_t Started() const { return started_.load(std::memory_order_relaxed); }
  // The call that CallStarted counted finished with `code` after `duration`
  // (negative counts as zero); its request was `request_bytes` long.
  void CallFinished(Method method, grpc::StatusCode code,
                    absl::Duration duration, uint64_t request_bytes);

  // `delta` request bytes were admitted (> 0) or given back (< 0).
  void RequestBytesAdmitted(int64_t delta) {
    request_bytes_in_flight_.fetch_add(delta, std::memory_order_relaxed);
  }

  // The text exposition format, version 0.0.4 (Content-Type
  // "text/plain; version=0.0.4").
  std::string RenderText() const;

 private:
  // gRPC codes are 0 (OK) .. 16 (UNAUTHENTICATED).
  static constexpr size_t kCodeCount = 17;

  struct PerMethod {
    std::array<std::atomic<uint64_t>, kCodeCount> requests{};
    // Non-cumulative: bucket i counts durations in (bound[i-1], bound[i]];
    // the last slot counts durations above every bound.
    std::array<std::atomic<uint64_t>, kDurationBucketsSeconds.size() + 1>
        buckets{};
    std::atomic<uint64_t> duration_sum_nanos{0};
    std::atomic<uint64_t> request_bytes{0};
  };

  std::array<PerMethod, kMethodCount> methods_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> started_{0};
  std::atomic<int64_t> request_bytes_in_flight_{0};
};

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_METRICS_H_
