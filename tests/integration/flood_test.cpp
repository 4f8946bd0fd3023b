// Flood control in core: one player's flood is refused politely and never grows the queues;
// a login storm is bounded and refused as busy, not queued past the callers' deadlines.
#include <gtest/gtest.h>

#include <future>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

using namespace std::chrono_literals;

class FloodTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args) {
    url_ = FreshDatabase("flood");
    core_ = std::make_unique<CoreProcess>(url_, std::move(args));
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
  }

  std::string url_;
  std::unique_ptr<CoreProcess> core_;
};

TEST_F(FloodTest, APlayerOverTheCommandRateIsToldAndTheOthersKeepPlaying) {
  Start({"--command-rate", "1", "--command-burst", "5"});
  PlayerClient ana(core_->address());
  PlayerClient bob(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  ASSERT_TRUE(ana.WaitFor("Bob has connected."));
  (void)ana.Take();
  for (int i = 0; i < 20; ++i) ana.Send("say flood " + std::to_string(i));
  ASSERT_TRUE(ana.WaitFor("You are sending commands too fast; that one was not run."));
  ASSERT_TRUE(bob.WaitFor("Ana says, \"flood 4\""));
  // Bob is not limited by Ana's flood.
  bob.Send("say still here");
  ASSERT_TRUE(ana.WaitFor("Bob says, \"still here\""));
  // What Ana sent past her burst was refused, each with one line, and none of it was said.
  EXPECT_TRUE(WaitUntil([&] {
    return core_->Metric("holomush_commands_refused_total{reason=\"rate\"}").value_or(0) >= 14;
  }));
  const auto said = QueryOne(url_,
                             "SELECT count(*) FROM events WHERE type = 'say' AND"
                             " payload->>'message' LIKE 'flood %'");
  EXPECT_GE(std::stoi(said), 5);
  EXPECT_LE(std::stoi(said), 6);  // the burst, plus at most one token refilled meanwhile
  EXPECT_EQ(core_->Metric("holomush_commands_refused_total{reason=\"backlog\"}"), 0.0);
  // A second later the bucket has a token again.
  EXPECT_TRUE(WaitUntil(
      [&] {
        ana.Send("say after the pause");
        return bob.WaitFor("Ana says, \"after the pause\"", 300ms).has_value();
      },
      10s));
}

// A session's strand stuck on the database (its page looks for a character behind a lock):
// the commands sent meanwhile wait up to 32 in all; every one past that is refused as busy,
// once, and counted.
TEST_F(FloodTest, CommandsBeyondThirtyTwoWaitingOnOneSessionAreRefusedAsBacklog) {
  Start({});
  PlayerClient ana(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ana.Send("look");
  ASSERT_TRUE(ana.WaitFor("The Nexus"));
  (void)ana.Take();
  pqxx::connection blocker(url_);
  pqxx::work lock(blocker);
  lock.exec("LOCK TABLE characters IN ACCESS EXCLUSIVE MODE");
  for (int i = 0; i < 41; ++i) ana.Send("page nobody=hello?");
  ASSERT_TRUE(WaitUntil([&] {
    return core_->Metric("holomush_commands_refused_total{reason=\"backlog\"}") == 9.0;
  })) << core_->Metric("holomush_commands_refused_total{reason=\"backlog\"}").value_or(-1);
  lock.commit();
  std::vector<std::string> texts;
  auto count = [&](const std::string& prefix) {
    return std::count_if(texts.begin(), texts.end(),
                         [&](const std::string& t) { return t.rfind(prefix, 0) == 0; });
  };
  ASSERT_TRUE(WaitUntil([&] {
    for (auto& t : ana.Take()) texts.push_back(std::move(t));
    return count("There is no character called 'nobody'.") == 32;
  })) << count("There is no character called 'nobody'.");
  EXPECT_EQ(count("The server is busy, try again in a moment."), 9);
  EXPECT_EQ(core_->Metric("holomush_commands_refused_total{reason=\"backlog\"}"), 9.0);
  EXPECT_EQ(core_->Metric("holomush_commands_refused_total{reason=\"rate\"}"), 0.0);
}

TEST_F(FloodTest, ALoginStormIsRefusedAsBusyBeyondThePasswordQueue) {
  Start({"--password-threads", "1", "--password-queue", "2"});
  PlayerClient setup(core_->address());
  ASSERT_TRUE(setup.Create("ana", "secret-ana").message().empty());
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < 24; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      pb::Credentials credentials;
      credentials.set_username("ana");
      credentials.set_password("secret-ana");
      pb::LoginReply reply;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 30s);
      return setup.stub().Login(&ctx, credentials, &reply);
    }));
  }
  int ok = 0;
  int busy = 0;
  for (auto& call : calls) {
    const auto status = call.get();
    if (status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_EQ(status.error_message(), "The server is busy, try again in a moment.");
      ++busy;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1) << "24 logins at once never exceeded a queue of 2";
  EXPECT_EQ(
      core_->Metric("holomush_grpc_requests_total{code=\"RESOURCE_EXHAUSTED\",method=\"Login\"}"),
      static_cast<double>(busy));
  // Once the storm is over, logins work again.
  EXPECT_TRUE(setup.Login("ana", "secret-ana").message().empty());
}

}  // namespace
}  // namespace holomush::testing
