#include "game/exit_match.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "holomush/common/utf8.hpp"

namespace holomush::core {
namespace {

ExitCandidate C(const std::string& name, bool exact, double similarity) {
  return {Exit{name + "-id", name, "to", {}}, exact, similarity};
}

TEST(ExitMatchTest, ExactBeatsAnySimilarity) {
  auto best = RankExits({C("northeast", false, 0.9), C("north", true, 0.4)}, 0.3);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->name, "north");
}

TEST(ExitMatchTest, HighestSimilarityAboveThresholdWins) {
  auto best = RankExits({C("east", false, 0.31), C("north", false, 0.6)}, 0.3);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->name, "north");
}

TEST(ExitMatchTest, AtOrBelowThresholdIsNoMatch) {
  EXPECT_FALSE(RankExits({C("north", false, 0.3), C("south", false, 0.1)}, 0.3));
  EXPECT_FALSE(RankExits({}, 0.3));
}

TEST(ExitMatchTest, TiesGoToTheAlphabeticallyFirst) {
  auto best = RankExits({C("west", false, 0.5), C("east", false, 0.5)}, 0.3);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->name, "east");
}

TEST(ExitMatchTest, TypoVariantsIncludeEachAdjacentSwap) {
  auto v = TypoVariants("NRoth");
  EXPECT_EQ(v.front(), "nroth");
  EXPECT_NE(std::find(v.begin(), v.end(), "north"), v.end());
  EXPECT_EQ(v.size(), 5u);
  EXPECT_EQ(TypoVariants("aa").size(), 1u);
  EXPECT_EQ(TypoVariants(std::string(100, 'x') + "y").size(), 1u);
}

TEST(ExitMatchTest, TypoVariantsSwapWholeCharactersNeverBytesInsideOne) {
  // "né" + "d": é is two bytes; a byte swap would make invalid UTF-8 that PostgreSQL refuses.
  const auto v = TypoVariants(
      "n\xc3\xa9"
      "d");
  EXPECT_EQ(v, (std::vector<std::string>{"n\xc3\xa9"
                                         "d",
                                         "\xc3\xa9nd", "nd\xc3\xa9"}));
  for (const auto& variant : v) EXPECT_EQ(common::SanitizeUtf8(variant), variant) << variant;
}

}  // namespace
}  // namespace holomush::core
