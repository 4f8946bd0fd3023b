// The whole game over telnet: real PostgreSQL, real `holomush core` and `holomush gateway`
// processes, real TCP. Figures (memory, latency) are printed and recorded as test properties.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "gateway_harness.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/threads.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

using namespace std::chrono_literals;

const std::string kNotice = "[The connection to the game was interrupted. Reconnecting...]";

std::vector<std::string> Column(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  std::vector<std::string> out;
  for (const auto& row : txn.exec(sql)) out.push_back(row[0].c_str());
  return out;
}

// Every `<who> says, "<msg>"` in `text`, in order.
std::vector<std::string> Said(const std::string& text, const std::string& who) {
  std::vector<std::string> out;
  const std::regex re(who + " says, \"([^\"]*)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

class GatewaySystemTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAll({}); }

  void StartAll(const std::vector<std::string>& gateway_args,
                const std::vector<std::string>& core_args = {}) {
    url_ = FreshDatabase("gw");
    core_ = std::make_unique<CoreProcess>(url_, core_args);
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
    gateway_ = std::make_unique<GatewayProcess>(core_->address(), gateway_args);
    ASSERT_TRUE(gateway_->Start()) << gateway_->process().Output();
    ASSERT_TRUE(gateway_->WaitReadiness(200)) << gateway_->process().Output();
  }

  std::unique_ptr<TelnetPlayer> Player(const std::string& verb, const std::string& name) {
    auto p = std::make_unique<TelnetPlayer>(gateway_->telnet_port());
    EXPECT_TRUE(p->Enter(verb, name, "secret-" + name)) << p->Pending();
    return p;
  }

  struct Run {
    int code = -1;
    std::string output;
  };
  // `holomush status` against this test's processes; `flags` replace or add to the defaults.
  Run Status(const std::map<std::string, std::string>& flags = {}, bool json = false) {
    std::map<std::string, std::string> all = {{"--core-addr", core_->address()},
                                              {"--gateway-addr", gateway_->control_address()},
                                              {"--tls-dir", TestCertsDir()},
                                              {"--timeout", "3s"}};
    for (const auto& [k, v] : flags) all[k] = v;
    std::vector<std::string> argv = {HOLOMUSH_BINARY, "status"};
    for (const auto& [k, v] : all) {
      argv.push_back(k);
      argv.push_back(v);
    }
    if (json) argv.push_back("--json");
    ChildProcess p(argv);
    Run run;
    run.code = p.Wait(30s).value_or(-1);
    run.output = p.Output();
    return run;
  }

  std::string url_;
  std::unique_ptr<CoreProcess> core_;
  std::unique_ptr<GatewayProcess> gateway_;
};

