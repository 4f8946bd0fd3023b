// The client front (telnet and WebSocket over real loopback sockets) against a fake core.
#include "front.hpp"

#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <prometheus/registry.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_core.hpp"
#include "support/net.hpp"
#include "support/wait.hpp"
#include "telnet_protocol.hpp"

namespace holomush::gateway {
namespace {

using namespace std::chrono_literals;
using holomush::testing::TcpClient;
using holomush::testing::WaitUntil;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

double Metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (!match) continue;
      if (family.type == prometheus::MetricType::Counter) return m.counter.value;
      if (family.type == prometheus::MetricType::Gauge) return m.gauge.value;
    }
  }
  return -1;
}

// The local port of a TCP socket (0 if it has none).
int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

// The gateway's end of a client connection: the socket of this process bound to
// `server_port` whose peer is the client's `client_port` (-1 if none).
int ServerSocketFor(int server_port, int client_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (entry->d_name[0] == '.' || fd == dirfd(dir)) continue;
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == client_port &&
        LocalPort(fd) == server_port) {
      found = fd;
    }
  }
  closedir(dir);
  return found;
}

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value;
}

class FrontTest : public ::testing::Test {
 protected:
  void SetUp() override { metrics_ = std::make_unique<GatewayMetrics>(*registry_); }
  void TearDown() override {
    if (front_) front_->Stop(2s, std::string(kShutdownText));
  }

  void Start(ConnectionLimits limits = {}, size_t max_connections = 100,
             std::vector<std::string> allowed_origins = {}) {
    ConnectionEnv env{.limits = limits,
                      .deps = {.core = &core_, .resume = &resume_, .metrics = metrics_.get()},
                      .session = {.reconnect_initial = 20ms, .reconnect_max = 100ms},
                      .metrics = metrics_.get(),
                      .web_assets = web_assets_,
                      .allowed_origins = std::move(allowed_origins)};
    front_ = std::make_unique<ClientFront>(env, ConnectionCaps{.total = max_connections}, 2);
    front_->Start({.host = "127.0.0.1", .port = 0},
                  common::HostPort{.host = "127.0.0.1", .port = 0});
  }

  std::unique_ptr<TcpClient> Connect() {
    auto client = std::make_unique<TcpClient>(front_->telnet_port());
    EXPECT_TRUE(client->connected());
    EXPECT_TRUE(client->ReadUntil("quit").has_value()) << client->Pending();
    return client;
  }

  // Creates (or connects) and waits until the game answers `look`.
  std::unique_ptr<TcpClient> Player(const std::string& verb, const std::string& name) {
    auto client = Connect();
    client->Send(verb + " " + name + " pw-" + name + "\r\n");
    // A new session begins with a look at the room.
    EXPECT_TRUE(client->ReadUntil("A quiet place.\r\n").has_value()) << client->Pending();
    return client;
  }

  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return Metric(*registry_, name, labels);
  }

  fakes::FakeCore core_;
  ResumeMemory resume_;
  std::span<const WebAsset> web_assets_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<GatewayMetrics> metrics_;
  std::unique_ptr<ClientFront> front_;
};

TEST_F(FrontTest, GreetsWithNegotiationAndBanner) {
  Start();
  TcpClient client(front_->telnet_port());
  auto got = client.ReadUntil("quit                           leave\r\n");
  ASSERT_TRUE(got.has_value()) << client.Pending();
  using namespace telnet;
  EXPECT_EQ(got->substr(0, 6), Bytes({kIac, kDo, kOptNaws, kIac, kDo, kOptTtype}));
  EXPECT_NE(got->find("Welcome to HoloMUSH!\r\n"), std::string::npos);
}

TEST_F(FrontTest, AnswersAndRefusesNegotiation) {
  Start();
  auto client = Connect();
  using namespace telnet;
  client->Send(Bytes({kIac, kWill, kOptTtype, kIac, kDo, 42}));
  EXPECT_TRUE(client->ReadUntil(Bytes({kIac, kSb, kOptTtype, kTtypeSend, kIac, kSe})));
  EXPECT_TRUE(client->ReadUntil(Bytes({kIac, kWont, 42})));
  // Negotiation bytes in the middle of a command never reach the game.
  client->Send("conn" + Bytes({kIac, kNop}) + "ect nobody x\r\n");
  EXPECT_TRUE(client->ReadUntil("Wrong username or password.\r\n"));
}

TEST_F(FrontTest, TwoPlayersTalk) {
  Start();
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ana->Send("say hello there\r\n");
  EXPECT_TRUE(ana->ReadUntil("You say, \"hello there\"\r\n"));
  EXPECT_TRUE(bob->ReadUntil("Ana says, \"hello there\"\r\n"));
  EXPECT_EQ(Value("holomush_gateway_sessions_active"), 2);
  EXPECT_EQ(Value("holomush_gateway_connections_active", {{"protocol", "telnet"}}), 2);
}

