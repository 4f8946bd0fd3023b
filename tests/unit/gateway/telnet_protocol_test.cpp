#include "telnet_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

namespace holomush::gateway {
namespace {

using namespace telnet;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

class TelnetProtocolTest : public ::testing::Test {
 protected:
  // Feeds `in`; returns the data, and leaves the reply in reply_.
  std::string Feed(const std::string& in) {
    std::string data;
    reply_.clear();
    protocol_.Feed(in, data, reply_);
    return data;
  }
  TelnetProtocol protocol_;
  std::string reply_;
};

TEST_F(TelnetProtocolTest, StartAsksForWindowSizeAndTerminalType) {
  EXPECT_EQ(protocol_.Start(), Bytes({kIac, kDo, kOptNaws, kIac, kDo, kOptTtype}));
}

TEST_F(TelnetProtocolTest, PlainDataPassesThrough) {
  EXPECT_EQ(Feed("look here\r\n"), "look here\r\n");
  EXPECT_TRUE(reply_.empty());
}

TEST_F(TelnetProtocolTest, DoubledIacIsOneDataByte) {
  EXPECT_EQ(Feed(Bytes({'a', kIac, kIac, 'b'})), Bytes({'a', 0xFF, 'b'}));
}

TEST_F(TelnetProtocolTest, NegotiationNeverReachesData) {
  EXPECT_EQ(Feed(Bytes({'h', kIac, kWill, 42, 'i', kIac, kNop, kIac, kGa, '!'})), "hi!");
}

TEST_F(TelnetProtocolTest, UnknownWillIsRefusedWithDont) {
  Feed(Bytes({kIac, kWill, 42}));
  EXPECT_EQ(reply_, Bytes({kIac, kDont, 42}));
}

TEST_F(TelnetProtocolTest, UnknownDoIsRefusedWithWont) {
  Feed(Bytes({kIac, kDo, 42}));
  EXPECT_EQ(reply_, Bytes({kIac, kWont, 42}));
}

TEST_F(TelnetProtocolTest, UnsolicitedDoEchoIsRefused) {
  Feed(Bytes({kIac, kDo, kOptEcho}));
  EXPECT_EQ(reply_, Bytes({kIac, kWont, kOptEcho}));
  EXPECT_FALSE(protocol_.server_echo());
}

TEST_F(TelnetProtocolTest, SuppressGoAheadIsAccepted) {
  Feed(Bytes({kIac, kDo, kOptSga}));
  EXPECT_EQ(reply_, Bytes({kIac, kWill, kOptSga}));
  // Asked again: already on, no answer (answers to answers would loop).
  Feed(Bytes({kIac, kDo, kOptSga}));
  EXPECT_TRUE(reply_.empty());
}

TEST_F(TelnetProtocolTest, AnswerToOurRequestIsNotAnswered) {
  protocol_.Start();
  Feed(Bytes({kIac, kWill, kOptNaws}));
  EXPECT_TRUE(reply_.empty());
}

TEST_F(TelnetProtocolTest, UnrequestedNawsIsAccepted) {
  Feed(Bytes({kIac, kWill, kOptNaws}));
  EXPECT_EQ(reply_, Bytes({kIac, kDo, kOptNaws}));
}

TEST_F(TelnetProtocolTest, WontAfterYesIsAcknowledgedOnce) {
  Feed(Bytes({kIac, kWill, kOptNaws}));
  Feed(Bytes({kIac, kWont, kOptNaws}));
  EXPECT_EQ(reply_, Bytes({kIac, kDont, kOptNaws}));
  Feed(Bytes({kIac, kWont, kOptNaws}));
  EXPECT_TRUE(reply_.empty());
}

TEST_F(TelnetProtocolTest, ReadsWindowSize) {
  protocol_.Start();
  Feed(Bytes({kIac, kWill, kOptNaws, kIac, kSb, kOptNaws, 0, 132, 0, 43, kIac, kSe}));
  ASSERT_TRUE(protocol_.window_size().has_value());
  EXPECT_EQ(*protocol_.window_size(), (WindowSize{.width = 132, .height = 43}));
}

TEST_F(TelnetProtocolTest, WindowSizeWithEscapedIacByte) {
  Feed(Bytes({kIac, kSb, kOptNaws, 1, kIac, kIac, 0, 24, kIac, kSe, 'x'}));
  ASSERT_TRUE(protocol_.window_size().has_value());
  EXPECT_EQ(protocol_.window_size()->width, 0x1FF);
  EXPECT_EQ(protocol_.window_size()->height, 24);
}

TEST_F(TelnetProtocolTest, AsksForAndReadsTerminalType) {
  protocol_.Start();
  Feed(Bytes({kIac, kWill, kOptTtype}));
  EXPECT_EQ(reply_, Bytes({kIac, kSb, kOptTtype, kTtypeSend, kIac, kSe}));
  std::string in = Bytes({kIac, kSb, kOptTtype, kTtypeIs});
  in += "XTERM-256COLOR";
  in += Bytes({kIac, kSe});
  EXPECT_EQ(Feed(in), "");
  EXPECT_EQ(protocol_.terminal_type(), "XTERM-256COLOR");
}

TEST_F(TelnetProtocolTest, SplitAcrossFeedsAnywhere) {
  const std::string in = Bytes(
      {'a', kIac, kSb, kOptNaws, 0, 80, 0, 25, kIac, kSe, 'b', kIac, kIac, kIac, kWill, 42, 'c'});
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    TelnetProtocol p;
    std::string data;
    std::string reply;
    p.Feed(in.substr(0, cut), data, reply);
    p.Feed(in.substr(cut), data, reply);
    EXPECT_EQ(data, Bytes({'a', 'b', 0xFF, 'c'})) << "cut at " << cut;
    EXPECT_EQ(reply, Bytes({kIac, kDont, 42})) << "cut at " << cut;
    ASSERT_TRUE(p.window_size().has_value());
    EXPECT_EQ(p.window_size()->width, 80);
  }
}

TEST_F(TelnetProtocolTest, OverlongSubnegotiationIsDropped) {
  std::string in = Bytes({kIac, kSb, kOptTtype, kTtypeIs});
  in += std::string(100000, 'A');
  in += Bytes({kIac, kSe});
  in += "ok";
  EXPECT_EQ(Feed(in), "ok");
  EXPECT_EQ(protocol_.terminal_type(), "");
}

TEST_F(TelnetProtocolTest, SubnegotiationWithoutSeEndsAtNextCommand) {
  EXPECT_EQ(Feed(Bytes({kIac, kSb, kOptNaws, 0, 80, kIac, kWill, 42, 'z'})), "z");
  EXPECT_EQ(reply_, Bytes({kIac, kDont, 42}));
  EXPECT_FALSE(protocol_.window_size().has_value());
}

TEST_F(TelnetProtocolTest, EchoOffAndOnForPasswords) {
  EXPECT_EQ(protocol_.SetServerEcho(true), Bytes({kIac, kWill, kOptEcho}));
  EXPECT_EQ(protocol_.SetServerEcho(true), "");
  Feed(Bytes({kIac, kDo, kOptEcho}));
  EXPECT_TRUE(reply_.empty());
  EXPECT_TRUE(protocol_.server_echo());
  EXPECT_EQ(protocol_.SetServerEcho(false), Bytes({kIac, kWont, kOptEcho}));
  Feed(Bytes({kIac, kDont, kOptEcho}));
  EXPECT_TRUE(reply_.empty());
  EXPECT_FALSE(protocol_.server_echo());
}

TEST_F(TelnetProtocolTest, IacFloodProducesBoundedReplies) {
  std::string in;
  for (int i = 0; i < 10000; ++i) in += Bytes({kIac, kWill, 42, kIac, kDo, 43});
  EXPECT_EQ(Feed(in), "");
  // Each refusal moves nothing to Yes, so every repeat is refused again: 3 bytes per 3 in.
  EXPECT_EQ(reply_.size(), in.size());
}

TEST_F(TelnetProtocolTest, AreYouThereIsAnswered) {
  Feed(Bytes({kIac, kAyt}));
  EXPECT_EQ(reply_, "[Yes]\r\n");
}

TEST(TelnetEscapeTest, DoublesIac) {
  EXPECT_EQ(TelnetProtocol::EscapeIac(Bytes({'a', 0xFF, 'b'})), Bytes({'a', 0xFF, 0xFF, 'b'}));
}

}  // namespace
}  // namespace holomush::gateway