TEST_F(GatewaySystemTest, TwoPlayersPlayTheGameOverTelnet) {
  std::string made;
  ASSERT_EQ(AdminCreate(url_, {"ana"}, "secret-ana", &made), 0) << made;
  auto ana = Player("connect", "ana");  // made an admin above, never by registration order
  auto bob = Player("create", "bob");
  ASSERT_TRUE(ana->Expect("Bob has connected."));

  ana->Send("say Hello there");
  EXPECT_TRUE(ana->Expect("You say, \"Hello there\"\r\n"));
  EXPECT_TRUE(bob->Expect("Ana says, \"Hello there\"\r\n"));
  bob->Send(":waves.");
  EXPECT_TRUE(ana->Expect("Bob waves.\r\n"));
  EXPECT_TRUE(bob->Expect("Bob waves.\r\n"));
  ana->Send("emit The lights flicker.");
  EXPECT_TRUE(bob->Expect("The lights flicker.\r\n"));
  ana->Send("page bob=Psst, over here");
  EXPECT_TRUE(ana->Expect("You page Bob: Psst, over here\r\n"));
  EXPECT_TRUE(bob->Expect("Ana pages: Psst, over here\r\n"));

  // Movement through a misspelt exit, seen from both sides.
  ana->Send("dig north to \"The Library\" return south");
  ASSERT_TRUE(ana->Expect("Dug \"The Library\" through north. Return exit: south.\r\n"));
  bob->Send("nroth");
  EXPECT_TRUE(bob->Expect("The Library"));
  EXPECT_TRUE(ana->Expect("Bob leaves north.\r\n"));
  ana->Send("go north");
  EXPECT_TRUE(bob->Expect("Ana has arrived.\r\n"));

  // An alias end to end.
  bob->Send("alias hi=say Hi all");
  EXPECT_TRUE(bob->Expect("Alias 'hi' set: say Hi all\r\n"));
  bob->Send("hi");
  EXPECT_TRUE(ana->Expect("Bob says, \"Hi all\"\r\n"));

  ana->Send("who");
  auto who = ana->Expect("2 characters connected.\r\n");
  ASSERT_TRUE(who);
  EXPECT_NE(who->find("Ana"), std::string::npos);
  EXPECT_NE(who->find("Bob"), std::string::npos);

  TelnetPlayer guest(gateway_->telnet_port());
  ASSERT_TRUE(guest.Greeted());
  guest.Send("who");
  auto listed = guest.Expect("2 characters connected.\r\n");
  ASSERT_TRUE(listed);
  EXPECT_NE(listed->find("Ana "), std::string::npos);
  const auto received = [&] {
    return gateway_->Metric("holomush_gateway_bytes_received_total{protocol=\"telnet\"}")
        .value_or(-1);
  };
  const double received_before = received();
  EXPECT_GT(received_before, 0);
  guest.Send("bogus");
  EXPECT_TRUE(guest.Expect("Unknown command. Try 'help'.\r\n"));
  EXPECT_GE(received(), received_before + 7);  // "bogus\r\n"
  guest.Send("connect ana wrong-password");
  // Core's refusal, verbatim, one line; the same words for a wrong password and a wrong name.
  EXPECT_TRUE(guest.Expect("Invalid username or password.\r\n"));
  guest.Send("connect ana");
  EXPECT_TRUE(guest.Expect("Password: "));
  guest.Send("secret-ana");
  guest.Send("look");
  EXPECT_TRUE(guest.Expect("The Library"));

  EXPECT_EQ(gateway_->Metric("holomush_gateway_sessions_active"), 3);
  EXPECT_EQ(gateway_->Metric("holomush_gateway_connections_active{protocol=\"telnet\"}"), 3);
  EXPECT_GT(gateway_->Metric("holomush_gateway_bytes_sent_total{protocol=\"telnet\"}").value_or(0),
            1000);
  bob->Send("quit");
  EXPECT_TRUE(bob->WaitClosed());
  EXPECT_TRUE(
      WaitUntil([&] { return gateway_->Metric("holomush_gateway_sessions_active") == 2; }, 10s));

  // Label values stay bounded: no player's name, session id or address in either scrape.
  const std::regex label_value("=\"([^\"]*)\"");
  for (const int port : {gateway_->ops_port(), core_->ops_port()}) {
    const std::string scrape = HttpGet(port, "/metrics").body;
    std::set<std::string> values;
    for (std::sregex_iterator it(scrape.begin(), scrape.end(), label_value), end; it != end; ++it) {
      values.insert((*it)[1].str());
    }
    ASSERT_FALSE(values.empty()) << scrape;
    for (const auto& v : values) {
      std::string lower = v;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      EXPECT_TRUE(lower != "ana" && lower != "bob" && v.find("127.0.0.1") == std::string::npos &&
                  !std::regex_search(v, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-")))
          << "label value " << v << " on port " << port;
    }
  }
}

TEST_F(GatewaySystemTest, HostileInputNeverHurtsOthers) {
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");

  std::mt19937 rng(42);
  std::string noise(256 * 1024, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  TelnetPlayer random_bytes(gateway_->telnet_port());
  random_bytes.SendRaw(noise);

  TelnetPlayer long_line(gateway_->telnet_port());
  ASSERT_TRUE(long_line.Greeted());
  long_line.SendRaw(std::string(1 << 20, 'x') + "\r\nwho\r\n");
  EXPECT_TRUE(long_line.Expect("That line was too long (more than 4096 bytes); it was ignored."));
  EXPECT_TRUE(long_line.Expect("connected."));  // and the connection still works

  TelnetPlayer flood(gateway_->telnet_port());
  std::string iac;
  for (int i = 0; i < 100000; ++i) iac += std::string("\xFF\xFB") + static_cast<char>(i % 256);
  iac += "\xFF\xFA\x18";  // an unterminated subnegotiation
  iac += std::string(100000, 'A');
  flood.SendRaw(iac);

  ana->Send("say still here");
  EXPECT_TRUE(bob->Expect("Ana says, \"still here\"\r\n"));
  EXPECT_TRUE(gateway_->process().Running());
  EXPECT_EQ(gateway_->Readiness(), 200);
}

TEST_F(GatewaySystemTest, ClientThatNeverReadsIsDroppedWhileOthersStayFast) {
  // Bob talks far above a player's flood limit on purpose: this is about output, not input.
  gateway_.reset();
  core_.reset();
  StartAll({}, {"--command-rate", "10000", "--command-burst", "10000"});
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  auto stalled = Player("create", "stalled");
  const long rss_before = gateway_->RssKiB();

  // Bob talks a lot on his own thread, reading his echoes every tenth line as a player does;
  // `stalled` never reads another byte (1.2 MB is sent its way); ana measures her round
  // trips meanwhile.
  const std::string chunk(3000, 'z');
  std::atomic<bool> bob_ok{true};
  std::atomic<bool> talking{true};
  std::thread talker([&] {
    for (int i = 1; i <= 400 && bob_ok; ++i) {
      bob->Send("say " + chunk);
      if (i % 10 == 0) {
        bob->Send("say mark " + std::to_string(i));
        bob_ok = bob->Expect("You say, \"mark " + std::to_string(i) + "\"", 30s).has_value();
      }
    }
    talking = false;
  });
  // Ana keeps reading (her pings) for as long as bob talks.
  std::vector<double> latencies_ms;
  for (int i = 0; talking || i < 10; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ana->Send("say ping " + std::to_string(i));
    const bool echoed = ana->Expect("You say, \"ping " + std::to_string(i) + "\"", 30s).has_value();
    EXPECT_TRUE(echoed) << "ping " << i;
    if (!echoed) break;
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  talker.join();
  EXPECT_TRUE(bob_ok);
  const std::string slow =
      "holomush_gateway_disconnects_total{protocol=\"telnet\",reason=\"slow_reader\"}";
  EXPECT_TRUE(WaitUntil(
      [&] {
        ana->Drain();
        bob->Drain();
        return gateway_->Metric(slow) == 1;
      },
      30s));
  EXPECT_TRUE(stalled->WaitClosed(30s));
  // The readers were never in danger.
  ana->Send("say still here");
  EXPECT_TRUE(ana->Expect("You say, \"still here\"", 30s));
  EXPECT_EQ(gateway_->Metric(slow), 1);

  const long rss_after = gateway_->RssKiB();
  const double p50 = Percentile(latencies_ms, 0.5);
  const double max = Percentile(latencies_ms, 1.0);
  std::cout << "[figures] others' say round trip while one client never reads: p50 " << p50
            << " ms, max " << max << " ms over " << latencies_ms.size() << " pings; gateway RSS "
            << rss_before << " KiB -> " << rss_after << " KiB\n";
  RecordProperty("latency_p50_ms", std::to_string(p50));
  RecordProperty("latency_max_ms", std::to_string(max));
  EXPECT_LT(max, 2000);
  EXPECT_LT(rss_after - rss_before, 64 * 1024);
}

// This machine's first IPv4 address that is not loopback: connections from it count against
// the per-address limits, which loopback is exempt from.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (auto* ifa = list; ifa != nullptr && found.empty(); ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || ifa->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  freeifaddrs(list);
  return found;
}

// A raw client connected from `source` to 127.0.0.1:`port`.
class SourcedClient {
 public:
  SourcedClient(const std::string& source, int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SourcedClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  void Send(const std::string& line) {
    const std::string bytes = line + "\r\n";
    (void)!::write(fd_, bytes.data(), bytes.size());
  }
  // Reads until `needle` arrives (true) or the deadline passes or the peer closes (false).
  bool Expect(const std::string& needle, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || fd_ < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return received_.find(needle) != std::string::npos;
      received_.append(buf, static_cast<size_t>(n));
    }
    received_.erase(0, received_.find(needle) + needle.size());
    return true;
  }
  bool connected() const { return fd_ >= 0; }
  const std::string& pending() const { return received_; }

 private:
  int fd_;
  std::string received_;
};

TEST_F(GatewaySystemTest, OneAddressIsLimitedInConnectionsLoginsAndAccounts) {
  const std::string stranger = NonLoopbackAddress();
  ASSERT_FALSE(stranger.empty()) << "this machine has no address but loopback to test from";
  gateway_.reset();
  gateway_ = std::make_unique<GatewayProcess>(
      core_->address(),
      std::vector<std::string>{"--max-connections-per-address", "2", "--logins-per-minute", "2",
                               "--accounts-per-minute", "1"});
  ASSERT_TRUE(gateway_->Start()) << gateway_->process().Output();
  ASSERT_TRUE(gateway_->WaitReadiness(200)) << gateway_->process().Output();
  const int port = gateway_->telnet_port();
  {
    SourcedClient first(stranger, port);
    SourcedClient second(stranger, port);
    ASSERT_TRUE(first.connected() && second.connected());
    SourcedClient third(stranger, port);
    EXPECT_TRUE(third.Expect("Too many connections from your address. Close one and try again."));
    // The web port shares the count, and refuses in HTTP.
    SourcedClient web(stranger, gateway_->web_port());
    EXPECT_TRUE(web.Expect("HTTP/1.1 429 Too Many Requests\r\n"));
    EXPECT_TRUE(web.Expect("Too many connections from your address. Close one and try again."));
    // Loopback is never limited: the harness's own players still get in.
    auto local = Player("create", "ana");
    // Accounts: one a minute from the stranger.
    first.Send("create mallory secret-mallory");
    first.Send("look");
    EXPECT_TRUE(first.Expect("The Nexus")) << first.pending();
    second.Send("create mallet secret-mallet");
    EXPECT_TRUE(second.Expect("Too many accounts created from your address; try again later."));
    // Logins: two a minute, then refused before core is asked.
    for (int i = 0; i < 2; ++i) {
      second.Send("connect ana wrong-password");
      EXPECT_TRUE(second.Expect("Invalid username or password.")) << i;
    }
    // Core keyed those failures by the player's address, which only the gateway knows (its
    // own connection to core comes from loopback).
    EXPECT_EQ(Column(url_, "SELECT address || ' ' || failures FROM login_failures"),
              std::vector<std::string>{stranger + " 2"});
    second.Send("connect ana secret-ana");
    EXPECT_TRUE(
        second.Expect("Too many login attempts from your address; wait a minute and try again."));
  }
  EXPECT_EQ(
      gateway_->Metric(
          "holomush_gateway_connections_refused_total{protocol=\"telnet\",reason=\"address\"}"),
      1.0);
  EXPECT_EQ(
      gateway_->Metric(
          "holomush_gateway_connections_refused_total{protocol=\"websocket\",reason=\"address\"}"),
      1.0);
  EXPECT_EQ(gateway_->Metric("holomush_gateway_logins_refused_total{reason=\"login_rate\"}"), 1.0);
  EXPECT_EQ(gateway_->Metric("holomush_gateway_logins_refused_total{reason=\"create_rate\"}"), 1.0);
  // Once the stranger's connections closed, it may connect again.
  EXPECT_TRUE(WaitUntil([&] {
    SourcedClient again(stranger, port);
    return again.Expect("connect");
  }));
}

// `--io-threads` threads serve the players' sockets, named so `top -H` tells them apart.
TEST_F(GatewaySystemTest, IoThreadsAreAsManyAsTheFlagSays) {
  // A started gateway may still be naming its threads: wait for the count, then hold it.
  const auto io_threads_become = [&](int n) {
    return WaitUntil([&] { return ThreadsNamed(gateway_->process().pid(), "holomush-io") == n; },
                     10s);
  };
  EXPECT_TRUE(io_threads_become(2)) << ThreadsNamed(gateway_->process().pid(), "holomush-io");
  gateway_.reset();
  gateway_ = std::make_unique<GatewayProcess>(core_->address(),
                                              std::vector<std::string>{"--io-threads", "3"});
  ASSERT_TRUE(gateway_->Start()) << gateway_->process().Output();
  EXPECT_TRUE(io_threads_become(3)) << ThreadsNamed(gateway_->process().pid(), "holomush-io");
  ASSERT_TRUE(gateway_->WaitReadiness(200));
  EXPECT_EQ(ThreadsNamed(gateway_->process().pid(), "holomush-io"), 3);
  auto ana = Player("create", "ana");  // and they serve
}

TEST_F(GatewaySystemTest, ConnectionsWaitingToLogInHaveTheirOwnCap) {
  gateway_.reset();
  gateway_ = std::make_unique<GatewayProcess>(
      core_->address(), std::vector<std::string>{"--max-prelogin-connections", "2"});
  ASSERT_TRUE(gateway_->Start()) << gateway_->process().Output();
  ASSERT_TRUE(gateway_->WaitReadiness(200)) << gateway_->process().Output();
  const int port = gateway_->telnet_port();
  TelnetPlayer waiting(port);
  ASSERT_TRUE(waiting.Greeted());
  TelnetPlayer ana(port);
  ASSERT_TRUE(ana.Greeted());
  {
    TelnetPlayer third(port);
    EXPECT_TRUE(
        third.Expect("Too many players are logging in right now. Please try again in a moment."));
    EXPECT_TRUE(third.WaitClosed());
  }
  EXPECT_EQ(
      gateway_->Metric(
          "holomush_gateway_connections_refused_total{protocol=\"telnet\",reason=\"prelogin\"}"),
      1.0);
  // Once one of them logs in, another may wait at the prompt.
  ana.Send("create ana secret-ana");
  ASSERT_TRUE(ana.Expect("The Nexus")) << ana.Pending();
  TelnetPlayer fourth(port);
  EXPECT_TRUE(fourth.Greeted());

  // Pre-login `who` from every waiting connection at once: core answers once for them all.
  const auto asked = [&] {
    return core_->Metric("holomush_grpc_requests_total{code=\"OK\",method=\"Who\"}").value_or(0);
  };
  const double before = asked();
  waiting.Send("who");
  fourth.Send("who");
  EXPECT_TRUE(waiting.Expect("Ana")) << waiting.Pending();
  EXPECT_TRUE(fourth.Expect("Ana")) << fourth.Pending();
  EXPECT_EQ(asked() - before, 1.0);
}

TEST_F(GatewaySystemTest, AFloodIsSlowedToCoresPaceNotRefused) {
  // Core's pace for this game: 20 commands a second after a burst of 5.
  gateway_.reset();
  core_.reset();
  StartAll({}, {"--command-rate", "20", "--command-burst", "5"});
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ASSERT_TRUE(ana->Expect("Bob has connected."));
  // One write of 100 says, as fast as the socket takes them.
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += "say flood " + std::to_string(i) + "\r\n";
  const auto start = std::chrono::steady_clock::now();
  ana->SendRaw(flood);
  auto heard = bob->Expect("Ana says, \"flood 99\"", 60s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(heard) << bob->Pending();
  // Every say arrived, once, in order: none refused, none dropped.
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) expected.push_back("flood " + std::to_string(i));
  EXPECT_EQ(Said(*heard, "Ana"), expected);
  // Held to the pace: core keeps most of its burst of 5 back as slack, so the gateway starts
  // from a burst of 1: (100 - 1) / 20 = 4.95 s at the least.
  EXPECT_GE(took, 4500ms);
  auto ana_saw = ana->Expect("You say, \"flood 99\"");
  ASSERT_TRUE(ana_saw);
  EXPECT_EQ(ana_saw->find("too fast"), std::string::npos) << *ana_saw;
  EXPECT_EQ(ana_saw->find("did not take"), std::string::npos) << *ana_saw;
  EXPECT_EQ(core_->Metric("holomush_commands_refused_total{reason=\"rate\"}"), 0.0);
  EXPECT_EQ(Column(url_,
                   "SELECT count(*) FROM events WHERE type = 'say' AND "
                   "payload->>'message' LIKE 'flood %'"),
            std::vector<std::string>{"100"});
  // Bob was never held by ana's pace.
  bob->Send("say still quick");
  EXPECT_TRUE(ana->Expect("Bob says, \"still quick\"", 5s));
}

TEST_F(GatewaySystemTest, FiveHundredConnectionsOpenedAndDropped) {
  const long rss_idle = gateway_->RssKiB();
  std::vector<std::unique_ptr<TelnetPlayer>> clients;
  for (int i = 0; i < 500; ++i) {
    clients.push_back(std::make_unique<TelnetPlayer>(gateway_->telnet_port()));
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        return gateway_->Metric("holomush_gateway_connections_active{protocol=\"telnet\"}") == 500;
      },
      30s));
  const long rss_500 = gateway_->RssKiB();
  std::cout << "[figures] gateway RSS idle " << rss_idle << " KiB, with 500 telnet connections "
            << rss_500 << " KiB (" << (rss_500 - rss_idle) * 1024 / 500 << " bytes each)\n";
  RecordProperty("rss_500_connections_kib", std::to_string(rss_500));
#ifndef __SANITIZE_ADDRESS__  // ASan's shadow and redzones are not the gateway's memory
  // The bound the fan-out work set for an idle session (bench/ measures it logged in).
  EXPECT_LT((rss_500 - rss_idle) * 1024 / 500, 20'000);
#endif
  clients.clear();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return gateway_->Metric("holomush_gateway_connections_active{protocol=\"telnet\"}") == 0;
      },
      30s));
  EXPECT_EQ(gateway_->Metric("holomush_gateway_connections_total{protocol=\"telnet\"}"), 500);
  auto ana = Player("create", "ana");
  ana->Send("say after the storm");
  EXPECT_TRUE(ana->Expect("You say, \"after the storm\""));
}