TEST_F(FrontTest, PasswordPromptTurnsEchoOffAndBackOn) {
  core_.AddAccount("ana", "secret", {"Ana"});
  Start();
  auto client = Connect();
  using namespace telnet;
  client->Send("connect ana\r\n");
  EXPECT_TRUE(client->ReadUntil(Bytes({kIac, kWill, kOptEcho}) + "Password: "));
  client->Send(Bytes({kIac, kDo, kOptEcho}) + "secret\r\nlook\r\n");
  EXPECT_TRUE(client->ReadUntil(Bytes({kIac, kWont, kOptEcho}) + "\r\n"));
  EXPECT_TRUE(client->ReadUntil("A quiet place.")) << client->Pending();
  EXPECT_TRUE(client->ReadUntil("A quiet place.")) << client->Pending();
  EXPECT_EQ(core_.commands(), (std::vector<std::string>{"look", "look"}));
}

TEST_F(FrontTest, ANewSessionSaysWhoYouAreAndShowsTheRoomBeforeWhatYouTyped) {
  core_.AddAccount("bea", "secret", {"Bea"});
  Start();
  auto made = Connect();
  made->Send("create ana secret\r\nsay hi\r\n");
  auto got = made->ReadUntil("You say, \"hi\"\r\n");
  ASSERT_TRUE(got) << made->Pending();
  const size_t welcome = got->find("Your account is made. Welcome to HoloMUSH, Ana!\r\n");
  const size_t room = got->find("A quiet place.\r\n");
  EXPECT_NE(welcome, std::string::npos) << *got;
  EXPECT_NE(room, std::string::npos) << *got;
  EXPECT_LT(welcome, room) << *got;

  auto back = Connect();
  back->Send("connect bea secret\r\n");
  EXPECT_TRUE(back->ReadUntil("Welcome back, Bea.\r\n")) << back->Pending();
  EXPECT_TRUE(back->ReadUntil("A quiet place.\r\n")) << back->Pending();
  EXPECT_EQ(core_.commands(), (std::vector<std::string>{"look", "say hi", "look"}));
}

TEST_F(FrontTest, OutputWrapsToTheWidthTheClientReports) {
  Start();
  auto ana = Player("create", "ana");
  using namespace telnet;
  // IAC SB NAWS 0 24 0 40 IAC SE: 24 columns.
  ana->Send(Bytes({kIac, kSb, kOptNaws, 0, 24, 0, 40, kIac, kSe}) +
            "say the quick brown fox jumps over the lazy dog\r\n");
  EXPECT_TRUE(ana->ReadUntil("You say, \"the quick\r\nbrown fox jumps over the\r\nlazy dog\"\r\n"))
      << ana->Pending();
}

TEST_F(FrontTest, RefusalIsShownVerbatim) {
  core_.AddAccount("ana", "secret", {"Ana"});
  Start();
  auto client = Connect();
  client->Send("connect ana wrong\r\ncreate ana other\r\n");
  EXPECT_TRUE(client->ReadUntil("\r\nWrong username or password.\r\n"));
  EXPECT_TRUE(client->ReadUntil("That username is taken.\r\n")) << client->Pending();
}

TEST_F(FrontTest, SeveralCharactersArePickedWithPlay) {
  core_.AddAccount("ana", "secret", {"Ana", "Bea Trix"});
  Start();
  auto client = Connect();
  client->Send("connect ana secret\r\n");
  EXPECT_TRUE(client->ReadUntil("Your characters: Ana, Bea Trix\r\nType play <name>"));
  client->Send("look\r\nplay bea trix\r\nlook\r\n");
  EXPECT_TRUE(client->ReadUntil("Choose a character first"));
  EXPECT_TRUE(client->ReadUntil("A quiet place."));
  ASSERT_EQ(core_.opens().size(), 1u);
  EXPECT_EQ(core_.opens()[0].protocol(), "telnet");
}

TEST_F(FrontTest, PreLoginWhoAndQuit) {
  Start();
  auto ana = Player("create", "ana");
  auto client = Connect();
  client->Send("who\r\nquit\r\n");
  EXPECT_TRUE(client->ReadUntil("Name  Idle\r\nAna     1m\r\n1 character connected.\r\n"));
  EXPECT_TRUE(client->ReadUntil("Goodbye.\r\n"));
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_TRUE(WaitUntil([&] {
    return Value("holomush_gateway_disconnects_total",
                 {{"protocol", "telnet"}, {"reason", "quit"}}) == 1;
  }));
}

TEST_F(FrontTest, OverlongLineIsRefusedOnceAndTheConnectionKept) {
  Start();
  auto ana = Player("create", "ana");
  ana->Send(std::string(1 << 20, 'a') + "\r\nlook\r\n");
  auto got = ana->ReadUntil("A quiet place.\r\n");
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("That line was too long (more than 4096 bytes); it was ignored.\r\n"),
            std::string::npos);
  EXPECT_EQ(core_.commands(), (std::vector<std::string>{"look", "look"}));
}

