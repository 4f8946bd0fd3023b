#include "ws_message.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connection.hpp"
#include "login_throttle.hpp"
#include "player_session.hpp"
#include "resume_memory.hpp"

namespace holomush::gateway {
namespace {

TEST(ParseClientMessageTest, AcceptsACommand) {
  auto c = ParseClientMessage(R"({"type":"command","line":"say hi\tthere"})", 100);
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.line, "say hi there");
}

TEST(ParseClientMessageTest, RefusesWithOneLine) {
  for (const char* bad : {"not json", "[1,2]", R"({"type":"hello"})", R"({"type":"command"})",
                          R"({"type":"command","line":7})"}) {
    auto c = ParseClientMessage(bad, 100);
    EXPECT_FALSE(c.ok) << bad;
    EXPECT_FALSE(c.error.empty()) << bad;
    EXPECT_EQ(c.error.find('\n'), std::string::npos) << bad;
  }
}

TEST(ParseClientMessageTest, TooLongLine) {
  auto c = ParseClientMessage(R"({"type":"command","line":")" + std::string(200, 'x') + "\"}", 100);
  EXPECT_FALSE(c.ok);
  EXPECT_TRUE(c.too_long);
}

TEST(ParseClientMessageTest, AcceptsAResume) {
  auto c = ParseClientMessage(
      R"({"type":"resume","session_id":"s-1","resume_token":"abc","last_event_id":"01J"})", 100);
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.kind, ClientCommand::Kind::kResume);
  EXPECT_EQ(c.session_id, "s-1");
  EXPECT_EQ(c.resume_token, "abc");
  EXPECT_EQ(c.last_event_id, "01J");
  c = ParseClientMessage(R"({"type":"resume","session_id":"s","resume_token":"t"})", 100);
  ASSERT_TRUE(c.ok);
  EXPECT_EQ(c.last_event_id, "");
}

TEST(ParseClientMessageTest, RefusesAMalformedResume) {
  for (const std::string& bad : std::vector<std::string>{
           R"({"type":"resume","resume_token":"t"})", R"({"type":"resume","session_id":"s"})",
           R"({"type":"resume","session_id":"","resume_token":"t"})",
           R"({"type":"resume","session_id":"a b","resume_token":"t"})",
           R"({"type":"resume","session_id":7,"resume_token":"t"})",
           R"({"type":"resume","session_id":"s","resume_token":")" + std::string(200, 'x') +
               "\"}"}) {
    auto c = ParseClientMessage(bad, 100);
    EXPECT_FALSE(c.ok) << bad;
    EXPECT_FALSE(c.error.empty()) << bad;
  }
}

TEST(WsMessagesTest, SessionClosedAndRefusalMessages) {
  auto j = nlohmann::json::parse(SessionMessage("s-1", "tok", "Ana"));
  EXPECT_EQ(j["type"], "session");
  EXPECT_EQ(j["session_id"], "s-1");
  EXPECT_EQ(j["resume_token"], "tok");
  EXPECT_EQ(j["character"], "Ana");
  EXPECT_EQ(nlohmann::json::parse(ClosedMessage("bye"))["resume"], false);
  EXPECT_EQ(nlohmann::json::parse(ClosedMessage("restarting", true))["resume"], true);
  EXPECT_EQ(nlohmann::json::parse(ResumeRefusedMessage("gone"))["type"], "resume_refused");
}

TEST(WsMessagesTest, DownMessagesAreJsonWithRepairedText) {
  auto j = nlohmann::json::parse(OutputMessage("bad \xFF byte"));
  EXPECT_EQ(j["type"], "output");
  EXPECT_EQ(j["text"], "bad \xEF\xBF\xBD byte");
  j = nlohmann::json::parse(EventMessage(
      {.id = "01J", .type = "say", .actor = "Ana", .text = "Ana says, \"hi\"", .unix_millis = 5}));
  EXPECT_EQ(j["type"], "event");
  EXPECT_EQ(j["event"], "say");
  EXPECT_EQ(j["time"], 5);
  EXPECT_EQ(nlohmann::json::parse(ClosedMessage("bye"))["reason"], "bye");
  EXPECT_EQ(nlohmann::json::parse(EchoMessage(false))["on"], false);
}

