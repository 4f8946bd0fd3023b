#include "holomush/common/text.hpp"

#include <gtest/gtest.h>

namespace holomush::common {
namespace {

TEST(TextTest, LowerAndTrimTouchOnlyAscii) {
  EXPECT_EQ(AsciiLower("LOOK Ä"), "look Ä");
  EXPECT_EQ(TrimSpace(" \t north \r\n"), "north");
  EXPECT_EQ(TrimSpace("   "), "");
}

TEST(TextTest, EqualIgnoringCaseFoldsOnlyAsciiLetters) {
  EXPECT_TRUE(AsciiEqualIgnoringCase("North", "nORTH"));
  EXPECT_TRUE(AsciiEqualIgnoringCase("", ""));
  EXPECT_FALSE(AsciiEqualIgnoringCase("north", "northh"));
  EXPECT_FALSE(AsciiEqualIgnoringCase("Ä", "ä"));  // as AsciiLower: other bytes are kept
  EXPECT_FALSE(AsciiEqualIgnoringCase("[", "{"));  // 0x5B and 0x7B differ by the case bit only
}

TEST(TextTest, IdleTimesInTheLargestWholeUnit) {
  EXPECT_EQ(FormatIdle(-3), "0s");
  EXPECT_EQ(FormatIdle(5), "5s");
  EXPECT_EQ(FormatIdle(75), "1m");
  EXPECT_EQ(FormatIdle(7200), "2h");
  EXPECT_EQ(FormatIdle(200000), "2d");
}

TEST(TextTest, WhoTablePadsNamesByCharactersAndRightAlignsIdleTimes) {
  EXPECT_EQ(WhoTable({{"Ana", 5}, {"Bartholomew", 4000}, {"Zoë", 300000}}),
            "Name         Idle\n"
            "Ana            5s\n"
            "Bartholomew    1h\n"
            "Zoë            3d\n"
            "3 characters connected.");
  EXPECT_EQ(WhoTable({{"Al", 61}}),
            "Name  Idle\n"
            "Al      1m\n"
            "1 character connected.");
  EXPECT_EQ(WhoTable({}), "Name  Idle\n0 characters connected.");
}

}  // namespace
}  // namespace holomush::common
