#include "holomush/loadgen/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace holomush::loadgen {
namespace {

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 50);
  EXPECT_EQ(h.Percentile(0.9), 90);
  EXPECT_EQ(h.Percentile(0.99), 99);
  EXPECT_EQ(h.Percentile(1.0), 100);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, PercentilesStayWithinBucketPrecision) {
  std::mt19937_64 gen(1);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // around a millisecond, long tail
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<int64_t>(dist(gen));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const int64_t exact = values[static_cast<size_t>(std::llround(q * values.size())) - 1];
    const int64_t got = h.Percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 64)) << q;
  }
  EXPECT_EQ(h.Percentile(1.0), values.back());
  EXPECT_EQ(h.max(), values.back());
}

TEST(LatencyHistogramTest, MaxIsExactAndPercentilesNeverExceedIt) {
  LatencyHistogram h;
  h.Record(1'000'001);
  EXPECT_EQ(h.max(), 1'000'001);
  EXPECT_EQ(h.Percentile(0.5), 1'000'001);
  EXPECT_EQ(h.Percentile(0.999), 1'000'001);
}

TEST(LatencyHistogramTest, BucketsCoverTheWholeRangeInOrder) {
  int64_t last_upper = -1;
  for (size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
    const int64_t upper = LatencyHistogram::BucketUpper(b);
    ASSERT_GT(upper, last_upper) << b;
    last_upper = upper;
  }
  for (int64_t v : {int64_t{0}, int64_t{127}, int64_t{128}, int64_t{129}, int64_t{1} << 20,
                    (int64_t{1} << 40) + 12345, INT64_MAX}) {
    const size_t b = LatencyHistogram::BucketOf(v);
    ASSERT_LT(b, LatencyHistogram::kBuckets);
    EXPECT_LE(v, LatencyHistogram::BucketUpper(b)) << v;
    if (b > 0) {
      EXPECT_GT(v, LatencyHistogram::BucketUpper(b - 1)) << v;
    }
  }
}

TEST(LatencyHistogramTest, NegativeValuesCountAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.Percentile(0.5), 0);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (int i = 0; i < 1000; ++i) {
    (i % 2 == 0 ? a : b).Record(i * 1000);
    all.Record(i * 1000);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.Percentile(q), all.Percentile(q));
}

}  // namespace
}  // namespace holomush::loadgen