TEST_F(GatewaySystemTest, DroppedPlayerGetsTheMissedLinesOnceInOrder) {
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ana->Send("say before");
  ASSERT_TRUE(bob->Expect("Ana says, \"before\"\r\n"));
  bob->Close();
  ASSERT_TRUE(WaitUntil([&] { return core_->Metric("holomush_sessions_active") == 1; }, 10s));
  for (const char* word : {"one", "two", "three", "four"}) ana->Send(std::string("say ") + word);
  ASSERT_TRUE(ana->Expect("You say, \"four\""));

  TelnetPlayer again(gateway_->telnet_port());
  ASSERT_TRUE(again.Greeted());
  again.Send("connect bob secret-bob");
  auto got = again.Expect("Ana says, \"four\"\r\n");
  ASSERT_TRUE(got) << again.Pending();
  again.Send("say back");
  auto rest = again.Expect("You say, \"back\"");
  ASSERT_TRUE(rest);
  EXPECT_EQ(Said(*got + *rest, "Ana"), (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST_F(GatewaySystemTest, CoreKilledAndRestartedLosesAndDoublesNothing) {
  auto ana = Player("create", "ana");
  auto bob = Player("create", "bob");
  ana->Send("say warm-up");
  ASSERT_TRUE(bob->Expect("Ana says, \"warm-up\"\r\n"));

  // Mid-conversation: a burst of lines, and core dies under it.
  for (int i = 1; i <= 30; ++i) ana->Send("say m" + std::to_string(i));
  ASSERT_TRUE(bob->Expect("Ana says, \"m3\""));
  std::string seen_by_bob = "Ana says, \"m3\"";
  const auto killed = std::chrono::steady_clock::now();
  core_->Kill();
  EXPECT_TRUE(gateway_->WaitReadiness(503, 10s));
  const auto not_ready = std::chrono::steady_clock::now();
  auto notice = bob->Expect(kNotice);
  ASSERT_TRUE(notice) << bob->Pending();
  seen_by_bob += *notice;
  EXPECT_TRUE(ana->Expect(kNotice));

  ASSERT_TRUE(core_->Start()) << core_->process().Output();
  ASSERT_TRUE(core_->WaitReady());
  const auto core_ready = std::chrono::steady_clock::now();
  EXPECT_TRUE(gateway_->WaitReadiness(200, 20s));
  const auto ready_again = std::chrono::steady_clock::now();
  // Sessions resume: the same players talk again without logging in.
  ASSERT_TRUE(WaitUntil([&] { return core_->Metric("holomush_sessions_active") == 2; }, 20s));
  const auto resumed = std::chrono::steady_clock::now();
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "[figures] core SIGKILL -> gateway readiness 503 in " << ms(not_ready - killed)
            << " ms; core ready -> gateway readiness 200 in " << ms(ready_again - core_ready)
            << " ms, both sessions reattached in " << ms(resumed - core_ready) << " ms\n";
  ana->Send("say after");
  auto tail = bob->Expect("Ana says, \"after\"\r\n", 20s);
  ASSERT_TRUE(tail) << bob->Pending();
  seen_by_bob += *tail;

  // What bob saw of the burst is exactly what core committed: once each, in order.
  std::vector<std::string> committed =
      Column(url_,
             "SELECT payload->>'message' FROM events WHERE type = 'say' AND "
             "payload->>'message' ~ '^m[0-9]+$' ORDER BY id");
  std::vector<std::string> got = Said(seen_by_bob, "Ana");
  got.erase(std::remove(got.begin(), got.end(), "after"), got.end());
  std::vector<std::string> expected(std::find(committed.begin(), committed.end(), "m3"),
                                    committed.end());
  EXPECT_EQ(got, expected);
  EXPECT_GE(committed.size(), 3u);
  EXPECT_EQ(std::count(seen_by_bob.begin(), seen_by_bob.end(), '['), 1)
      << "one notice only: " << seen_by_bob;
  EXPECT_GE(gateway_->Metric("holomush_gateway_core_reconnects_total").value_or(0), 1);
}

TEST_F(GatewaySystemTest, StatusExitCodes) {
  auto ana = Player("create", "ana");
  auto both = Status();
  EXPECT_EQ(both.code, 0) << both.output;
  EXPECT_NE(both.output.find("COMPONENT"), std::string::npos) << both.output;
  EXPECT_EQ(std::count(both.output.begin(), both.output.end(), '\n'), 3) << both.output;
  auto json = Status({}, true);
  ASSERT_EQ(json.code, 0) << json.output;
  auto j = nlohmann::json::parse(json.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.output;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["components"][0]["health"], "SERVING");
  EXPECT_EQ(j["components"][1]["component"], "gateway");
  EXPECT_EQ(j["components"][1]["sessions"], 1);
  EXPECT_EQ(j["components"][0]["sessions"], 1);

  auto usage = Status({{"--core-addr", "not-an-address"}});
  EXPECT_EQ(usage.code, 2) << usage.output;
  auto unknown_flag = Status({{"--frobnicate", "1"}});
  EXPECT_EQ(unknown_flag.code, 2) << unknown_flag.output;

  const std::string other_ca = FreshCertsDir("status-other-ca");
  auto wrong_ca = Status({{"--tls-dir", other_ca}});
  std::filesystem::remove_all(other_ca);
  EXPECT_EQ(wrong_ca.code, 1) << wrong_ca.output;
  EXPECT_NE(wrong_ca.output.find("TLS_FAILURE"), std::string::npos) << wrong_ca.output;

  // Something listens where core should be and never answers: TIMEOUT, not a hang.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(silent, 8), 0);
  socklen_t at_size = sizeof at;
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&at), &at_size), 0);
  auto hung = Status(
      {{"--core-addr", "127.0.0.1:" + std::to_string(ntohs(at.sin_port))}, {"--timeout", "1s"}});
  ::close(silent);
  EXPECT_EQ(hung.code, 1) << hung.output;
  EXPECT_NE(hung.output.find("TIMEOUT"), std::string::npos) << hung.output;
  EXPECT_NE(hung.output.find("within 1000ms"), std::string::npos) << hung.output;

  // Liveness watches the gateway's client io threads, and only them: core being gone is
  // readiness's business.
  const std::string alive = "ok\nclient io threads: on time\n";
  EXPECT_EQ(HttpGet(gateway_->ops_port(), "/healthz/liveness").body, alive);
  core_->Kill();
  ASSERT_TRUE(gateway_->WaitReadiness(503));
  // The 503 names what is failing: the check on core.
  const auto readiness = HttpGet(gateway_->ops_port(), "/healthz/readiness");
  EXPECT_EQ(readiness.body.rfind("not ready\ncore: ", 0), 0u) << readiness.body;
  EXPECT_EQ(HttpGet(gateway_->ops_port(), "/healthz/liveness").body, alive);
  auto core_down = Status();
  EXPECT_EQ(core_down.code, 1) << core_down.output;
  EXPECT_NE(core_down.output.find("UNREACHABLE"), std::string::npos) << core_down.output;
  EXPECT_NE(core_down.output.find("NOT_SERVING"), std::string::npos) << core_down.output;
  EXPECT_NE(core_down.output.find("core: cannot connect to"), std::string::npos)
      << core_down.output;

  ASSERT_TRUE(core_->Start());
  ASSERT_TRUE(gateway_->WaitReadiness(200));
  EXPECT_EQ(Status().code, 0);
  gateway_->Signal(SIGKILL);
  gateway_->Wait(10s);
  auto gateway_down = Status();
  EXPECT_EQ(gateway_down.code, 1) << gateway_down.output;
  EXPECT_NE(gateway_down.output.find("gateway: cannot connect to"), std::string::npos)
      << gateway_down.output;
}

