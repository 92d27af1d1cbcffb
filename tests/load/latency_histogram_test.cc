// The log-linear latency histogram: bucket arithmetic, percentile accuracy
// and ordering, and concurrent recording.
#include "client/load/latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace dsd::client {
namespace {

// Values spread over the whole uint64 range: every power of two and its
// neighbours, plus a multiplicative walk.
std::vector<uint64_t> SampleValues() {
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 1000; ++v) values.push_back(v);
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t p = uint64_t{1} << bit;
    values.push_back(p - 1);
    values.push_back(p);
    values.push_back(p + 1);
  }
  for (uint64_t v = 1000; v < (uint64_t{1} << 62); v = v * 3 / 2 + 7) {
    values.push_back(v);
  }
  values.push_back(UINT64_MAX);
  return values;
}

TEST(LatencyHistogramTest, EveryValueFallsInsideItsBucket) {
  for (const uint64_t v : SampleValues()) {
    const size_t b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(LatencyHistogram::BucketLowest(b), v) << v;
    EXPECT_GE(LatencyHistogram::BucketHighest(b), v) << v;
  }
}

TEST(LatencyHistogramTest, BucketsAreContiguousAndNarrow) {
  const size_t last = LatencyHistogram::BucketOf(UINT64_MAX);
  for (size_t b = 0; b < last; ++b) {
    const uint64_t lowest = LatencyHistogram::BucketLowest(b);
    const uint64_t highest = LatencyHistogram::BucketHighest(b);
    ASSERT_EQ(highest + 1, LatencyHistogram::BucketLowest(b + 1)) << b;
    // Width over lowest value: at most 1/128 (exact below 128).
    EXPECT_LE((highest - lowest) * 128, lowest) << b;
  }
  EXPECT_EQ(LatencyHistogram::BucketHighest(last), UINT64_MAX);
}

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.Max(), 0u);
  EXPECT_EQ(h.ValueAtQuantile(0.5), 0u);
}

TEST(LatencyHistogramTest, PercentilesOfAUniformSpreadAreWithinOnePercent) {
  LatencyHistogram h;
  // 1 us .. 10 ms in 1 us steps, in nanoseconds.
  for (uint64_t us = 1; us <= 10'000; ++us) h.Record(us * 1000);
  EXPECT_EQ(h.Count(), 10'000u);
  EXPECT_EQ(h.Max(), 10'000'000u);
  struct Row {
    double quantile;
    double expected;
  };
  for (const Row& row : {Row{0.5, 5e6}, Row{0.9, 9e6}, Row{0.99, 9.9e6},
                         Row{0.999, 9.99e6}, Row{1.0, 1e7}}) {
    SCOPED_TRACE(row.quantile);
    const auto got = static_cast<double>(h.ValueAtQuantile(row.quantile));
    EXPECT_GE(got, row.expected);  // rounded up to its bucket's end
    EXPECT_LE(got, row.expected * 1.01);
  }
}

TEST(LatencyHistogramTest, PercentilesAreOrderedAndCappedAtMax) {
  LatencyHistogram h;
  for (uint64_t v : {5u, 5u, 5u, 900'000u, 1'234'567u}) h.Record(v);
  const uint64_t p50 = h.ValueAtQuantile(0.5);
  const uint64_t p90 = h.ValueAtQuantile(0.9);
  const uint64_t p99 = h.ValueAtQuantile(0.99);
  const uint64_t p999 = h.ValueAtQuantile(0.999);
  EXPECT_EQ(p50, 5u);  // exact below 128
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, p999);
  EXPECT_LE(p999, h.Max());
  EXPECT_EQ(h.Max(), 1'234'567u);
  EXPECT_EQ(p999, 1'234'567u);  // capped: the bucket's end is higher
}

TEST(LatencyHistogramTest, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (uint64_t i = 0; i < 20'000; ++i) h.Record(i * 10 + t);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.Count(), 80'000u);
  EXPECT_EQ(h.Max(), 199'993u);
  EXPECT_EQ(h.ValueAtQuantile(1.0), h.Max());
}

}  // namespace
}  // namespace dsd::client
