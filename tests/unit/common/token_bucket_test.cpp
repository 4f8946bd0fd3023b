#include "holomush/common/token_bucket.hpp"

#include <gtest/gtest.h>

namespace holomush::common {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, AllowsTheBurstThenTheRate) {
  TokenBucket bucket(2.0, 3.0);  // 2 per second, 3 saved up
  const auto t0 = TokenBucket::Clock::time_point{} + 100s;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(t0)) << i;
  EXPECT_FALSE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0 + 400ms));  // 0.8 of a token
  EXPECT_TRUE(bucket.TryTake(t0 + 500ms));
  EXPECT_FALSE(bucket.TryTake(t0 + 500ms));
  // A long pause saves up no more than the burst.
  EXPECT_TRUE(bucket.Full(t0 + 1h));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(t0 + 1h)) << i;
  EXPECT_FALSE(bucket.TryTake(t0 + 1h));
}

TEST(TokenBucketTest, TimeGoingBackwardsGivesNothing) {
  TokenBucket bucket(10.0, 1.0);
  const auto t0 = TokenBucket::Clock::time_point{} + 100s;
  EXPECT_TRUE(bucket.TryTake(t0));
  EXPECT_FALSE(bucket.TryTake(t0 - 10s));
  EXPECT_TRUE(bucket.TryTake(t0 + 100ms));
}

}  // namespace
}  // namespace holomush::common
