#include "client/load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dsd::client {

// Bucket layout (P = kSubBucketBits): values below 2^P get one bucket each.
// A larger value v with highest set bit e keeps its top P+1 bits, the
// mantissa m in [2^P, 2^(P+1)), and lands in bucket (e - P + 1) 2^P +
// (m - 2^P). For e = P that is v itself, so the layout is continuous.
size_t LatencyHistogram::BucketOf(uint64_t nanos) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBucketBits;
  if (nanos < kSub) return static_cast<size_t>(nanos);
  const int e = static_cast<int>(std::bit_width(nanos)) - 1;
  const uint64_t mantissa = nanos >> (e - kSubBucketBits);
  return static_cast<size_t>(
      (static_cast<uint64_t>(e - kSubBucketBits + 1) << kSubBucketBits) +
      (mantissa - kSub));
}

uint64_t LatencyHistogram::BucketLowest(size_t bucket) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBucketBits;
  if (bucket < kSub) return bucket;
  const uint64_t group = bucket >> kSubBucketBits;  // e - P + 1, >= 1
  const uint64_t mantissa = (bucket & (kSub - 1)) + kSub;
  return mantissa << (group - 1);
}

uint64_t LatencyHistogram::BucketHighest(size_t bucket) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBucketBits;
  if (bucket < kSub) return bucket;
  const uint64_t group = bucket >> kSubBucketBits;
  return BucketLowest(bucket) + ((uint64_t{1} << (group - 1)) - 1);
}

void LatencyHistogram::Record(uint64_t nanos) {
  buckets_[BucketOf(nanos)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (nanos > seen &&
         !max_.compare_exchange_weak(seen, nanos, std::memory_order_relaxed)) {
  }
}

uint64_t LatencyHistogram::ValueAtQuantile(double quantile) const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  const double clamped = std::min(1.0, std::max(0.0, quantile));
  // The rank of the wanted value, 1-based: at least one value.
  const auto rank = std::max<uint64_t>(
      1,
      static_cast<uint64_t>(std::ceil(clamped * static_cast<double>(total))));
  const uint64_t max = Max();
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(BucketHighest(i), max);
  }
  return max;
}

}  // namespace dsd::client
