#include "game/exit_match.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "holomush/common/utf8.hpp"

namespace holomush::core {
namespace {

// A candidate for an exit called `name` (candidates point at their exits: these stay).
ExitCandidate C(const std::string& name, bool exact, double similarity) {
  static std::deque<Exit> exits;
  exits.push_back(Exit{name + "-id", name, "to", {}});
  return {&exits.back(), exact, similarity};
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

// Figures pg_trgm gives for the same pairs (SELECT similarity(a, b)); the db test
// ExitMatchDbTest compares a wider set against PostgreSQL itself.
TEST(ExitMatchTest, TrigramSimilarityIsPgTrgms) {
  EXPECT_FLOAT_EQ(TrigramSimilarity("north", "north"), 1.0F);
  EXPECT_FLOAT_EQ(TrigramSimilarity("north", "nroth"), 0.2F);        // 2 of 10
  EXPECT_FLOAT_EQ(TrigramSimilarity("north", "northh"), 5.0F / 8);   // 5 shared of 8
  EXPECT_FLOAT_EQ(TrigramSimilarity("North", "NORTH"), 1.0F);        // case is ignored
  EXPECT_FLOAT_EQ(TrigramSimilarity("n", "north"), 1.0F / 7);        // "  n" of 7
  EXPECT_FLOAT_EQ(TrigramSimilarity("go-north", "go north"), 1.0F);  // words, not punctuation
  EXPECT_FLOAT_EQ(TrigramSimilarity("---", "north"), 0.0F);          // no trigram at all
  EXPECT_FLOAT_EQ(TrigramSimilarity("", ""), 0.0F);
}

TEST(ExitMatchTest, ScoreExitsMarksExactNamesAndAliasesAndSkipsSimilarityThen) {
  const std::vector<Exit> exits = {{"1", "North", "a", {"n"}}, {"2", "Northeast", "b", {"ne"}}};
  auto scored = ScoreExits(exits, "N", {"n"});
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_TRUE(scored[0].exact);
  EXPECT_FALSE(scored[1].exact);
  EXPECT_EQ(scored[1].similarity, 0.0);  // an exact match makes similarity moot
  scored = ScoreExits(exits, "northh", {"northh"});
  EXPECT_FALSE(scored[0].exact);
  EXPECT_FLOAT_EQ(static_cast<float>(scored[0].similarity), 5.0F / 8);
  EXPECT_GT(scored[0].similarity, scored[1].similarity);
  auto best = RankExits(ScoreExits(exits, "nroth", TypoVariants("nroth")), 0.3);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->name, "North");  // through the swapped variant "north"
}

}  // namespace
}  // namespace holomush::core