// What the CertificateExpiringSoon, ReadinessFailing and build dashboards read, with the labels
// and values they expect: each process names itself and its version, and reports the notAfter
// of the CA and of its own certificate as openssl reads them from the files it loaded.
TEST_F(GatewaySystemTest, ProcessMetricsNameTheComponentVersionAndCertificates) {
  auto not_after = [](const std::string& file) {
    ChildProcess openssl({"/bin/sh", "-c",
                          "date -d \"$(openssl x509 -noout -enddate -in \"$0\" | cut -d= -f2)\" "
                          "+%s",
                          file});
    EXPECT_EQ(openssl.Wait(), 0) << openssl.Output();
    return std::stod(openssl.Output());
  };
  const double ca = not_after(TestCertsDir() + "/ca.crt");
  ASSERT_GT(ca, 0);
  for (const std::string component : {"core", "gateway"}) {
    const int port = component == "core" ? core_->ops_port() : gateway_->ops_port();
    const std::string scrape = HttpGet(port, "/metrics").body;
    EXPECT_NE(scrape.find("\nholomush_build_info{component=\"" + component + "\",version=\"0.1.0"),
              std::string::npos)
        << scrape;
    auto value = [&](const std::string& series) { return SeriesValue(scrape, series); };
    const std::string cert = "holomush_tls_certificate_not_after_timestamp_seconds{certificate=\"";
    EXPECT_EQ(value(cert + "ca\"}"), ca) << component;
    EXPECT_EQ(value(cert + component + "\"}"), not_after(TestCertsDir() + "/" + component + ".crt"))
        << component;
    EXPECT_EQ(value("holomush_ready"), 1) << component;
  }
  // The gateway's readiness follows core's, and so does its holomush_ready.
  // Liveness watches the gateway's client io threads, and only them: core being gone is
  // readiness's business.
  const std::string alive = "ok\nclient io threads: on time\n";
  EXPECT_EQ(HttpGet(gateway_->ops_port(), "/healthz/liveness").body, alive);
  core_->Kill();
  ASSERT_TRUE(gateway_->WaitReadiness(503));
  // The 503 names what is failing: the check on core.
  const auto readiness = HttpGet(gateway_->ops_port(), "/healthz/readiness");
  EXPECT_EQ(readiness.body.rfind("not ready\ncore: ", 0), 0u) << readiness.body;
  EXPECT_EQ(HttpGet(gateway_->ops_port(), "/healthz/liveness").body, alive);
  EXPECT_TRUE(WaitUntil([&] { return gateway_->Metric("holomush_ready") == 0.0; }, 5s));
  ASSERT_TRUE(core_->Start());
  ASSERT_TRUE(gateway_->WaitReadiness(200));
  EXPECT_TRUE(WaitUntil([&] { return gateway_->Metric("holomush_ready") == 1.0; }, 5s));
}

