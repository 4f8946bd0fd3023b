// GrpcCoreClient against an in-process gRPC server with mutual TLS: unary calls, sessions
// multiplexed on Gateway streams (order, ends, fan-out), cancellation and shutdown.
#include "core_client.hpp"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "support/net.hpp"
#include "support/wait.hpp"

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

class EchoGateway;

// What the fake core's streams tell the test.
struct GatewayHooks {
  std::function<void(uint64_t)> on_detach;
  std::function<void(EchoGateway*)> on_hold;  // the stream stopped reading
  std::function<void(int)> on_batch;          // a GatewayUp read: its command frames
};

// One Gateway stream of the fake core. Per handle: `open` answers `opened` (character name =
// session id); a command is echoed as output; "end" answers `closed` (that session only);
// "shout <text>" sends one event frame to every open handle of the stream; "break" ends the
// whole stream with UNAVAILABLE; "hold" stops reading until Resume().
class EchoGateway final : public grpc::ServerBidiReactor<v1::GatewayUp, v1::GatewayDown> {
 public:
  explicit EchoGateway(GatewayHooks hooks) : hooks_(std::move(hooks)) { StartRead(&in_); }

  void Resume() { StartRead(&in_); }

  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    v1::GatewayDown out;
    bool hold = false;
    hooks_.on_batch(static_cast<int>(std::count_if(in_.frames().begin(), in_.frames().end(),
                                                   [](const auto& f) { return f.has_command(); })));
    for (const auto& frame : in_.frames()) {
      const uint64_t handle = frame.handle();
      auto* down = out.add_frames();
      down->add_handles(handle);
      auto* msg = down->mutable_message();
      if (frame.has_open()) {
        open_.push_back(handle);
        msg->mutable_opened()->mutable_character()->set_name(frame.open().session_id());
      } else if (frame.has_detach()) {
        out.mutable_frames()->RemoveLast();
        std::erase(open_, handle);
        hooks_.on_detach(handle);
      } else if (frame.command().line() == "break") {
        return Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
      } else if (frame.command().line() == "hold") {
        hold = true;
        msg->mutable_output()->set_text("holding");
      } else if (frame.command().line() == "end") {
        msg->mutable_closed()->set_reason("bye");
        std::erase(open_, handle);
      } else if (frame.command().line().rfind("shout ", 0) == 0) {
        down->clear_handles();
        for (const uint64_t h : open_) down->add_handles(h);
        msg->mutable_event()->set_id("E1");
        msg->mutable_event()->set_text(frame.command().line().substr(6));
      } else {
        msg->mutable_output()->set_text("echo: " + frame.command().line());
      }
    }
    Queue(std::move(out));
    if (hold) {
      hooks_.on_hold(this);
      return;
    }
    StartRead(&in_);
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    out_.pop_front();
    if (ok && !out_.empty()) StartWrite(&out_.front());
  }
  void OnDone() override { delete this; }

 private:
  void Queue(v1::GatewayDown message) {
    if (message.frames_size() == 0) return;
    std::lock_guard lock(mu_);
    out_.push_back(std::move(message));
    if (out_.size() == 1) StartWrite(&out_.front());
  }
  GatewayHooks hooks_;
  v1::GatewayUp in_;
  std::vector<uint64_t> open_;  // touched by reactions only, one at a time
  std::mutex mu_;
  std::deque<v1::GatewayDown> out_;
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
  grpc::ServerBidiReactor<v1::GatewayUp, v1::GatewayDown>* Gateway(
      grpc::CallbackServerContext*) override {
    ++streams_;
    return new EchoGateway({.on_detach = [this](uint64_t) { ++detaches_; },
                            .on_hold =
                                [this](EchoGateway* stream) {
                                  std::lock_guard lock(mu_);
                                  held_ = stream;
                                },
                            .on_batch =
                                [this](int commands) {
                                  std::lock_guard lock(mu_);
                                  batches_.push_back(commands);
                                }});
  }
  // Gateway streams opened so far, and detach frames received.
  int streams() const { return streams_; }
  int detaches() const { return detaches_; }
  bool holding() {
    std::lock_guard lock(mu_);
    return held_ != nullptr;
  }
  // The held stream reads again.
  void Release() {
    std::lock_guard lock(mu_);
    if (held_ != nullptr) held_->Resume();
    held_ = nullptr;
  }
  // How many commands each GatewayUp read so far held, in order.
  std::vector<int> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  EchoGateway* held_ = nullptr;
  std::vector<int> batches_;
  std::atomic<int> streams_{0};
  std::atomic<int> detaches_{0};
};