TEST_F(FrontTest, InvalidUtf8AndControlsAreCleanedBeforeCore) {
  Start();
  auto ana = Player("create", "ana");
  ana->Send("say caf\xC3\xA9 \x80\xFE bad\x1B[2J\r\n");
  EXPECT_TRUE(ana->ReadUntil("You say, \"caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD bad[2J\"\r\n"));
}

TEST_F(FrontTest, LineEndingsOfAllKinds) {
  Start();
  auto ana = Player("create", "ana");
  ana->Send(std::string("look\rlook\nlook\r\0look\r\n", 21));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ana->ReadUntil("A quiet place.\r\n"));
  EXPECT_EQ(core_.commands().size(), 5u);
}

TEST_F(FrontTest, ConnectionLimitRefusesPolitely) {
  Start({}, 2);
  auto a = Connect();
  auto b = Connect();
  TcpClient c(front_->telnet_port());
  EXPECT_TRUE(c.ReadUntil("Sorry, the game is full right now."));
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(Value("holomush_gateway_connections_refused_total",
                  {{"protocol", "telnet"}, {"reason", "limit"}}),
            1);
  a->Close();
  ASSERT_TRUE(WaitUntil([&] { return front_->connections() == 1; }));
  auto d = Connect();
}

TEST_F(FrontTest, EachTelnetSocketHasASmallSendBufferAndNoDelay) {
  Start();
  auto client = Connect();
  const int server = ServerSocketFor(front_->telnet_port(), LocalPort(client->fd()));
  ASSERT_GE(server, 0) << "the gateway's end of the connection was not found";
  // Linux reports twice what was set (the doubling covers its bookkeeping).
  EXPECT_EQ(IntOption(server, SOL_SOCKET, SO_SNDBUF), 2 * 64 * 1024);
  EXPECT_EQ(IntOption(server, IPPROTO_TCP, TCP_NODELAY), 1);
}

TEST_F(FrontTest, LinesTypedWhileALoginIsAnsweredWaitInOrderUpToSixtyFour) {
  core_.AddAccount("ana", "secret", {"Ana"});
  core_.HoldLogins();
  Start();
  auto client = Connect();
  std::string typed = "connect ana secret\r\n";
  for (int i = 0; i < 65; ++i) typed += "line " + std::to_string(i) + "\r\n";
  client->Send(typed);
  // The 65th line finds the queue full while core has not answered yet.
  EXPECT_TRUE(client->ReadUntil("Please wait; your earlier commands have not been handled yet."))
      << client->Pending();
  ASSERT_EQ(core_.held_logins(), 1u);
  core_.ReleaseLogins();
  ASSERT_TRUE(WaitUntil([&] { return core_.commands().size() == 65; })) << client->Pending();
  client->Send("look\r\n");
  ASSERT_TRUE(WaitUntil([&] { return core_.commands().size() == 66; })) << client->Pending();
  std::vector<std::string> expected{"look"};  // the look every new session begins with
  for (int i = 0; i < 64; ++i) expected.push_back("line " + std::to_string(i));
  expected.push_back("look");
  EXPECT_EQ(core_.commands(), expected);
}

TEST_F(FrontTest, LinesTypedWhileReconnectingGoAfterOpenedAndQuitLeavesAtOnce) {
  Start();
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  core_.SetDown(true);
  core_.BreakStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "core restarting"));
  const std::string notice = std::string(text::kReconnecting) + "\r\n";
  ASSERT_TRUE(ana->ReadUntil(notice));
  ASSERT_TRUE(bob->ReadUntil(notice));
  ana->Send("say while away\r\n");
  bob->Send("quit\r\n");
  EXPECT_TRUE(bob->ReadUntil("Goodbye.\r\n")) << bob->Pending();
  EXPECT_TRUE(bob->WaitClosed());
  EXPECT_EQ(core_.commands().back(), "look");  // neither line reached core
  core_.SetDown(false);
  EXPECT_TRUE(ana->ReadUntil("You say, \"while away\"\r\n")) << ana->Pending();
  const auto commands = core_.commands();
  EXPECT_EQ(std::count(commands.begin(), commands.end(), "say while away"), 1);
  EXPECT_EQ(std::count(commands.begin(), commands.end(), "quit"), 0);
}

TEST_F(FrontTest, ClientThatStopsReadingIsDroppedAndOthersStayFast) {
  Start({.output_limit_bytes = 64 * 1024});
  auto stalled = Player("create", "stall");
  auto other = Player("create", "other");
  // Ask for far more output than the kernel buffers hold, and never read it.
  std::string spam;
  for (int i = 0; i < 200; ++i) spam += "spam\r\n";
  stalled->Send(spam);
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    other->Send("look\r\n");
    ASSERT_TRUE(other->ReadUntil("A quiet place.\r\n"));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  }
  EXPECT_TRUE(WaitUntil([&] {
    return Value("holomush_gateway_disconnects_total",
                 {{"protocol", "telnet"}, {"reason", "slow_reader"}}) == 1;
  }));
  EXPECT_TRUE(stalled->WaitClosed(20s));
}

