#include "game/command_parser.hpp"

#include <gtest/gtest.h>

namespace holomush::core {
namespace {

TEST(CommandParserTest, RejectsEmptyInput) {
  EXPECT_EQ(ParseCommand("").verb, "");
  EXPECT_EQ(ParseCommand("   \t ").verb, "");
}

TEST(CommandParserTest, SplitsVerbAndTrimmedArguments) {
  auto c = ParseCommand("  SAY   Hello  world  ");
  EXPECT_EQ(c.verb, "say");
  EXPECT_EQ(c.args, "Hello  world");
}

TEST(CommandParserTest, ShortFormsMapToSayPoseAndSemipose) {
  EXPECT_EQ(ParseCommand("\"hi there").verb, "say");
  EXPECT_EQ(ParseCommand("\"hi there").args, "hi there");
  EXPECT_EQ(ParseCommand(":waves").verb, "pose");
  EXPECT_EQ(ParseCommand(": waves").args, "waves");
  auto semi = ParseCommand(";'s hat");
  EXPECT_EQ(semi.verb, "semipose");
  EXPECT_EQ(semi.args, "'s hat");
}

TEST(CommandParserTest, AssignmentSplitsAtTheFirstEquals) {
  auto a = SplitAssignment("bob = hi = there");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "bob");
  EXPECT_EQ(a->second, "hi = there");
  EXPECT_FALSE(SplitAssignment("no equals"));
  EXPECT_FALSE(SplitAssignment("=value"));
}

TEST(CommandParserTest, SplitNamesDropsEmpties) {
  EXPECT_EQ(SplitNames("north; n ;;nor"), (std::vector<std::string>{"north", "n", "nor"}));
  EXPECT_TRUE(SplitNames(" ; ").empty());
}

}  // namespace
}  // namespace holomush::core
