// A latency histogram with bounded relative error (HDR-style log-linear buckets), exact
// count, min, max and mean. Values are nanoseconds. Owned and used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace holomush::loadgen {

class LatencyHistogram {
 public:
  // 128 sub-buckets per power of two: any reported percentile is within 1/128 (0.8 %)
  // above the true value, and values below 128 ns are exact.
  static constexpr int kSubBits = 7;
  static constexpr int64_t kSub = int64_t{1} << kSubBits;
  // Values are non-negative int64: at most 63 significant bits.
  static constexpr size_t kBuckets = (63 - kSubBits + 1) * kSub;

  LatencyHistogram();

  // Negative values (a clock read out of order) count as 0.
  void Record(int64_t value_ns);
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_); }
  // The smallest bucket bound at or below which a fraction q (0..1) of the values lie,
  // clamped to [min, max]: q = 0.5 is the median, q = 1 the exact maximum. 0 when empty.
  int64_t Percentile(double q) const;

  // Bucket arithmetic, exposed for tests.
  static size_t BucketOf(int64_t value);
  static int64_t BucketUpper(size_t bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace holomush::loadgen
