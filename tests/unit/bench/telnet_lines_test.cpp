#include "holomush/loadgen/telnet_lines.hpp"

#include <gtest/gtest.h>

namespace holomush::loadgen {
namespace {

std::vector<std::string> FeedAll(TelnetLineReader& r, std::string_view bytes) {
  std::vector<std::string> lines;
  r.Feed(bytes, lines);
  return lines;
}

TEST(TelnetLineReaderTest, SplitsOnLineFeedAndDropsCarriageReturns) {
  TelnetLineReader r;
  EXPECT_EQ(FeedAll(r, "one\r\ntwo\nthree\r\n"), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(TelnetLineReaderTest, KeepsAPartialLineForTheNextFeed) {
  TelnetLineReader r;
  EXPECT_TRUE(FeedAll(r, "You say, \"hel").empty());
  EXPECT_EQ(r.partial(), "You say, \"hel");
  EXPECT_EQ(FeedAll(r, "lo\"\r"), std::vector<std::string>{});
  EXPECT_EQ(FeedAll(r, "\n"), std::vector<std::string>{"You say, \"hello\""});
}

TEST(TelnetLineReaderTest, RemovesOptionNegotiation) {
  // TinyMUX opens with WILL NAWS, DO NAWS, DO SGA, DO TTYPE ... before its banner.
  TelnetLineReader r;
  const std::string bytes =
      "\xff\xfb\x19\xff\xfd\x19\xff\xfd\x03\xff\xfd\x18Welcome to TinyMUX\r\n";
  EXPECT_EQ(FeedAll(r, bytes), std::vector<std::string>{"Welcome to TinyMUX"});
}

TEST(TelnetLineReaderTest, RemovesSubnegotiationEvenAcrossFeeds) {
  TelnetLineReader r;
  EXPECT_TRUE(FeedAll(r, "a\xff\xfa\x18\x01xterm").empty());
  EXPECT_EQ(FeedAll(r,
                    "\xff\xf0"
                    "b\n"),
            std::vector<std::string>{"ab"});
}

TEST(TelnetLineReaderTest, AnEscapedIacIsAData255) {
  TelnetLineReader r;
  EXPECT_EQ(FeedAll(r, "x\xff\xffy\n"), std::vector<std::string>{"x\xffy"});
}

TEST(TelnetLineReaderTest, TwoByteCommandsSplitAcrossFeedsAreRemoved) {
  TelnetLineReader r;
  EXPECT_TRUE(FeedAll(r, "Password:\xff").empty());
  EXPECT_EQ(FeedAll(r, "\xf9\n"), std::vector<std::string>{"Password:"});  // IAC GA
}

TEST(TelnetLineReaderTest, RemovesAnsiColourAndNul) {
  TelnetLineReader r;
  static constexpr char kBytes[] = "\x1b[1;31mRed\x1b[0m room\r\0\n";
  EXPECT_EQ(FeedAll(r, std::string_view(kBytes, sizeof kBytes - 1)),
            std::vector<std::string>{"Red room"});
}

TEST(TelnetLineReaderTest, HandsOutOverlongLinesInPieces) {
  TelnetLineReader r;
  const std::string huge(TelnetLineReader::kMaxLine + 10, 'x');
  const auto lines = FeedAll(r, huge + "\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), TelnetLineReader::kMaxLine);
  EXPECT_EQ(lines[1].size(), 10u);
}

TEST(TelnetLineReaderTest, ResetForgetsPartialInput) {
  TelnetLineReader r;
  FeedAll(r, "half\xff");
  r.Reset();
  EXPECT_EQ(FeedAll(r, "new\n"), std::vector<std::string>{"new"});
}

}  // namespace
}  // namespace holomush::loadgen
