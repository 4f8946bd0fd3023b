#include "holomush/common/recent_ids.hpp"

#include <gtest/gtest.h>

namespace holomush::common {
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

TEST(RecentIdsTest, HoldsExactlyItsCapacity) {
  RecentIds recent(3);
  for (const char* id : {"A", "B", "C", "D"}) ASSERT_TRUE(recent.Insert(id));
  EXPECT_FALSE(recent.Contains("A"));
  EXPECT_TRUE(recent.Contains("B"));
  EXPECT_TRUE(recent.Contains("D"));
  EXPECT_FALSE(recent.Insert("C"));
}

TEST(RecentIdsTest, ClearForgetsEverything) {
  RecentIds recent;
  ASSERT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  recent.Clear();
  EXPECT_FALSE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

// Most ids come newest last and are answered by one comparison; an older one, as a replay
// overlapping live delivery brings, is still found (or not) in the ring.
TEST(RecentIdsTest, IdsOlderThanTheNewestAreStillLookedUp) {
  RecentIds recent;
  ASSERT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FB0"));
  ASSERT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FA0"));  // older, after a newer one
  EXPECT_TRUE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FA0"));
  EXPECT_TRUE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FB0"));
  EXPECT_FALSE(recent.Contains("01ARZ3NDEKTSV4RRFFQ69G5FA5"));  // older, never seen
  EXPECT_FALSE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FA0"));
  EXPECT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FA5"));
  EXPECT_TRUE(recent.Insert("01ARZ3NDEKTSV4RRFFQ69G5FC0"));  // newer than all
}

TEST(RecentIdsTest, ZeroCapacityRemembersNothing) {
  RecentIds recent(0);
  EXPECT_TRUE(recent.Insert("A"));
  EXPECT_TRUE(recent.Insert("A"));
  EXPECT_FALSE(recent.Contains("A"));
}

}  // namespace
}  // namespace holomush::common