TEST_F(FrontTest, LoginTimeout) {
  Start({.login_timeout = 200ms});
  auto client = Connect();
  EXPECT_TRUE(client->ReadUntil("You did not log in in time. Goodbye.\r\n"));
  EXPECT_TRUE(client->WaitClosed());
}

TEST_F(FrontTest, IdleTimeoutAfterLogin) {
  Start({.idle_timeout = 300ms, .login_timeout = 10s});
  auto ana = Player("create", "ana");
  EXPECT_TRUE(ana->ReadUntil("You have been idle too long. Goodbye.\r\n"));
  EXPECT_TRUE(ana->WaitClosed());
}

TEST_F(FrontTest, ShutdownTellsEveryPlayerAndRefusesNewConnections) {
  Start();
  auto ana = Player("create", "ana");
  auto guest = Connect();
  const uint16_t port = front_->telnet_port();
  front_->Stop(2s, std::string(kShutdownText));
  EXPECT_TRUE(ana->ReadUntil(std::string(kShutdownText) + "\r\n"));
  EXPECT_TRUE(ana->WaitClosed());
  EXPECT_TRUE(guest->ReadUntil(std::string(kShutdownText) + "\r\n"));
  EXPECT_TRUE(guest->WaitClosed());
  TcpClient late(port);
  EXPECT_FALSE(late.connected());
  // The session stays resumable in core: the gateway cancelled its stream, nothing more.
  EXPECT_EQ(core_.open_streams(), 0u);
  front_.reset();
}

// A connection the listener accepted just as the gateway began to stop: closed without a
// word (the players are being told goodbye) and counted as refused for `shutdown`.
TEST_F(FrontTest, AConnectionAcceptedAsTheGatewayStopsIsClosedAndCounted) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  TcpClient client(acceptor.local_endpoint().port());
  ASSERT_TRUE(client.connected());
  boost::asio::ip::tcp::socket socket = acceptor.accept();
  ConnectionRegistry registry(ConnectionCaps{});
  registry.ShutdownAll("");
  ConnectionEnv env{.metrics = metrics_.get(), .registry = &registry};
  const auto admitted = AdmitConnection(
      env, Protocol::kTelnet, socket,
      [](ConnectionRegistry::Admit, std::string_view text) { return std::string(text); });
  EXPECT_FALSE(admitted.has_value());
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(client.Pending(), "");
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_EQ(Value("holomush_gateway_connections_refused_total",
                  {{"protocol", "telnet"}, {"reason", "shutdown"}}),
            1);
}

TEST_F(FrontTest, CoreRestartResumesWithOneNoticeAndNoLostEvents) {
  Start();
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ana->Send("say before\r\n");
  ASSERT_TRUE(bob->ReadUntil("Ana says, \"before\"\r\n"));
  ASSERT_TRUE(ana->ReadUntil("You say, \"before\"\r\n"));

  core_.SetDown(true);
  core_.BreakStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "core restarting"));
  const std::string notice = std::string(text::kReconnecting) + "\r\n";
  EXPECT_TRUE(ana->ReadUntil(notice));
  EXPECT_TRUE(bob->ReadUntil(notice));
  // Meanwhile another core replica published something; the players must get it once.
  core_.Broadcast("emit", "The lights flicker.");
  ASSERT_TRUE(WaitUntil([&] { return core_.opens().size() > 6; }));  // retries while down
  core_.SetDown(false);
  EXPECT_TRUE(bob->ReadUntil("The lights flicker.\r\n"));
  ana->Send("say after\r\n");
  auto got = bob->ReadUntil("Ana says, \"after\"\r\n");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->find("flicker"), std::string::npos) << "replayed twice: " << *got;
  EXPECT_EQ(got->find("Reconnecting"), std::string::npos) << "second notice: " << *got;
  EXPECT_EQ(got->find("before"), std::string::npos) << "old event again: " << *got;
  // Every reopen carried the last event the player had seen.
  for (const auto& open : core_.opens()) {
    if (open.session_id() == core_.opens()[1].session_id() && !open.last_event_id().empty()) {
      EXPECT_EQ(open.last_event_id().substr(0, 1), "E");
    }
  }
  EXPECT_GT(Value("holomush_gateway_core_reconnects_total"), 0);
}

TEST_F(FrontTest, DroppedPlayerResumesWithTheMissedLinesOnceInOrder) {
  Start();
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ana->Send("say first\r\n");
  ASSERT_TRUE(bob->ReadUntil("Ana says, \"first\"\r\n"));
  bob->Close();
  ASSERT_TRUE(WaitUntil([&] { return core_.open_streams() == 1; }));
  ana->Send("say one\r\nsay two\r\nsay three\r\n");
  ASSERT_TRUE(ana->ReadUntil("You say, \"three\"\r\n"));
  const int started = core_.start_session_calls();

  auto again = Connect();
  again->Send("connect bob pw-bob\r\n");
  auto got = again->ReadUntil("Ana says, \"three\"\r\n");
  ASSERT_TRUE(got.has_value()) << again->Pending();
  const auto one = got->find("Ana says, \"one\"\r\n");
  const auto two = got->find("Ana says, \"two\"\r\n");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(two, std::string::npos);
  EXPECT_LT(one, two);
  EXPECT_EQ(got->find("first"), std::string::npos);
  EXPECT_EQ(got->find("Ana says, \"one\"", one + 1), std::string::npos);
  EXPECT_EQ(core_.start_session_calls(), started);  // the old session, not a new one
}

