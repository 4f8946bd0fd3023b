#include "holomush/loadgen/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace holomush::loadgen {

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

size_t LatencyHistogram::BucketOf(int64_t value) {
  if (value < kSub) return static_cast<size_t>(std::max<int64_t>(value, 0));
  const auto v = static_cast<uint64_t>(value);
  const int msb = 63 - __builtin_clzll(v);
  const int shift = msb - kSubBits;
  const uint64_t sub = v >> shift;  // in [kSub, 2 * kSub)
  return static_cast<size_t>(shift + 1) * kSub + (sub - kSub);
}

int64_t LatencyHistogram::BucketUpper(size_t bucket) {
  if (bucket < static_cast<size_t>(kSub)) return static_cast<int64_t>(bucket);
  const int shift = static_cast<int>(bucket / kSub) - 1;
  const uint64_t sub = bucket % kSub + kSub;
  const uint64_t upper = ((sub + 1) << shift) - 1;
  return static_cast<int64_t>(upper);
}

void LatencyHistogram::Record(int64_t value_ns) {
  const int64_t v = std::max<int64_t>(value_ns, 0);
  ++counts_[BucketOf(v)];
  if (count_ == 0 || v < min_) min_ = v;
  if (v > max_) max_ = v;
  ++count_;
  sum_ += static_cast<double>(v);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() { *this = LatencyHistogram(); }

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_) - 1e-9)));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketUpper(i), min_, max_);
  }
  return max_;
}

}  // namespace holomush::loadgen
