#include "holomush/loadgen/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>

namespace holomush::loadgen {
namespace {

TEST(RngTest, SameSeedGivesSameSequence) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, UniformStaysInUnitInterval) {
  Rng rng(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
}

TEST(RngTest, BelowCoversEveryValueEvenly) {
  Rng rng(7);
  std::map<uint64_t, int> seen;
  for (int i = 0; i < 60000; ++i) ++seen[rng.Below(6)];
  ASSERT_EQ(seen.size(), 6u);
  for (const auto& [value, n] : seen) {
    EXPECT_LT(value, 6u);
    EXPECT_NEAR(n, 10000, 500);
  }
}

TEST(RngTest, ExponentialHasMeanAndSpreadOfItsRate) {
  Rng rng(3);
  const double rate = 4.0;
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.Exponential(rate);
    ASSERT_GE(x, 0.0);
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / n;
  const double var = sum_sq / n - mean * mean;
  EXPECT_NEAR(mean, 1 / rate, 0.005);
  EXPECT_NEAR(std::sqrt(var), 1 / rate, 0.01);  // exponential: sd equals mean
}

TEST(PoissonScheduleTest, ArrivalsComeInTimeOrderFromEverySession) {
  PoissonSchedule schedule(50, 2.0, 1000, 9);
  int64_t last = 0;
  std::map<uint32_t, int> per_session;
  for (int i = 0; i < 5000; ++i) {
    const auto a = schedule.Pop();
    ASSERT_GE(a.time_ns, last);
    ASSERT_GE(a.time_ns, 1000);
    ASSERT_LT(a.session, 50u);
    last = a.time_ns;
    ++per_session[a.session];
  }
  EXPECT_EQ(per_session.size(), 50u);
}

TEST(PoissonScheduleTest, OffersTheConfiguredRateOverTime) {
  // 100 sessions x 0.5/s over 1000 s: 50,000 arrivals expected, Poisson sd about 224.
  PoissonSchedule schedule(100, 0.5, 0, 11);
  const int64_t horizon = 1000LL * 1'000'000'000;
  int count = 0;
  while (schedule.NextTime() < horizon) {
    schedule.Pop();
    ++count;
  }
  EXPECT_NEAR(count, 50000, 1200);
}

TEST(PoissonScheduleTest, CountsPerSecondHavePoissonVariance) {
  // For a Poisson process, the count in each window has variance equal to its mean.
  PoissonSchedule schedule(10, 1.0, 0, 5);
  std::vector<int> counts(2000, 0);
  while (true) {
    const auto a = schedule.Pop();
    const auto second = static_cast<size_t>(a.time_ns / 1'000'000'000);
    if (second >= counts.size()) break;
    ++counts[second];
  }
  double sum = 0, sum_sq = 0;
  for (int c : counts) {
    sum += c;
    sum_sq += static_cast<double>(c) * c;
  }
  const double mean = sum / counts.size();
  const double var = sum_sq / counts.size() - mean * mean;
  EXPECT_NEAR(mean, 10.0, 0.3);
  EXPECT_NEAR(var, 10.0, 1.2);
}

TEST(PoissonScheduleTest, SameSeedGivesSameSchedule) {
  PoissonSchedule a(20, 1.0, 0, 77), b(20, 1.0, 0, 77), c(20, 1.0, 0, 78);
  bool differs = false;
  for (int i = 0; i < 500; ++i) {
    const auto x = a.Pop(), y = b.Pop(), z = c.Pop();
    EXPECT_EQ(x.time_ns, y.time_ns);
    EXPECT_EQ(x.session, y.session);
    differs |= x.time_ns != z.time_ns;
  }
  EXPECT_TRUE(differs);
}

TEST(PoissonScheduleTest, ZeroRateSchedulesNothing) {
  PoissonSchedule schedule(10, 0.0, 0, 1);
  EXPECT_TRUE(schedule.Empty());
}

TEST(WeightedChoiceTest, PicksInProportionToWeights) {
  WeightedChoice choice({1, 0, 3});
  Rng rng(2);
  int counts[3] = {};
  for (int i = 0; i < 40000; ++i) ++counts[choice.Pick(rng)];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[0], 10000, 400);
  EXPECT_NEAR(counts[2], 30000, 400);
  EXPECT_DOUBLE_EQ(choice.Share(2), 0.75);
}

TEST(WeightedChoiceTest, RejectsAllZeroAndNegativeWeights) {
  EXPECT_THROW(WeightedChoice({0, 0}), std::invalid_argument);
  EXPECT_THROW(WeightedChoice({1, -1}), std::invalid_argument);
}

TEST(ZipfChoiceTest, FirstRoomIsBusiestAndSharesFollowOneOverRank) {
  const auto zipf = ZipfChoice(4, 1.0);
  const double h = 1 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4;
  EXPECT_NEAR(zipf.Share(0), 1 / h, 1e-12);
  EXPECT_NEAR(zipf.Share(3), 0.25 / h, 1e-12);
  const auto uniform = ZipfChoice(4, 0.0);
  EXPECT_NEAR(uniform.Share(0), 0.25, 1e-12);
}

TEST(ParseMixTest, ReadsNamedWeights) {
  const auto w = ParseMix("say=40,pose=20,move=10");
  ASSERT_EQ(w.size(), kActionKinds);
  EXPECT_EQ(w[static_cast<size_t>(ActionKind::kSay)], 40);
  EXPECT_EQ(w[static_cast<size_t>(ActionKind::kPose)], 20);
  EXPECT_EQ(w[static_cast<size_t>(ActionKind::kLook)], 0);
  EXPECT_EQ(w[static_cast<size_t>(ActionKind::kMove)], 10);
}

TEST(ParseMixTest, RejectsUnknownActionsAndBadNumbers) {
  EXPECT_THROW(ParseMix("shout=1"), std::invalid_argument);
  EXPECT_THROW(ParseMix("say=x"), std::invalid_argument);
  EXPECT_THROW(ParseMix("say=-1"), std::invalid_argument);
  EXPECT_THROW(ParseMix("say"), std::invalid_argument);
  EXPECT_THROW(ParseMix("say=0"), std::invalid_argument);
}

}  // namespace
}  // namespace holomush::loadgen