TEST_F(FrontTest, ExpiredSessionIsReplacedByANewOne) {
  Start();
  auto bob = Player("create", "bob");
  bob->Close();
  ASSERT_TRUE(WaitUntil([&] { return core_.open_streams() == 0; }));
  // What the gateway remembers is a session core no longer has (it expired): the resume
  // attempt is refused and a new session starts, without the player noticing.
  ASSERT_EQ(resume_.size(), 1u);
  resume_.Remember(ResumeMemory::Key("p1", "c-Bob"), {"gone", "x", "E1"});
  const int started = core_.start_session_calls();
  auto again = Player("connect", "bob");
  EXPECT_EQ(core_.start_session_calls(), started + 1);
}

TEST_F(FrontTest, SessionClosedByCoreShowsReasonAndCloses) {
  Start();
  auto ana = Player("create", "ana");
  core_.CloseSession(core_.opens().back().session_id(), "You have been booted.");
  EXPECT_TRUE(ana->ReadUntil("You have been booted.\r\n"));
  EXPECT_TRUE(ana->WaitClosed());
}

TEST_F(FrontTest, QuitAfterLoginIsCoresToAnswer) {
  Start();
  auto ana = Player("create", "ana");
  ana->Send("quit\r\n");
  EXPECT_TRUE(ana->ReadUntil("Goodbye.\r\n"));
  EXPECT_TRUE(ana->WaitClosed());
  EXPECT_EQ(core_.commands().back(), "quit");
  EXPECT_TRUE(WaitUntil([&] { return Value("holomush_gateway_sessions_active") == 0; }));
}

TEST_F(FrontTest, SessionTakenOverElsewhereIsNotRetaken) {
  Start();
  auto ana = Player("create", "ana");
  core_.BreakStreams(grpc::Status(grpc::StatusCode::ABORTED, "session opened on another stream"));
  EXPECT_TRUE(ana->ReadUntil("This character was taken over by another connection.\r\n"))
      << ana->Pending();
  EXPECT_TRUE(ana->WaitClosed());
}

TEST_F(FrontTest, ManyConnectionsOpenedAndDropped) {
  Start({}, 1000);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<TcpClient>> clients;
    for (int i = 0; i < 250; ++i)
      clients.push_back(std::make_unique<TcpClient>(front_->telnet_port()));
    ASSERT_TRUE(WaitUntil([&] { return front_->connections() == 250; }, 10s));
    clients.clear();
    ASSERT_TRUE(WaitUntil([&] { return front_->connections() == 0; }, 10s));
  }
  auto ana = Player("create", "ana");
  EXPECT_EQ(Value("holomush_gateway_connections_active", {{"protocol", "telnet"}}), 1);
}

// WebSocket: a Beast client against /ws.
class WebSocketClient {
 public:
  explicit WebSocketClient(uint16_t port, const std::string& target = "/ws",
                           const std::string& origin = "")
      : ws_(io_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    ws_.next_layer().connect(endpoint);
    if (!origin.empty()) {
      ws_.set_option(boost::beast::websocket::stream_base::decorator(
          [origin](boost::beast::websocket::request_type& req) {
            req.set(boost::beast::http::field::origin, origin);
          }));
    }
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }
  void Resume(const std::string& session_id, const std::string& token, const std::string& last) {
    ws_.write(boost::asio::buffer(nlohmann::json{
        {"type", "resume"},
        {"session_id", session_id},
        {"resume_token", token},
        {"last_event_id", last}}.dump()));
  }
  nlohmann::json Read() {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer);
    return nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()));
  }
  // Reads until a message of `type` whose text contains `needle`.
  nlohmann::json ReadUntil(const std::string& type, const std::string& needle = "") {
    while (true) {
      auto j = Read();
      const std::string text = j.value("text", j.value("reason", ""));
      if (j["type"] == type && text.find(needle) != std::string::npos) return j;
    }
  }
  void Command(const std::string& line) {
    ws_.write(boost::asio::buffer(nlohmann::json{{"type", "command"}, {"line", line}}.dump()));
  }
  void Raw(const std::string& frame) { ws_.write(boost::asio::buffer(frame)); }
  // Reads (dropping messages) until the server closes; the code it closed with.
  boost::beast::websocket::close_code CloseCode() {
    ReadToClose();
    return static_cast<boost::beast::websocket::close_code>(ws_.reason().code);
  }
  // Reads (and drops) until the server's close handshake completes or the socket fails.
  void ReadToClose() {
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    while (!ec) {
      ws_.read(buffer, ec);
      buffer.clear();
    }
  }

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
};

