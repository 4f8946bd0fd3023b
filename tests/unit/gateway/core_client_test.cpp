// GrpcCoreClient against an in-process gRPC server with mutual TLS: unary calls, the Session
// stream's order and ends, cancellation and shutdown.
#include "core_client.hpp"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "support/net.hpp"

namespace holomush::gateway {
namespace {

using namespace std::chrono_literals;

// A certificate set for this test binary, removed at exit.
const std::string& CertsDir() {
  struct Dir {
    std::string path;
    Dir() {
      path = (std::filesystem::temp_directory_path() /
              ("holomush-gw-client-test-" + std::to_string(::getpid())))
                 .string();
      common::WriteCertificateSet(common::GenerateCertificateSet({}), path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// Echoes each command as output; "end" finishes OK after `closed`, "break" with UNAVAILABLE.
class EchoSession final : public grpc::ServerBidiReactor<v1::ClientMessage, v1::ServerMessage> {
 public:
  EchoSession() { StartRead(&in_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    v1::ServerMessage out;
    if (in_.has_open()) {
      out.mutable_opened()->mutable_character()->set_name(in_.open().session_id());
    } else if (in_.command().line() == "break") {
      return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
    } else if (in_.command().line() == "end") {
      out.mutable_closed()->set_reason("bye");
      std::lock_guard lock(mu_);
      ending_ = true;
    } else {
      out.mutable_output()->set_text("echo: " + in_.command().line());
    }
    const bool more = !in_.has_command() || in_.command().line() != "end";
    Queue(std::move(out));
    if (more) StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    out_.pop_front();
    if (!ok) return;
    if (!out_.empty()) {
      StartWrite(&out_.front());
    } else if (ending_) {
      Finish(grpc::Status::OK);
    }
  }
  void OnDone() override { delete this; }

 private:
  void Queue(v1::ServerMessage message) {
    std::lock_guard lock(mu_);
    out_.push_back(std::move(message));
    if (out_.size() == 1) StartWrite(&out_.front());
  }
  v1::ClientMessage in_;
  std::mutex mu_;
  std::deque<v1::ServerMessage> out_;
  bool ending_ = false;
};

class FakeGame final : public v1::Game::CallbackService {
 public:
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const v1::Credentials* request, v1::LoginReply* reply) override {
    if (request->password() == "right") {
      reply->set_player_id("p-" + request->username());
      reply->set_login_token("token");
    } else {
      reply->set_message("Wrong username or password.");
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerBidiReactor<v1::ClientMessage, v1::ServerMessage>* Session(
      grpc::CallbackServerContext*) override {
    return new EchoSession();
  }
};

// Collects what a stream delivers.
class Recorder : public SessionStreamHandler {
 public:
  void OnMessage(v1::ServerMessage message) override {
    std::lock_guard lock(mu_);
    messages_.push_back(std::move(message));
    cv_.notify_all();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    done_ = status;
    cv_.notify_all();
  }
  bool WaitMessages(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return messages_.size() >= n; });
  }
  std::optional<grpc::Status> WaitDone() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return done_.has_value(); });
    return done_;
  }
  std::vector<v1::ServerMessage> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<v1::ServerMessage> messages_;
  std::optional<grpc::Status> done_;
};

class CoreClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", common::MutualTlsServerCredentials(CertsDir(), "core"),
                             &port_);
    builder.RegisterService(&game_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    client_ = std::make_unique<GrpcCoreClient>(
        GrpcCoreClient::MakeChannel("127.0.0.1:" + std::to_string(port_),
                                    common::MutualTlsClientCredentials(CertsDir(), "gateway")));
  }
  void TearDown() override {
    client_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  v1::OpenSession Open(const std::string& id) {
    v1::OpenSession open;
    open.set_session_id(id);
    return open;
  }

  FakeGame game_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<GrpcCoreClient> client_;
};

TEST_F(CoreClientTest, LoginRoundTrip) {
  std::promise<std::pair<grpc::Status, v1::LoginReply>> result;
  v1::Credentials credentials;
  credentials.set_username("ana");
  credentials.set_password("right");
  client_->Login(credentials, [&](const grpc::Status& status, v1::LoginReply reply) {
    result.set_value({status, std::move(reply)});
  });
  auto [status, reply] = result.get_future().get();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.player_id(), "p-ana");
}

TEST_F(CoreClientTest, StreamKeepsOrderAndEndsWhenCancelled) {
  auto recorder = std::make_shared<Recorder>();
  auto stream = client_->OpenSession(Open("s1"), recorder);
  for (int i = 0; i < 200; ++i) EXPECT_TRUE(stream->SendCommand("line " + std::to_string(i)));
  ASSERT_TRUE(recorder->WaitMessages(201));
  const auto messages = recorder->messages();
  EXPECT_EQ(messages[0].opened().character().name(), "s1");
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(messages[i + 1].output().text(), "echo: line " + std::to_string(i));
  }
  stream->Cancel();
  auto done = recorder->WaitDone();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_FALSE(stream->SendCommand("too late"));
}

TEST_F(CoreClientTest, ServerEndsTheStream) {
  auto closed = std::make_shared<Recorder>();
  auto a = client_->OpenSession(Open("a"), closed);
  a->SendCommand("end");
  ASSERT_TRUE(closed->WaitMessages(2));
  EXPECT_EQ(closed->messages()[1].closed().reason(), "bye");
  EXPECT_TRUE(closed->WaitDone()->ok());

  auto broken = std::make_shared<Recorder>();
  auto b = client_->OpenSession(Open("b"), broken);
  b->SendCommand("break");
  auto done = broken->WaitDone();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(CoreClientTest, ShutdownCancelsStreamsAndRefusesNewCalls) {
  std::vector<std::shared_ptr<Recorder>> recorders;
  std::vector<std::shared_ptr<SessionStream>> streams;
  for (int i = 0; i < 50; ++i) {
    recorders.push_back(std::make_shared<Recorder>());
    streams.push_back(client_->OpenSession(Open("s" + std::to_string(i)), recorders.back()));
  }
  for (auto& r : recorders) ASSERT_TRUE(r->WaitMessages(1));
  const auto t0 = std::chrono::steady_clock::now();
  client_->Shutdown(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  for (auto& r : recorders) EXPECT_TRUE(r->WaitDone().has_value());
  auto late = std::make_shared<Recorder>();
  client_->OpenSession(Open("late"), late);
  EXPECT_EQ(late->WaitDone()->error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(CoreClientUnreachableTest, FailsFastWithUnavailable) {
  GrpcCoreClient client(
      GrpcCoreClient::MakeChannel("127.0.0.1:" + std::to_string(holomush::testing::FreePort()),
                                  common::MutualTlsClientCredentials(CertsDir(), "gateway")));
  std::promise<grpc::Status> result;
  client.Who([&](const grpc::Status& status, v1::WhoReply) { result.set_value(status); });
  auto future = result.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(future.get().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace holomush::gateway
