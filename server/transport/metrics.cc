// Prometheus text exposition (format 0.0.4) written by hand: the format is a
// few lines per series, and a library would add a dependency for little.
#include "server/transport/metrics.h"

#include <malloc.h>

#include <charconv>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "server/transport/status.h"

namespace dsd::transport {
namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "Decide", "Explain", "Validate", "Filter", "unknown"};

// Debian's Abseil has its own string_view, which StrCat takes.
absl::string_view Abs(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

// Shortest text that reads back as the same double ("0.0025", "10").
std::string FormatDouble(double value) {
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (result.ec != std::errc()) return "NaN";
  return std::string(buffer, result.ptr);
}

size_t BucketIndex(double seconds) {
  size_t i = 0;
  while (i < kDurationBucketsSeconds.size() &&
         seconds > kDurationBucketsSeconds[i]) {
    ++i;
  }
  return i;
}

}  // namespace

std::string_view MethodName(Method method) {
  return kMethodNames[static_cast<size_t>(method)];
}

void Metrics::CallStarted() {
  started_.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CallFinished(Method method, grpc::StatusCode code,
                           absl::Duration duration, uint64_t request_bytes) {
  PerMethod& m = methods_[static_cast<size_t>(method)];
  auto code_index = static_cast<size_t>(code);
  if (code_index >= kCodeCount) {
    code_index = static_cast<size_t>(grpc::StatusCode::UNKNOWN);
  }
  m.requests[code_index].fetch_add(1, std::memory_order_relaxed);
  if (duration < absl::ZeroDuration()) duration = absl::ZeroDuration();
  m.buckets[BucketIndex(absl::ToDoubleSeconds(duration))].fetch_add(
      1, std::memory_order_relaxed);
  m.duration_sum_nanos.fetch_add(
      static_cast<uint64_t>(absl::ToInt64Nanoseconds(duration)),
      std::memory_order_relaxed);
  m.request_bytes.fetch_add(request_bytes, std::memory_order_relaxed);
  // Last, with release: a scrape that reads the gauge first (acquire) and
  // sees this call gone also sees every count above.
  in_flight_.fetch_sub(1, std::memory_order_release);
}

std::string Metrics::RenderText() const {
  // Read before the counters: see CallFinished.
  const int64_t in_flight = in_flight_.load(std::memory_order_acquire);
  std::string out;
  absl::StrAppend(&out,
                  "# HELP dsd_requests_total Finished gRPC requests by method "
                  "and status code.\n"
                  "# TYPE dsd_requests_total counter\n");
  for (size_t mi = 0; mi < kMethodCount; ++mi) {
    for (size_t ci = 0; ci < kCodeCount; ++ci) {
      const uint64_t n =
          methods_[mi].requests[ci].load(std::memory_order_relaxed);
      if (n == 0) continue;
      absl::StrAppend(&out, "dsd_requests_total{method=\"",
                      Abs(kMethodNames[mi]), "\",code=\"",
                      Abs(CodeName(static_cast<int>(ci))), "\"} ", n, "\n");
    }
  }

  absl::StrAppend(&out,
                  "# HELP dsd_request_duration_seconds Time from a request "
                  "reaching dsd to its status, in seconds.\n"
                  "# TYPE dsd_request_duration_seconds histogram\n");
  for (size_t mi = 0; mi < kMethodCount; ++mi) {
    const PerMethod& m = methods_[mi];
    uint64_t cumulative = 0;
    for (size_t bi = 0; bi < m.buckets.size(); ++bi) {
      cumulative += m.buckets[bi].load(std::memory_order_relaxed);
      const std::string le = bi < kDurationBucketsSeconds.size()
                                 ? FormatDouble(kDurationBucketsSeconds[bi])
                                 : "+Inf";
      absl::StrAppend(&out, "dsd_request_duration_seconds_bucket{method=\"",
                      Abs(kMethodNames[mi]), "\",le=\"", le, "\"} ", cumulative,
                      "\n");
    }
    const double sum_seconds = static_cast<double>(m.duration_sum_nanos.load(
                                   std::memory_order_relaxed)) /
                               1e9;
    absl::StrAppend(&out, "dsd_request_duration_seconds_sum{method=\"",
                    Abs(kMethodNames[mi]), "\"} ", FormatDouble(sum_seconds),
                    "\n", "dsd_request_duration_seconds_count{method=\"",
                    Abs(kMethodNames[mi]), "\"} ", cumulative, "\n");
  }

  absl::StrAppend(&out,
                  "# HELP dsd_request_bytes_total Serialized size of the "
                  "requests handled, in bytes.\n"
                  "# TYPE dsd_request_bytes_total counter\n");
  for (size_t mi = 0; mi < kMethodCount; ++mi) {
    absl::StrAppend(&out, "dsd_request_bytes_total{method=\"",
                    Abs(kMethodNames[mi]), "\"} ",
                    methods_[mi].request_bytes.load(std::memory_order_relaxed),
                    "\n");
  }

  absl::StrAppend(&out,
                  "# HELP dsd_requests_in_flight Requests being handled now.\n"
                  "# TYPE dsd_requests_in_flight gauge\n"
                  "dsd_requests_in_flight ",
                  in_flight, "\n");
  absl::StrAppend(&out,
                  "# HELP dsd_request_bytes_in_flight Bytes of the requests "
                  "admitted and being handled.\n"
                  "# TYPE dsd_request_bytes_in_flight gauge\n"
                  "dsd_request_bytes_in_flight ",
                  request_bytes_in_flight_.load(std::memory_order_relaxed),
                  "\n");
  // What malloc has handed out and not had back, against RSS: RSS that
  // grows while this does not is the allocator keeping freed pages, not a
  // leak. 0 under a sanitizer, whose allocator glibc does not see.
  const struct mallinfo2 heap = mallinfo2();
  absl::StrAppend(&out,
                  "# HELP dsd_heap_in_use_bytes Bytes allocated with malloc "
                  "and not freed (glibc mallinfo2: uordblks + hblkhd).\n"
                  "# TYPE dsd_heap_in_use_bytes gauge\n"
                  "dsd_heap_in_use_bytes ",
                  heap.uordblks + heap.hblkhd, "\n");
  return out;
}

}  // namespace dsd::transport