TEST_F(GatewaySystemTest, SigtermTellsPlayersAndExitsCleanly) {
  auto ana = Player("create", "ana");
  gateway_->Signal(SIGTERM);
  EXPECT_TRUE(ana->Expect("The game's gateway is restarting. Please reconnect in a moment."));
  EXPECT_TRUE(ana->WaitClosed());
  EXPECT_EQ(gateway_->Wait(10s), 0);
  // Core stops counting the session as active (nobody is attached) but does not end it: it
  // stays resumable for the linger time.
  EXPECT_TRUE(WaitUntil([&] { return core_->Metric("holomush_sessions_active") == 0; }, 10s));
  EXPECT_EQ(Column(url_, "SELECT (ended_at IS NULL)::text FROM sessions"),
            std::vector<std::string>{"true"});
}

// A malformed allow-list entry stops the gateway at start, naming the entry, before it
// listens anywhere.
TEST(GatewayConfigTest, AMalformedAllowedOriginStopsTheGatewayNamingIt) {
  ChildProcess gateway({HOLOMUSH_BINARY, "gateway", "--core-addr", "127.0.0.1:1", "--tls-dir",
                        TestCertsDir(), "--telnet-addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0",
                        "--control-addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0",
                        "--allowed-origins", "https://ok.example,mush.example.com"});
  EXPECT_EQ(gateway.Wait(30s), 2) << gateway.Output();
  const std::string out = gateway.Output();
  EXPECT_NE(out.find("invalid setting allowed-origins"), std::string::npos) << out;
  EXPECT_NE(out.find("mush.example.com"), std::string::npos) << out;
  EXPECT_EQ(out.find("gateway listening"), std::string::npos) << out;
}

