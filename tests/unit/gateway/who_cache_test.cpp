// Pre-login `who` from one shared reply: how often core is asked, and what each caller gets.
#include "who_cache.hpp"

#include <gtest/gtest.h>

namespace holomush::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Counts Who calls and holds their completions until the test answers them.
class AskedCore final : public CoreApi {
 public:
  int asked = 0;
  std::vector<Done<v1::WhoReply>> pending;

  void Answer(const grpc::Status& status, const std::string& name) {
    v1::WhoReply reply;
    reply.add_entries()->set_name(name);
    auto calls = std::move(pending);
    pending.clear();
    for (auto& done : calls) done(status, reply);
  }

  void Who(Done<v1::WhoReply> done) override {
    ++asked;
    pending.push_back(std::move(done));
  }
  void CreateAccount(v1::Credentials, Done<v1::LoginReply>) override {}
  void Login(v1::Credentials, Done<v1::LoginReply>) override {}
  void StartSession(v1::StartSessionRequest, Done<v1::StartSessionReply>) override {}
  std::shared_ptr<SessionHandle> OpenSession(const v1::OpenSession&,
                                             std::shared_ptr<SessionReceiver>) override {
    return nullptr;
  }
};

class WhoCacheTest : public ::testing::Test {
 protected:
  // Asks `who` once; the returned strings fill as the answer arrives ("" until then).
  std::shared_ptr<std::string> Ask() {
    auto seen = std::make_shared<std::string>();
    cache_.Who([seen](const grpc::Status& status, v1::WhoReply reply) {
      *seen = status.ok() ? reply.entries(0).name() : "error: " + status.error_message();
    });
    return seen;
  }

  AskedCore core_;
  steady_clock::time_point now_ = steady_clock::now();
  WhoCache cache_{core_, milliseconds(1000), [this] { return now_; }};
};

TEST_F(WhoCacheTest, ManyAskingAtOnceCostOneQuestionToCore) {
  std::vector<std::shared_ptr<std::string>> answers;
  for (int i = 0; i < 300; ++i) answers.push_back(Ask());
  EXPECT_EQ(core_.asked, 1);
  core_.Answer(grpc::Status::OK, "Ana");
  for (const auto& answer : answers) EXPECT_EQ(*answer, "Ana");
}

TEST_F(WhoCacheTest, AReplyIsKeptForItsAgeThenAskedAgain) {
  auto first = Ask();
  core_.Answer(grpc::Status::OK, "Ana");
  now_ += milliseconds(999);
  EXPECT_EQ(*Ask(), "Ana");  // answered at once, from the kept reply
  EXPECT_EQ(core_.asked, 1);
  now_ += milliseconds(1);
  auto later = Ask();
  EXPECT_EQ(core_.asked, 2);
  EXPECT_EQ(*later, "");
  core_.Answer(grpc::Status::OK, "Bea");
  EXPECT_EQ(*later, "Bea");
}

TEST_F(WhoCacheTest, AFailureReachesEveryWaiterAndIsNotKept) {
  auto a = Ask();
  auto b = Ask();
  core_.Answer(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"), "");
  EXPECT_EQ(*a, "error: down");
  EXPECT_EQ(*b, "error: down");
  auto c = Ask();
  EXPECT_EQ(core_.asked, 2) << "a failed answer was served again";
}

}  // namespace
}  // namespace holomush::gateway