// Collects what a session receives.
class Recorder : public SessionReceiver {
 public:
  void OnMessage(SharedServerMessage message) override {
    std::lock_guard lock(mu_);
    messages_.push_back(*message);
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
  std::optional<grpc::Status> WaitDone(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return done_.has_value(); });
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
    // A small flow-control window: a stream the fake stops reading stalls the client's
    // writes after a few KiB.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8192);
    builder.AddListeningPort(
        "127.0.0.1:0", common::MutualTlsServerCredentials(CertsDir(), "core", {"gateway"}), &port_);
    builder.RegisterService(&game_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    UseStreams(2);
  }
  // A new client to the fake core, with `streams` Gateway streams.
  void UseStreams(int streams) {
    client_ = std::make_unique<GrpcCoreClient>(
        GrpcCoreClient::MakeChannel("127.0.0.1:" + std::to_string(port_),
                                    common::MutualTlsClientCredentials(CertsDir(), "gateway")),
        streams);
  }
  // Opens sessions "s0".."s<n-1>" and waits until each is opened.
  void OpenOpened(int n) {
    for (int i = 0; i < n; ++i) {
      recorders_.push_back(std::make_shared<Recorder>());
      sessions_.push_back(client_->OpenSession(Open("s" + std::to_string(i)), recorders_.back()));
      ASSERT_TRUE(recorders_.back()->WaitMessages(1));
    }
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
  std::vector<std::shared_ptr<Recorder>> recorders_;
  std::vector<std::shared_ptr<SessionHandle>> sessions_;
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
  std::vector<std::shared_ptr<SessionHandle>> streams;
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

TEST_F(CoreClientTest, ManySessionsShareTwoStreamsAndEachGetsItsOwnOutputInOrder) {
  constexpr int kSessions = 40;
  constexpr int kLines = 50;
  std::vector<std::shared_ptr<Recorder>> recorders;
  std::vector<std::shared_ptr<SessionHandle>> sessions;
  for (int i = 0; i < kSessions; ++i) {
    recorders.push_back(std::make_shared<Recorder>());
    sessions.push_back(client_->OpenSession(Open("s" + std::to_string(i)), recorders.back()));
  }
  // Interleaved: line j of every session before line j+1 of any.
  for (int j = 0; j < kLines; ++j) {
    for (int i = 0; i < kSessions; ++i) {
      ASSERT_TRUE(sessions[i]->SendCommand("s" + std::to_string(i) + " line " + std::to_string(j)));
    }
  }
  for (int i = 0; i < kSessions; ++i) {
    ASSERT_TRUE(recorders[i]->WaitMessages(kLines + 1)) << i;
    const auto messages = recorders[i]->messages();
    ASSERT_EQ(messages.size(), static_cast<size_t>(kLines + 1)) << i;
    EXPECT_EQ(messages[0].opened().character().name(), "s" + std::to_string(i));
    for (int j = 0; j < kLines; ++j) {
      EXPECT_EQ(messages[j + 1].output().text(),
                "echo: s" + std::to_string(i) + " line " + std::to_string(j));
    }
  }
  EXPECT_EQ(game_.streams(), 2);
}

TEST_F(CoreClientTest, OneEventFrameReachesEverySessionItNames) {
  OpenOpened(6);
  auto& recorders = recorders_;
  auto& sessions = sessions_;
  // Sessions 0, 2, 4 share one stream, 1, 3, 5 the other: a shout on 0 reaches 0, 2 and 4.
  sessions[0]->SendCommand("shout hello");
  for (int i : {0, 2, 4}) {
    ASSERT_TRUE(recorders[i]->WaitMessages(2)) << i;
    EXPECT_EQ(recorders[i]->messages()[1].event().text(), "hello");
  }
  sessions[1]->SendCommand("ping");
  ASSERT_TRUE(recorders[1]->WaitMessages(2));
  for (int i : {1, 3, 5}) {
    const auto messages = recorders[i]->messages();
    for (const auto& m : messages) EXPECT_FALSE(m.has_event()) << i;
  }
}

TEST_F(CoreClientTest, OneSessionEndingLeavesTheOthersOnItsStream) {
  UseStreams(1);
  auto quitter = std::make_shared<Recorder>();
  auto leaver = std::make_shared<Recorder>();
  auto stayer = std::make_shared<Recorder>();
  auto q = client_->OpenSession(Open("q"), quitter);
  auto l = client_->OpenSession(Open("l"), leaver);
  auto s = client_->OpenSession(Open("s"), stayer);
  ASSERT_TRUE(stayer->WaitMessages(1));
  q->SendCommand("end");
  EXPECT_TRUE(quitter->WaitDone()->ok());
  EXPECT_EQ(quitter->messages().back().closed().reason(), "bye");
  l->Cancel();
  EXPECT_EQ(leaver->WaitDone()->error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_FALSE(l->SendCommand("too late"));
  ASSERT_TRUE(holomush::testing::WaitUntil([&] { return game_.detaches() == 1; }));
  EXPECT_TRUE(s->SendCommand("still here"));
  ASSERT_TRUE(stayer->WaitMessages(2));
  EXPECT_EQ(stayer->messages()[1].output().text(), "echo: still here");
  EXPECT_FALSE(stayer->WaitDone(100ms).has_value());
  EXPECT_EQ(game_.streams(), 1);
}

TEST_F(CoreClientTest, ABrokenStreamEndsAllItsSessionsAndTheNextOpenStartsANewOne) {
  UseStreams(1);
  OpenOpened(3);
  auto& recorders = recorders_;
  auto& sessions = sessions_;
  sessions[1]->SendCommand("break");
  for (auto& r : recorders) EXPECT_EQ(r->WaitDone()->error_code(), grpc::StatusCode::UNAVAILABLE);
  for (auto& s : sessions) EXPECT_FALSE(s->SendCommand("lost"));
  auto again = std::make_shared<Recorder>();
  auto s = client_->OpenSession(Open("s0"), again);
  s->SendCommand("back");
  ASSERT_TRUE(again->WaitMessages(2));
  EXPECT_EQ(again->messages()[1].output().text(), "echo: back");
  EXPECT_EQ(game_.streams(), 2);
}

// Core stops reading: the write in flight stalls, a session's commands queue behind it up to
// 512, and each one past that is refused at once. When core reads again, the 512 leave in
// one batch, in order, and nothing refused is sent.
TEST_F(CoreClientTest, AtMost512CommandsOfASessionWaitBehindAStalledWrite) {
  UseStreams(1);
  OpenOpened(1);
  auto& session = sessions_[0];
  ASSERT_TRUE(session->SendCommand("hold"));
  ASSERT_TRUE(holomush::testing::WaitUntil([&] { return game_.holding(); }));
  const std::string padding(100, 'x');
  int accepted = 0;
  while (accepted < 100'000 && session->SendCommand(std::to_string(accepted) + " " + padding)) {
    ++accepted;
  }
  ASSERT_LT(accepted, 100'000) << "the writes never stalled";
  EXPECT_GE(accepted, 512);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(session->SendCommand("refused " + std::to_string(i)));

  game_.Release();
  auto& recorder = recorders_[0];
  ASSERT_TRUE(recorder->WaitMessages(static_cast<size_t>(2 + accepted)));
  const auto messages = recorder->messages();
  ASSERT_EQ(messages.size(), static_cast<size_t>(2 + accepted));
  EXPECT_EQ(messages[1].output().text(), "holding");
  for (int i = 0; i < accepted; ++i) {
    ASSERT_EQ(messages[2 + i].output().text(), "echo: " + std::to_string(i) + " " + padding) << i;
  }
  EXPECT_EQ(game_.batches().back(), 512);
  // Drained: the session is served again.
  EXPECT_TRUE(session->SendCommand("after"));
  ASSERT_TRUE(recorder->WaitMessages(static_cast<size_t>(3 + accepted)));
  EXPECT_EQ(recorder->messages().back().output().text(), "echo: after");
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
