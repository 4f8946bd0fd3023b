#include <gtest/gtest.h>

#include "session/session.hpp"

namespace holomush::core {
namespace {

TEST(RecentIdsTest, RefusesAnIdAlreadyRecorded) {
  RecentIds recent;
  EXPECT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_TRUE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_FALSE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FAW"));
}

TEST(RecentIdsTest, ForgetsTheOldestBeyondItsCapacity) {
  RecentIds recent;
  auto id = [](int i) {
    std::string s = std::to_string(i);
    return std::string(26 - s.size(), '0') + s;
  };
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(recent.Insert(id(i)));
  EXPECT_FALSE(recent.Contains(id(0)));
  EXPECT_TRUE(recent.Contains(id(199)));
  EXPECT_TRUE(recent.Contains(id(72)));
}

}  // namespace
}  // namespace holomush::core
