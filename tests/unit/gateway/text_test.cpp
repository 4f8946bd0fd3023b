#include "text.hpp"

#include <gtest/gtest.h>

#include "command_line.hpp"
#include "holomush/core/v1/core.pb.h"
#include "line_splitter.hpp"
#include "output_queue.hpp"

namespace holomush::gateway {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(SanitizeUtf8Test, KeepsValidText) {
  EXPECT_EQ(SanitizeUtf8("plain"), "plain");
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x99\x82");
}

TEST(SanitizeUtf8Test, ReplacesInvalidBytes) {
  EXPECT_EQ(SanitizeUtf8("a\xFF"
                         "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8("\x80"), kFffd);
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), kFffd + kFffd);                          // overlong
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);              // surrogate
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
}

TEST(SanitizeUtf8Test, TruncatedSequenceIsOneReplacement) {
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"), kFffd);
  EXPECT_EQ(SanitizeUtf8("\xE2\x82x"), kFffd + "x");
  EXPECT_EQ(SanitizeUtf8("\xF0\x9F\x99"), kFffd);
}

TEST(CleanLineTest, DropsControlsAndTrims) {
  EXPECT_EQ(CleanLine("say\thi\x1B[31m there\x07  "), "say hi[31m there");
  EXPECT_EQ(CleanLine("\x7F"), "");
}

TEST(ToTelnetTextTest, ConvertsLineEnds) {
  EXPECT_EQ(ToTelnetText("a\nb"), "a\r\nb\r\n");
  EXPECT_EQ(ToTelnetText("a\n"), "a\r\n");
  EXPECT_EQ(ToTelnetText(""), "\r\n");
  // Not repaired (see WireTextTest), but never a telnet command either: IAC is doubled.
  EXPECT_EQ(ToTelnetText("bad\xFF\x1B"), "bad\xFF\xFF\r\n");
}

// Why the gateway does not repair core's text again: protobuf refuses to parse a message
// whose string field is not valid UTF-8, so such text never gets past gRPC to our code.
TEST(WireTextTest, ProtobufRefusesAStringFieldThatIsNotUtf8) {
  core::v1::GatewayDown down;
  down.add_frames()->mutable_message()->mutable_output()->set_text("caf\xC3\xA9");
  std::string wire = down.SerializeAsString();
  core::v1::GatewayDown parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(parsed.frames(0).message().output().text(), "caf\xC3\xA9");
  const auto at = wire.find("caf\xC3\xA9");
  ASSERT_NE(at, std::string::npos);
  wire.replace(at + 3, 2, "\xFF\xFE");  // same length: only the text is broken
  EXPECT_FALSE(parsed.ParseFromString(wire));
}

TEST(WrapLinesTest, BreaksAtTheLastSpaceThatFitsAndKeepsShortLines) {
  const std::string says = "Ana says, \"the quick brown fox jumps over the lazy dog\"";
  EXPECT_EQ(WrapLines(says, 20), "Ana says, \"the quick\nbrown fox jumps over\nthe lazy dog\"");
  EXPECT_EQ(WrapLines("short\nlines stay as they are", 40), "short\nlines stay as they are");
  // Exactly the width fits; one more character breaks.
  EXPECT_EQ(WrapLines(std::string(20, 'a'), 20), std::string(20, 'a'));
  EXPECT_EQ(WrapLines("aaaaaaaaaa aaaaaaaaaa", 20), "aaaaaaaaaa\naaaaaaaaaa");
}

TEST(WrapLinesTest, CutsWordsLongerThanALineAndCountsCharactersNotBytes) {
  EXPECT_EQ(WrapLines(std::string(45, 'x'), 20),
            std::string(20, 'x') + "\n" + std::string(20, 'x') + "\n" + std::string(5, 'x'));
  // Twenty-two two-byte characters: cut after twenty, never inside one.
  std::string wide;
  for (int i = 0; i < 22; ++i) wide += "\xC3\xA9";
  EXPECT_EQ(WrapLines(wide, 20), wide.substr(0, 40) + "\n" + wide.substr(40));
  // Twenty characters in twenty-one bytes still fit.
  EXPECT_EQ(WrapLines("caf\xC3\xA9 " + std::string(15, 'b'), 20),
            "caf\xC3\xA9 " + std::string(15, 'b'));
}

TEST(WrapLinesTest, KeepsIndentationAndLeavesNarrowOrUnknownWidthsAlone) {
  EXPECT_EQ(WrapLines("  Exits: north, south, east, west", 20),
            "  Exits: north,\nsouth, east, west");
  const std::string line(100, 'z');
  EXPECT_EQ(WrapLines(line, 0), line);
  EXPECT_EQ(WrapLines(line, 19), line);
}

TEST(ToTelnetTextTest, WrapsToTheGivenWidthBeforeConvertingLineEnds) {
  EXPECT_EQ(ToTelnetText("one two three four five six", 20), "one two three four\r\nfive six\r\n");
  EXPECT_EQ(ToTelnetText("one two three four five six"), "one two three four five six\r\n");
}

class LineSplitterTest : public ::testing::Test {
 protected:
  std::vector<InputLine> Feed(std::string_view in) {
    std::vector<InputLine> out;
    splitter_.Feed(in, out);
    return out;
  }
  LineSplitter splitter_{16};
};

std::vector<InputLine> Lines(std::initializer_list<const char*> texts) {
  std::vector<InputLine> out;
  for (const char* t : texts) out.push_back(InputLine{.text = t});
  return out;
}

