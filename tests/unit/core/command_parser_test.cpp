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

namespace holomush::core {
namespace {

TEST(CommandParserTest, CleanCommandLineDropsControlsAndRepairsUtf8) {
  EXPECT_EQ(CleanCommandLine(std::string("say a\0b", 7)), "say ab");
  EXPECT_EQ(CleanCommandLine("say\ta\x1b[31mred\x7f"), "say a[31mred");
  EXPECT_EQ(CleanCommandLine("say \xff"), "say \xef\xbf\xbd");
  EXPECT_EQ(CleanCommandLine("say caf\xc3\xa9"), "say caf\xc3\xa9");
}

}  // namespace
}  // namespace holomush::core