TEST_F(FrontTest, WebSocketPlaysTheSameGame) {
  Start();
  auto bob = Player("create", "bob");
  WebSocketClient ws(front_->web_port());
  EXPECT_NE(ws.ReadUntil("output", "Welcome to HoloMUSH!")["text"], "");
  ws.Command("create wes pw");
  ws.Command("look");
  ws.ReadUntil("output", "A quiet place.");
  ws.Command("say hi from the web");
  auto event = ws.ReadUntil("event");
  EXPECT_EQ(event["text"], "You say, \"hi from the web\"");
  EXPECT_EQ(event["event"], "say");
  EXPECT_EQ(event["replayed"], false);
  EXPECT_TRUE(bob->ReadUntil("Wes says, \"hi from the web\"\r\n"));
  ws.Raw("not json");
  EXPECT_NE(ws.ReadUntil("error")["text"].get<std::string>().find("JSON"), std::string::npos);
  ASSERT_EQ(core_.opens().size(), 2u);
  EXPECT_EQ(core_.opens()[1].protocol(), "websocket");
  ws.Command("quit");
  EXPECT_EQ(ws.ReadUntil("closed")["reason"], "Goodbye.");
}

TEST_F(FrontTest, AWebSocketPastTheConnectionLimitIsAnswered503) {
  Start({}, 1);
  auto telnet = Connect();
  TcpClient raw(front_->web_port());
  raw.Send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  auto got = raw.ReadUntil(std::string(kFullText));
  ASSERT_TRUE(got) << raw.Pending();
  EXPECT_EQ(got->rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << *got;
  EXPECT_TRUE(raw.WaitClosed());
  EXPECT_EQ(Value("holomush_gateway_connections_refused_total",
                  {{"protocol", "websocket"}, {"reason", "limit"}}),
            1);
}

TEST_F(FrontTest, AWebSocketLineTooLongIsAnsweredAndAFrameTooBigCloses) {
  Start();
  WebSocketClient ws(front_->web_port());
  ws.ReadUntil("output", "Welcome");
  // Under the frame limit (6 x 4096 + 1024 bytes), over the line limit: an answer.
  ws.Command(std::string(5000, 'a'));
  EXPECT_NE(ws.ReadUntil("error")["text"].get<std::string>().find("too long"), std::string::npos);
  ws.Command("who");
  EXPECT_TRUE(ws.ReadUntil("output", "Nobody is connected.").is_object());
  // Over the frame limit: the read fails unbuffered and the gateway closes, "too big".
  ws.Raw(std::string(6 * 4096 + 1024 + 1, 'b'));
  EXPECT_EQ(ws.CloseCode(), boost::beast::websocket::close_code::too_big);
}

TEST_F(FrontTest, AKeptAliveConnectionEndsWithItsHundredthRequest) {
  web_assets_ = EmbeddedWebAssets();
  Start();
  TcpClient client(front_->web_port());
  std::string requests;
  for (int i = 0; i < 101; ++i) requests += "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n";
  client.Send(requests);
  for (int i = 1; i < 100; ++i) {
    auto head = client.ReadUntil("\r\n\r\n");
    ASSERT_TRUE(head) << i << ": " << client.Pending();
    ASSERT_NE(head->find("Connection: keep-alive"), std::string::npos) << i << ": " << *head;
  }
  auto last = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(last) << client.Pending();
  EXPECT_NE(last->find("Connection: close"), std::string::npos) << *last;
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(client.Pending().find("HTTP/1.1"), std::string::npos) << "a 101st answer";
  EXPECT_EQ(Metric(*registry_, "holomush_gateway_http_responses_total", {{"code", "200"}}), 100);
}

// A WebSocket client speaking raw frames over a TcpClient's socket, for a client that answers
// pings only when the test says so.
class RawWebSocket {
 public:
  struct Frame {
    int opcode = -1;  // -1: nothing arrived in time, or the socket closed
    std::string payload;
  };

  explicit RawWebSocket(uint16_t port) : tcp_(port) {
    tcp_.Send(
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_TRUE(tcp_.ReadUntil("\r\n\r\n")) << tcp_.Pending();
    buffered_ = tcp_.Pending();  // frames that came with the handshake answer
  }

  Frame Read(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string head;
    if (!Take(2, deadline, &head)) return {};
    size_t length = static_cast<unsigned char>(head[1]) & 0x7F;
    if (length == 126) {
      std::string ext;
      if (!Take(2, deadline, &ext)) return {};
      length = (static_cast<size_t>(static_cast<unsigned char>(ext[0])) << 8) |
               static_cast<unsigned char>(ext[1]);
    }
    Frame frame{.opcode = static_cast<unsigned char>(head[0]) & 0x0F, .payload = {}};
    if (!Take(length, deadline, &frame.payload)) return {};
    return frame;
  }

  // One client frame (masked, as clients must), FIN set.
  void Send(int opcode, const std::string& payload) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    f.push_back(static_cast<char>(0x80 | payload.size()));
    const char mask[4] = {7, 1, 3, 5};
    f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ mask[i % 4]);
    tcp_.Send(f);
  }

 private:
  bool Take(size_t n, std::chrono::steady_clock::time_point deadline, std::string* out) {
    while (buffered_.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{tcp_.fd(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char chunk[4096];
      const ssize_t got = ::recv(tcp_.fd(), chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      buffered_.append(chunk, static_cast<size_t>(got));
    }
    *out = buffered_.substr(0, n);
    buffered_.erase(0, n);
    return true;
  }

  TcpClient tcp_;
  std::string buffered_;
};

// Keep-alive (shortened to 400 ms here, 60 s by default): a client silent for half of it is
// pinged; one that never answers is closed at the full time; one that answers stays.
TEST_F(FrontTest, AWebSocketThatNeverAnswersPingsIsClosedAndOneThatAnswersStays) {
  Start({.websocket_keepalive = 400ms});
  RawWebSocket silent(front_->web_port());
  RawWebSocket::Frame frame;
  while ((frame = silent.Read()).opcode == 0x1) {  // the banner
  }
  EXPECT_EQ(frame.opcode, 0x9) << "a ping";
  frame = silent.Read();
  if (frame.opcode == 0x8) frame = silent.Read();  // a close frame, if any, then the end
  EXPECT_EQ(frame.opcode, -1) << "closed, without more";

  RawWebSocket answering(front_->web_port());
  int pings = 0;
  while (pings < 3) {  // three pings span more than the whole keep-alive time
    frame = answering.Read();
    ASSERT_NE(frame.opcode, -1) << "closed after " << pings << " pings answered";
    if (frame.opcode != 0x9) continue;
    ++pings;
    answering.Send(0xA, frame.payload);
  }
  answering.Send(0x1, R"({"type":"command","line":"who"})");
  do {
    frame = answering.Read();
    if (frame.opcode == 0x9) answering.Send(0xA, frame.payload);
  } while (frame.opcode != -1 && frame.payload.find("Nobody is connected.") == std::string::npos);
  EXPECT_NE(frame.opcode, -1) << "no answer to who";
}

// A kept-alive connection waits a while for its next request (10 s by default, 300 ms here),
// then closes; so does one that never sends a first.
TEST_F(FrontTest, AnIdleWebConnectionIsClosedAfterTheRequestTimeout) {
  web_assets_ = EmbeddedWebAssets();
  Start({.http_request_timeout = 300ms});
  TcpClient kept(front_->web_port());
  kept.Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = kept.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(head) << kept.Pending();
  EXPECT_NE(head->find("Connection: keep-alive"), std::string::npos) << *head;
  TcpClient silent(front_->web_port());
  EXPECT_TRUE(kept.WaitClosed(5s));
  EXPECT_TRUE(silent.WaitClosed(5s));
  EXPECT_EQ(silent.Pending(), "");
  EXPECT_TRUE(WaitUntil([&] { return front_->connections() == 0; }));
}

TEST_F(FrontTest, WebSocketPasswordPromptAsksToHideInput) {
  core_.AddAccount("ana", "secret", {"Ana"});
  Start();
  WebSocketClient ws(front_->web_port());
  ws.Command("connect ana");
  EXPECT_EQ(ws.ReadUntil("echo")["on"], false);
  EXPECT_EQ(ws.ReadUntil("prompt")["text"], "Password: ");
  ws.Command("secret");
  EXPECT_EQ(ws.ReadUntil("echo")["on"], true);
}

TEST_F(FrontTest, PlainHttpIsAnsweredAndClosed) {
  Start();
  auto res = holomush::testing::HttpGet(front_->web_port(), "/");
  EXPECT_EQ(res.status, 404);
  EXPECT_NE(res.body.find("/ws"), std::string::npos);
  res = holomush::testing::HttpGet(front_->web_port(), "/ws");
  EXPECT_EQ(res.status, 426);
}

TEST_F(FrontTest, WebSocketClientResumesItsOwnSessionWithMissedEventsOnce) {
  Start();
  auto bob = Player("create", "bob");
  std::string session_id;
  std::string token;
  std::string last;
  {
    WebSocketClient ws(front_->web_port());
    ws.Command("create wes pw");
    auto session = ws.ReadUntil("session");
    session_id = session["session_id"];
    token = session["resume_token"];
    EXPECT_EQ(session["character"], "Wes");
    bob->Send("say before\r\n");
    last = ws.ReadUntil("event", "before")["id"];
  }  // the socket drops without a close handshake, as a network blip would
  ASSERT_TRUE(WaitUntil([&] { return core_.open_streams() == 1; }, 5s));
  bob->Send("say while away\r\n");
  ASSERT_TRUE(bob->ReadUntil("You say, \"while away\""));

  WebSocketClient again(front_->web_port());
  again.Resume(session_id, token, last);
  EXPECT_EQ(again.ReadUntil("session")["session_id"], session_id);
  auto missed = again.ReadUntil("event");
  EXPECT_EQ(missed["text"], "Bob says, \"while away\"");
  EXPECT_EQ(missed["replayed"], true);
  EXPECT_EQ(core_.opens().back().last_event_id(), last);
  again.Command("say back");
  EXPECT_TRUE(bob->ReadUntil("Wes says, \"back\""));
  EXPECT_EQ(core_.start_session_calls(), 2);  // bob and wes; the resume started nothing
}

TEST_F(FrontTest, RefusedWebSocketResumeLetsTheClientLogIn) {
  Start();
  WebSocketClient ws(front_->web_port());
  ws.Resume("no-such-session", "x", "");
  EXPECT_NE(ws.ReadUntil("resume_refused")["text"].get<std::string>().find("log in"),
            std::string::npos);
  ws.Command("create wes pw");
  EXPECT_EQ(ws.ReadUntil("session")["character"], "Wes");
  ws.Resume("again", "x", "");  // once playing, a resume is refused with a line
  EXPECT_TRUE(ws.ReadUntil("output", "already in the game").is_object());
}

TEST_F(FrontTest, GatewayShutdownTellsWebSocketClientsTheyMayResume) {
  Start();
  WebSocketClient ws(front_->web_port());
  ws.Command("create wes pw");
  ws.ReadUntil("session");
  std::thread stopper([&] { front_->Stop(2s, std::string(kShutdownText)); });
  auto closed = ws.ReadUntil("closed");
  ws.ReadToClose();  // answers the close handshake, so the gateway finishes the connection
  stopper.join();
  EXPECT_EQ(closed["resume"], true);
  // Streams the fake still holds carry executors of the front's io_context: end them first.
  core_.Shutdown();
  front_.reset();
}

TEST_F(FrontTest, WebSocketOriginMustBeThePagesOwnByDefault) {
  Start();
  const std::string own = "http://127.0.0.1:" + std::to_string(front_->web_port());
  WebSocketClient same(front_->web_port(), "/ws", own);
  EXPECT_NE(same.ReadUntil("output", "Welcome")["text"], "");
  EXPECT_THROW(WebSocketClient(front_->web_port(), "/ws", "https://evil.example"),
               boost::system::system_error);
  TcpClient raw(front_->web_port());
  raw.Send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Origin: https://evil.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_TRUE(raw.ReadUntil("HTTP/1.1 403 Forbidden"));
  EXPECT_TRUE(raw.WaitClosed());
  EXPECT_EQ(Metric(*registry_, "holomush_gateway_websocket_origins_refused_total"), 2);
  EXPECT_EQ(Metric(*registry_, "holomush_gateway_http_responses_total", {{"code", "403"}}), 2);
}

TEST_F(FrontTest, WebSocketOriginAllowListReplacesTheDefault) {
  Start({}, 100, {"https://mush.example.com"});
  WebSocketClient listed(front_->web_port(), "/ws", "https://mush.example.com");
  EXPECT_NE(listed.ReadUntil("output", "Welcome")["text"], "");
  EXPECT_THROW(WebSocketClient(front_->web_port(), "/ws",
                               "http://127.0.0.1:" + std::to_string(front_->web_port())),
               boost::system::system_error);
  WebSocketClient no_origin(front_->web_port());  // not a browser: allowed
  EXPECT_NE(no_origin.ReadUntil("output", "Welcome")["text"], "");
}

TEST_F(FrontTest, WebClientFilesAreServedOnOneKeptAliveConnection) {
  web_assets_ = EmbeddedWebAssets();
  Start();
  auto res = holomush::testing::HttpGet(front_->web_port(), "/");
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("<title>HoloMUSH</title>"), std::string::npos);
  EXPECT_NE(res.headers.find("Content-Security-Policy: default-src 'none'"), std::string::npos);
  EXPECT_NE(res.headers.find("Cache-Control: no-cache"), std::string::npos);
  EXPECT_EQ(holomush::testing::HttpRequest("POST", front_->web_port(), "/").status, 405);
  EXPECT_EQ(holomush::testing::HttpGet(front_->web_port(), "/nope").status, 404);

  TcpClient client(front_->web_port());
  client.Send("GET /style.css HTTP/1.1\r\nHost: x\r\n\r\nHEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = client.ReadUntil(":root");
  ASSERT_TRUE(first) << client.Pending();
  EXPECT_NE(first->find("Content-Type: text/css; charset=utf-8"), std::string::npos);
  auto second = client.ReadUntil("\r\n\r\n");
  ASSERT_TRUE(second) << client.Pending();
  EXPECT_NE(second->find("Content-Type: text/javascript; charset=utf-8"), std::string::npos);
  EXPECT_NE(second->find("Connection: keep-alive"), std::string::npos);
  EXPECT_EQ(Metric(*registry_, "holomush_gateway_http_responses_total", {{"code", "200"}}), 3);

  TcpClient poster(front_->web_port());
  poster.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_TRUE(poster.ReadUntil("HTTP/1.1 405 Method Not Allowed")) << poster.Pending();
  EXPECT_TRUE(poster.WaitClosed());
}

}  // namespace
}  // namespace holomush::gateway