TEST_F(GatewaySystemTest, WebSocketClientPlaysWithTelnetOnes) {
  auto bob = Player("create", "bob");
  TcpClient ws(gateway_->web_port());
  ws.Send(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_TRUE(ws.ReadUntil("HTTP/1.1 101"));
  // One masked text frame from the client: {"type":"command","line":"create wes pw-wes"}.
  auto frame = [](const std::string& payload) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    f.push_back(static_cast<char>(0x80 | payload.size()));
    const char mask[4] = {1, 2, 3, 4};
    f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ mask[i % 4]);
    return f;
  };
  ws.Send(frame(R"({"type":"command","line":"create wes pw-wes"})"));
  ws.Send(frame(R"({"type":"command","line":"say hi from a browser"})"));
  EXPECT_TRUE(bob->Expect("Wes says, \"hi from a browser\"\r\n"));
  // The browser is told its session and resume token (sent before anything it hears).
  const auto session = ws.ReadUntil(R"("type":"session"})");
  ASSERT_TRUE(session) << ws.Pending();
  std::smatch token;
  std::smatch id;
  ASSERT_TRUE(std::regex_search(*session, token, std::regex(R"re("resume_token":"([^"]+)")re")));
  ASSERT_TRUE(std::regex_search(*session, id, std::regex(R"re("session_id":"([^"]+)")re")));
  EXPECT_TRUE(ws.ReadUntil(R"("text":"You say, \"hi from a browser\"")"));
  EXPECT_EQ(gateway_->Metric("holomush_gateway_connections_active{protocol=\"websocket\"}"), 1);
  // The gateway's log names the session, never its token nor a password.
  ASSERT_TRUE(gateway_->process().WaitForLine("\"session_id\":\"" + id[1].str() + "\"", 10s))
      << gateway_->process().Output();
  const std::string log = gateway_->process().Output();
  EXPECT_GE(token[1].length(), 16u);
  EXPECT_EQ(log.find(token[1].str()), std::string::npos) << "resume token logged";
  EXPECT_EQ(log.find("pw-wes"), std::string::npos) << "password logged";
  EXPECT_EQ(log.find("pw-bob"), std::string::npos) << "password logged";
}

}  // namespace
}  // namespace holomush::testing
