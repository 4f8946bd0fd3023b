#include <gtest/gtest.h>

#include "game/game.hpp"

namespace holomush::core {
namespace {

TEST(ValidationTest, Usernames) {
  EXPECT_TRUE(ValidUsername("ana"));
  EXPECT_TRUE(ValidUsername("Ana_99"));
  EXPECT_FALSE(ValidUsername("an"));
  EXPECT_FALSE(ValidUsername("9lives"));
  EXPECT_FALSE(ValidUsername("ana smith"));
  EXPECT_FALSE(ValidUsername(std::string(31, 'a')));
}

TEST(ValidationTest, CharacterNamesAreStoredInInitialCaps) {
  EXPECT_EQ(NormalizeCharacterName("mary jane"), "Mary Jane");
  EXPECT_EQ(NormalizeCharacterName("ANA"), "Ana");
  EXPECT_FALSE(NormalizeCharacterName("a"));
  EXPECT_FALSE(NormalizeCharacterName("mary  jane"));
  EXPECT_FALSE(NormalizeCharacterName("r2d2"));
}

TEST(ValidationTest, AliasNames) {
  EXPECT_TRUE(ValidAliasName("gn"));
  EXPECT_FALSE(ValidAliasName("two words"));
  EXPECT_FALSE(ValidAliasName(""));
}

}  // namespace
}  // namespace holomush::core