TEST_F(LineSplitterTest, AllLineEndings) {
  EXPECT_EQ(Feed(std::string("a\r\nb\nc\r", 7) + std::string("\0d\re\n", 5)),
            Lines({"a", "b", "c", "d", "e"}));
}

TEST_F(LineSplitterTest, CrLfSplitAcrossFeeds) {
  EXPECT_EQ(Feed("look\r"), Lines({"look"}));
  EXPECT_EQ(Feed("\nsay hi\r"), Lines({"say hi"}));
  EXPECT_EQ(Feed(std::string("\0", 1)), Lines({}));
  EXPECT_EQ(Feed("\n"), Lines({""}));
}

TEST_F(LineSplitterTest, KeepsPartialLine) {
  EXPECT_EQ(Feed("loo"), Lines({}));
  EXPECT_EQ(splitter_.pending(), 3u);
  EXPECT_EQ(Feed("k\n"), Lines({"look"}));
}

TEST_F(LineSplitterTest, BackspaceErasesCodePoint) {
  EXPECT_EQ(Feed("ab\x08x\xC3\xA9\x7F!\n"), Lines({"ax!"}));
}

TEST_F(LineSplitterTest, TooLongLineIsRefusedOnceAndNotBuffered) {
  auto out = Feed(std::string(100000, 'x'));
  EXPECT_TRUE(out.empty());
  EXPECT_LE(splitter_.pending(), 16u);
  out = Feed("yyy\nnext\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].too_long);
  EXPECT_EQ(out[1], InputLine{.text = "next"});
}

TEST_F(LineSplitterTest, LineAtTheLimitIsKept) {
  EXPECT_EQ(Feed(std::string(16, 'x') + "\n"), Lines({"xxxxxxxxxxxxxxxx"}));
}

TEST(OutputQueueTest, CoalescesWhileWriting) {
  OutputQueue q(100);
  EXPECT_TRUE(q.Append("one "));
  ASSERT_TRUE(q.ReadyToWrite());
  EXPECT_EQ(q.BeginWrite(), "one ");
  EXPECT_FALSE(q.ReadyToWrite());
  EXPECT_TRUE(q.Append("two "));
  EXPECT_TRUE(q.Append("three"));
  EXPECT_FALSE(q.ReadyToWrite());
  q.Written();
  ASSERT_TRUE(q.ReadyToWrite());
  EXPECT_EQ(q.BeginWrite(), "two three");
  q.Written();
  EXPECT_TRUE(q.empty());
}

TEST(OutputQueueTest, LimitCountsBytesInFlight) {
  OutputQueue q(10);
  EXPECT_TRUE(q.Append("123456"));
  q.BeginWrite();
  EXPECT_TRUE(q.Append("1234"));
  EXPECT_FALSE(q.Append("x"));
  EXPECT_EQ(q.size(), 10u);
  q.Written();
  EXPECT_TRUE(q.Append("x"));
}

TEST(OutputQueueTest, TextMadeInPlaceIsTakenBackWhenItWouldExceedTheLimit) {
  OutputQueue q(12);
  EXPECT_TRUE(q.AppendWith([](std::string& out) { AppendTelnetText(out, "a\nb"); }));
  EXPECT_EQ(q.size(), 6u);  // "a\r\nb\r\n"
  EXPECT_FALSE(q.AppendWith([](std::string& out) { AppendTelnetText(out, "too long"); }));
  EXPECT_EQ(q.size(), 6u);
  EXPECT_EQ(q.BeginWrite(), "a\r\nb\r\n");
}

TEST(ToTelnetTextTest, AppendingAddsToWhatIsThereAndWrapsLikeWrapLines) {
  std::string out = "x";
  AppendTelnetText(out, "Ana says, \"the quick brown fox\"", 20);
  EXPECT_EQ(out, "x" + ToTelnetText(WrapLines("Ana says, \"the quick brown fox\"", 20)));
  EXPECT_EQ(out, "xAna says, \"the quick\r\nbrown fox\"\r\n");
}

TEST(SplitWordsTest, LastWordKeepsTheRest) {
  EXPECT_EQ(SplitWords("  connect  ana   my secret  ", 3),
            (std::vector<std::string>{"connect", "ana", "my secret"}));
  EXPECT_EQ(SplitWords("who", 3), (std::vector<std::string>{"who"}));
  EXPECT_TRUE(SplitWords("    ", 3).empty());
  EXPECT_TRUE(SplitWords("abc", 0).empty());
}

TEST(ParsePreLoginTest, Commands) {
  using Verb = PreLoginCommand::Verb;
  auto c = ParsePreLogin("CONNECT Ana s3cret word");
  EXPECT_EQ(c.verb, Verb::kConnect);
  EXPECT_EQ(c.username, "Ana");
  EXPECT_EQ(c.password, "s3cret word");
  c = ParsePreLogin("create bob");
  EXPECT_EQ(c.verb, Verb::kCreate);
  EXPECT_EQ(c.username, "bob");
  EXPECT_EQ(c.password, "");
  c = ParsePreLogin("play  Ana Maria ");
  EXPECT_EQ(c.verb, Verb::kPlay);
  EXPECT_EQ(c.name, "Ana Maria");
  EXPECT_EQ(ParsePreLogin("who").verb, Verb::kWho);
  EXPECT_EQ(ParsePreLogin("QUIT").verb, Verb::kQuit);
  EXPECT_EQ(ParsePreLogin("").verb, Verb::kEmpty);
  c = ParsePreLogin("dance wildly");
  EXPECT_EQ(c.verb, Verb::kUnknown);
  EXPECT_EQ(c.word, "dance");
}

}  // namespace
}  // namespace holomush::gateway
