// What core tells a gateway to pace its players to: the burst less up to a second of slack.
#include <gtest/gtest.h>

#include "session/session.hpp"

namespace holomush::core {
namespace {

TEST(AdvertisedBurstTest, KeepsUpToASecondOfTheBurstBackAsSlack) {
  EXPECT_DOUBLE_EQ(AdvertisedBurst({.rate = 10, .burst = 60}), 50);  // the defaults
  EXPECT_DOUBLE_EQ(AdvertisedBurst({.rate = 20, .burst = 5}), 1);    // never below one
  EXPECT_DOUBLE_EQ(AdvertisedBurst({.rate = 10, .burst = 1}), 1);
  EXPECT_DOUBLE_EQ(AdvertisedBurst({.rate = 0.5, .burst = 3}), 2.5);
}

}  // namespace
}  // namespace holomush::core
