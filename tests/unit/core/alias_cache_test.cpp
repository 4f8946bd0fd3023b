#include "game/alias_cache.hpp"

#include <gtest/gtest.h>

namespace holomush::core {
namespace {

class AliasCacheTest : public ::testing::Test {
 protected:
  AliasCache cache_{[](const std::string& w) { return w == "say" || w == "look" || w == "go"; }};
};

TEST_F(AliasCacheTest, RealCommandWinsOverAliases) {
  ASSERT_TRUE(cache_.SetSystem("look", "say shadowed"));
  EXPECT_EQ(*cache_.Expand("p1", "look here"), "look here");
}

TEST_F(AliasCacheTest, PlayerAliasWinsOverSystemAlias) {
  ASSERT_TRUE(cache_.SetSystem("hi", "say system hi"));
  ASSERT_TRUE(cache_.SetPlayer("p1", "hi", "say my hi"));
  EXPECT_EQ(*cache_.Expand("p1", "hi"), "say my hi");
  EXPECT_EQ(*cache_.Expand("p2", "hi"), "say system hi");
}

TEST_F(AliasCacheTest, ArgumentsAreKeptThroughEveryLevel) {
  ASSERT_TRUE(cache_.SetPlayer("p1", "n", "go north"));
  ASSERT_TRUE(cache_.SetPlayer("p1", "gn", "n quickly"));
  EXPECT_EQ(*cache_.Expand("p1", "gn and quietly"), "go north quickly and quietly");
}

TEST_F(AliasCacheTest, FirstWordMatchesCaseInsensitively) {
  ASSERT_TRUE(cache_.SetPlayer("p1", "hi", "say hi"));
  EXPECT_EQ(*cache_.Expand("p1", "HI there"), "say hi there");
}

TEST_F(AliasCacheTest, DepthTenIsAllowedElevenIsRefused) {
  // a0 -> a1 -> ... -> a9 -> say: ten expansions.
  for (int i = 0; i < 9; ++i) {
    ASSERT_TRUE(cache_.SetPlayer("p1", "a" + std::to_string(i), "a" + std::to_string(i + 1)));
  }
  ASSERT_TRUE(cache_.SetPlayer("p1", "a9", "say deep"));
  EXPECT_EQ(*cache_.Expand("p1", "a0"), "say deep");
  auto refused = cache_.SetPlayer("p1", "b", "a0");  // eleven
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("deeper than 10"), std::string::npos);
  EXPECT_FALSE(cache_.GetPlayer("p1", "b"));
}

TEST_F(AliasCacheTest, CyclesAreRefusedAndTheCacheIsUnchanged) {
  ASSERT_TRUE(cache_.SetPlayer("p1", "a", "b"));
  auto refused = cache_.SetPlayer("p1", "b", "a");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("would loop"), std::string::npos);
  EXPECT_FALSE(cache_.GetPlayer("p1", "b"));
  EXPECT_FALSE(cache_.SetPlayer("p1", "self", "self again"));
}

TEST_F(AliasCacheTest, ReplacingAnAliasCanCreateACycle) {
  ASSERT_TRUE(cache_.SetPlayer("p1", "a", "b"));
  ASSERT_TRUE(cache_.SetPlayer("p1", "b", "say ok"));
  EXPECT_FALSE(cache_.SetPlayer("p1", "b", "a x"));
  EXPECT_EQ(*cache_.GetPlayer("p1", "b"), "say ok");
}

TEST_F(AliasCacheTest, ApplyRefusesLoopsAndRemoves) {
  ASSERT_TRUE(cache_.Apply("p1", "a", std::string("b")));
  EXPECT_FALSE(cache_.Apply("p1", "b", std::string("a")));
  ASSERT_TRUE(cache_.Apply("p1", "a", std::nullopt));
  EXPECT_FALSE(cache_.GetPlayer("p1", "a"));
}

TEST_F(AliasCacheTest, UnknownWordsPassThrough) {
  EXPECT_EQ(*cache_.Expand("p1", "dance wildly"), "dance wildly");
  EXPECT_EQ(*cache_.Expand("p1", ""), "");
}

}  // namespace
}  // namespace holomush::core

namespace holomush::core {
namespace {

TEST(AliasCacheReloadTest, ReplaceWithDropsAliasesNoLongerLoaded) {
  auto is_command = [](const std::string& w) { return w == "say"; };
  AliasCache cache(is_command);
  ASSERT_TRUE(cache.SetPlayer("p1", "gone", "say bye"));
  ASSERT_TRUE(cache.SetSystem("oldsys", "say old"));
  AliasCache loaded(is_command);
  ASSERT_TRUE(loaded.SetPlayer("p1", "kept", "say hi"));
  cache.ReplaceWith(std::move(loaded));
  EXPECT_FALSE(cache.GetPlayer("p1", "gone"));
  EXPECT_EQ(cache.GetPlayer("p1", "kept"), "say hi");
  EXPECT_TRUE(cache.ListSystem().empty());
  EXPECT_EQ(*cache.Expand("p1", "kept now"), "say hi now");
}

}  // namespace
}  // namespace holomush::core