TEST(ResumeMemoryTest, TakeRemovesAndCapacityEvictsOldest) {
  ResumeMemory memory(2);
  memory.Remember("a", {"s1", "r1", "e1"});
  memory.Remember("b", {"s2", "r2", "e2"});
  memory.Remember("a", {"s1", "r1", "e3"});
  memory.Remember("c", {"s3", "r3", "e4"});
  EXPECT_EQ(memory.size(), 2u);
  EXPECT_FALSE(memory.Take("b").has_value());
  auto a = memory.Take("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->last_event_id, "e3");
  EXPECT_FALSE(memory.Take("a").has_value());
}

TEST(ResumeMemoryTest, ForgetsOldEntries) {
  ResumeMemory memory(10, std::chrono::seconds(0));
  memory.Remember("a", {"s1", "r1", "e1"});
  EXPECT_FALSE(memory.Take("a").has_value());
}

TEST(DescribeCoreErrorTest, UnavailableReadsAsAPlayerWouldWant) {
  EXPECT_EQ(DescribeCoreError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed")),
            text::kUnavailable);
  EXPECT_EQ(DescribeCoreError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "Bad name.")),
            "Bad name.");
}

TEST(ConnectionRegistryTest, LimitAndStopping) {
  ConnectionRegistry registry({.total = 1});
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.Reserve("10.0.0.2"), ConnectionRegistry::Admit::kFull);
  registry.Release("10.0.0.1");
  EXPECT_TRUE(registry.WaitEmpty(std::chrono::milliseconds(10)));
  registry.ShutdownAll("bye");
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kStopping);
}

TEST(ConnectionRegistryTest, ConnectionsNotLoggedInHaveTheirOwnCap) {
  struct Quiet final : ClientConnection {
    void Shutdown(std::string) override {}
  };
  auto first = std::make_shared<Quiet>();
  ConnectionRegistry registry({.total = 10, .prelogin = 2});
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kOk);
  registry.Add(first.get(), first, "10.0.0.1");
  EXPECT_EQ(registry.Reserve("10.0.0.2"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.Reserve("10.0.0.3"), ConnectionRegistry::Admit::kLoginsFull);
  // One logs in: a connection may wait at the login prompt again.
  registry.LoggedIn(first.get());
  registry.LoggedIn(first.get());  // a resumed session says so again: counted once
  EXPECT_EQ(registry.prelogin(), 1u);
  EXPECT_EQ(registry.Reserve("10.0.0.3"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.Reserve("10.0.0.4"), ConnectionRegistry::Admit::kLoginsFull);
  // A logged-in player leaving frees no pre-login place; a waiting one giving up does.
  registry.Remove(first.get());
  EXPECT_EQ(registry.Reserve("10.0.0.4"), ConnectionRegistry::Admit::kLoginsFull);
  registry.Release("10.0.0.2");
  EXPECT_EQ(registry.Reserve("10.0.0.4"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(registry.prelogin(), 2u);
}

TEST(ConnectionRegistryTest, OneAddressCannotTakeEverySlot) {
  ConnectionRegistry registry({.total = 10, .per_address = 2});
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kAddressFull);
  EXPECT_EQ(registry.Reserve("10.0.0.2"), ConnectionRegistry::Admit::kOk);
  registry.Release("10.0.0.1");
  EXPECT_EQ(registry.Reserve("10.0.0.1"), ConnectionRegistry::Admit::kOk);
  EXPECT_EQ(registry.size(), 3u);
  // This machine's own connections are never limited per address.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(registry.Reserve("127.0.0.1"), ConnectionRegistry::Admit::kOk);
}

TEST(LoginThrottleTest, LimitsEachAddressOnItsOwn) {
  LoginThrottle throttle(3, 1);  // 3 logins and 1 creation a minute per address
  const auto t0 = LoginThrottle::Clock::time_point{} + std::chrono::hours(1);
  using Kind = LoginThrottle::Kind;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(throttle.Admit("10.0.0.1", Kind::kLogin, t0)) << i;
  EXPECT_FALSE(throttle.Admit("10.0.0.1", Kind::kLogin, t0));
  EXPECT_TRUE(throttle.Admit("10.0.0.2", Kind::kLogin, t0));
  EXPECT_TRUE(throttle.Admit("10.0.0.1", Kind::kCreate, t0));
  EXPECT_FALSE(throttle.Admit("10.0.0.1", Kind::kCreate, t0 + std::chrono::seconds(30)));
  EXPECT_TRUE(throttle.Admit("10.0.0.1", Kind::kLogin, t0 + std::chrono::seconds(20)));
  EXPECT_TRUE(throttle.Admit("10.0.0.1", Kind::kCreate, t0 + std::chrono::seconds(61)));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(throttle.Admit("::1", Kind::kCreate, t0));
  LoginThrottle off(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Admit("10.0.0.1", Kind::kCreate, t0));
}

}  // namespace
}  // namespace holomush::gateway
