#include "holomush/common/ulid.hpp"

#include <gtest/gtest.h>

#include <set>

namespace holomush::common {
namespace {

TEST(UlidTest, EncodesTimeInTheFirstTenCharacters) {
  UlidGenerator gen;
  auto id = gen.NextAt(1'700'000'000'123);
  EXPECT_TRUE(IsUlid(id));
  EXPECT_EQ(UlidMillis(id), 1'700'000'000'123u);
}

TEST(UlidTest, StringOrderIsCreationOrderWithinAMillisecond) {
  UlidGenerator gen;
  std::string prev = gen.NextAt(1000);
  for (int i = 0; i < 10000; ++i) {
    auto next = gen.NextAt(1000);
    ASSERT_LT(prev, next);
    prev = next;
  }
}

TEST(UlidTest, ClockGoingBackwardsStaysMonotonic) {
  UlidGenerator gen;
  auto a = gen.NextAt(5000);
  auto b = gen.NextAt(4000);
  EXPECT_LT(a, b);
  EXPECT_EQ(UlidMillis(b), 5000u);
}

TEST(UlidTest, LaterMillisecondSortsAfter) {
  UlidGenerator gen;
  auto a = gen.NextAt(5000);
  auto b = gen.NextAt(5001);
  EXPECT_LT(a, b);
  std::set<std::string> unique;
  for (int i = 0; i < 1000; ++i) unique.insert(gen.Next());
  EXPECT_EQ(unique.size(), 1000u);
}

TEST(UlidTest, RejectsMalformedIds) {
  EXPECT_FALSE(IsUlid("short"));
  EXPECT_FALSE(IsUlid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));  // overflows 128 bits
  EXPECT_FALSE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));  // U is not in the alphabet
  EXPECT_TRUE(IsUlid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace holomush::common
