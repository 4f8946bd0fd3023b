#include "holomush/loadgen/token.hpp"

#include <gtest/gtest.h>

namespace holomush::loadgen {
namespace {

TEST(TokenTest, RoundTripsThroughASayLine) {
  const Token t{.kind = TokenKind::kSay, .id = 1234, .sender = 56, .due_ns = 987654321012};
  const std::string line = "Lgaaab says, \"" + FormatToken(t, "the quick brown fox") + "\"";
  const auto got = FindToken(line);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, TokenKind::kSay);
  EXPECT_EQ(got->id, 1234u);
  EXPECT_EQ(got->sender, 56u);
  EXPECT_EQ(got->due_ns, 987654321012);
}

TEST(TokenTest, FoundInPosesAndPagesAndAtTheEndOfALine) {
  const Token pose{.kind = TokenKind::kPose, .id = 1, .sender = 2, .due_ns = 3};
  auto got = FindToken("Lgaaab " + FormatToken(pose));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, TokenKind::kPose);
  const Token page{.kind = TokenKind::kPage, .id = 9, .sender = 8, .due_ns = 7};
  got = FindToken("Lgaaab pages: " + FormatToken(page, "hi there"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->kind, TokenKind::kPage);
  EXPECT_EQ(got->id, 9u);
  // TinyMUX's echo to the pager quotes the message.
  got = FindToken("You paged Lgaaab with '" + FormatToken(page) + "'");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->due_ns, 7);
}

TEST(TokenTest, OrdinaryLinesHaveNoToken) {
  EXPECT_FALSE(FindToken("Bench Room 3").has_value());
  EXPECT_FALSE(FindToken("Lgaaab says, \"hello\"").has_value());
}

TEST(TokenTest, MalformedTokensAreRejected) {
  EXPECT_FALSE(FindToken("lgtok x 1 2 3").has_value());
  EXPECT_FALSE(FindToken("lgtok s 1 2").has_value());
  EXPECT_FALSE(FindToken("lgtok s a 2 3").has_value());
  EXPECT_FALSE(FindToken("lgtok s 1 2 3x").has_value());
  EXPECT_FALSE(FindToken("lgtok s").has_value());
}

}  // namespace
}  // namespace holomush::loadgen
