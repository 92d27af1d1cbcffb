// A log-linear latency histogram in the style of HdrHistogram: constant
// memory, lock-free recording from many threads, percentiles within 1/128
// (0.8%) of the recorded value. Used by `dsdctl load`.
#ifndef DSD_CLIENT_LOAD_LATENCY_HISTOGRAM_H_
#define DSD_CLIENT_LOAD_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace dsd::client {

// Counts values (nanoseconds, any uint64) in buckets: exact below 128, then
// 64 buckets per power of two, so a bucket is at most 1/128 of its values
// wide. Record and every reader are thread-safe (relaxed atomics: a reader
// running concurrently with Record sees some consistent-enough subset).
class LatencyHistogram {
 public:
  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Record(uint64_t nanos);

  // Number of recorded values.
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  // The largest recorded value, exactly; 0 when empty.
  uint64_t Max() const { return max_.load(std::memory_order_relaxed); }
  // The smallest value v such that at least `quantile` (0..1) of the
  // recorded values are <= v, rounded up to the end of its bucket (as
  // HdrHistogram's "highest equivalent value") but never above Max(). So
  // p50 <= p90 <= ... <= Max(). 0 when empty.
  uint64_t ValueAtQuantile(double quantile) const;

  // Bucket arithmetic, exposed for tests.
  static size_t BucketOf(uint64_t nanos);
  static uint64_t BucketLowest(size_t bucket);
  static uint64_t BucketHighest(size_t bucket);

 private:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets
  static constexpr size_t kBuckets = (64 - kSubBucketBits + 1)
                                     << kSubBucketBits;

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace dsd::client

#endif  // DSD_CLIENT_LOAD_LATENCY_HISTOGRAM_H_
