// `holomush dev` from nothing: PostgreSQL, certificates, core and gateway; a telnet login;
// `holomush status` and the printed pg_dump line work as printed; Ctrl-C stops everything
// with exit 0; the world is still there on the next run.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

#include "gateway_harness.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

using namespace std::chrono_literals;

class DevSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("holomush-dev-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    for (int* port : {&telnet_, &web_, &grpc_, &control_, &core_ops_, &gateway_ops_, &pg_}) {
      *port = FreePort();
    }
  }
  // Certificates go where `holomush status` looks by default: $XDG_CONFIG_HOME here.
  std::map<std::string, std::string> Env() const {
    return {{"XDG_CONFIG_HOME", (dir_ / "config").string()}};
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<ChildProcess> Dev() {
    auto addr = [](int port) { return "127.0.0.1:" + std::to_string(port); };
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{HOLOMUSH_BINARY, "dev", "--data-dir", dir_.string(),
                                 "--telnet-addr", addr(telnet_), "--web-addr", addr(web_),
                                 "--core-addr", addr(grpc_), "--control-addr", addr(control_),
                                 "--core-ops-addr", addr(core_ops_), "--gateway-ops-addr",
                                 addr(gateway_ops_), "--pg-port", std::to_string(pg_)},
        Env());
  }

  // The command between the backquotes after `label` in one of dev's lines.
  static std::string Quoted(ChildProcess& dev, const std::string& label) {
    auto line = dev.WaitForLine(label + "`", 10s);
    if (!line) return "";
    const auto start = line->find(label + "`") + label.size() + 1;
    return line->substr(start, line->find('`', start) - start);
  }

  // Runs `command` in a shell with the test's environment; exit code and output.
  std::pair<int, std::string> Shell(const std::string& command) const {
    ChildProcess sh({"/bin/sh", "-c", command + " 2>&1"}, Env());
    std::optional<int> rc = sh.Wait(60s);
    return {rc.value_or(-1), sh.Output()};
  }

  // The password from dev's "admin account: `connect admin <password>`" line.
  static std::string AdminPassword(ChildProcess& dev) {
    const std::string prefix = "`connect admin ";
    auto line = dev.WaitForLine(prefix, 10s);
    if (!line) return "";
    const auto start = line->find(prefix) + prefix.size();
    return line->substr(start, line->find('`', start) - start);
  }

  // The pid of a process whose parent is `parent` and whose argv holds `word`, or 0.
  static pid_t ChildRunning(pid_t parent, const std::string& word) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(entry.path() / "stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const auto close = text.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(text.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid != parent) continue;
      std::ifstream cmdline(entry.path() / "cmdline");
      std::string argv((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      if (argv.find(std::string(1, '\0') + word + '\0') != std::string::npos) {
        return static_cast<pid_t>(std::stoi(name));
      }
    }
    return 0;
  }

  std::filesystem::path dir_;
  int telnet_ = 0, web_ = 0, grpc_ = 0, control_ = 0, core_ops_ = 0, gateway_ops_ = 0, pg_ = 0;
};

TEST_F(DevSystemTest, StartsFromNothingAcceptsALoginAndKeepsTheWorld) {
  auto dev = Dev();
  const std::string ready = "HoloMUSH is ready: telnet localhost " + std::to_string(telnet_);
  ASSERT_TRUE(dev->WaitForLine(ready, 180s)) << dev->Output();
  // Dev makes the admin and says how to log in; a registered player is no admin.
  const std::string password = AdminPassword(*dev);
  ASSERT_EQ(password.size(), 16u) << dev->Output();
  {
    TelnetPlayer ana(telnet_);
    ASSERT_TRUE(ana.Enter("create", "ana", "secret-ana")) << ana.Pending() << dev->Output();
    ana.Send("dig east to \"The Garden\"");
    ASSERT_TRUE(ana.Expect("Only builders and admins can use dig."));
    TelnetPlayer admin(telnet_);
    ASSERT_TRUE(admin.Enter("connect", "admin", password)) << admin.Pending();
    admin.Send("dig east to \"The Garden\"");
    ASSERT_TRUE(admin.Expect("Dug \"The Garden\" through east."));
  }
  EXPECT_EQ(HttpGet(gateway_ops_, "/healthz/readiness").status, 200);

  // The lines dev prints work as printed: status finds dev's certificates with no --tls-dir.
  const std::string status = Quoted(*dev, "health: ");
  ASSERT_NE(status.find("holomush status --core-addr"), std::string::npos) << dev->Output();
  EXPECT_EQ(status.find("--tls-dir"), std::string::npos) << status;
  auto [status_rc, status_out] = Shell(std::string(HOLOMUSH_BINARY) + status.substr(8));
  EXPECT_EQ(status_rc, 0) << status_out;
  EXPECT_NE(status_out.find("SERVING"), std::string::npos) << status_out;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "config/holomush/certs/cli.key"));
  const std::string dump = Quoted(
      *dev, "database: `psql -U holomush -h localhost -p " + std::to_string(pg_) + " holomush`, ");
  ASSERT_EQ(dump,
            "pg_dump -U holomush -h localhost -p " + std::to_string(pg_) + " holomush > backup.sql")
      << dev->Output();
  auto [dump_rc, dump_out] = Shell(dump.substr(0, dump.find(" >")));
  EXPECT_EQ(dump_rc, 0) << dump_out;
  EXPECT_NE(dump_out.find("CREATE TABLE public.player_aliases"), std::string::npos)
      << dump_out.substr(0, 2000);

  dev->Signal(SIGINT);
  EXPECT_EQ(dev->Wait(60s), 0) << dev->Output();
  // Everything stopped: nothing listens any more.
  for (int port : {telnet_, grpc_, control_, pg_}) {
    TcpClient probe(port);
    EXPECT_FALSE(probe.connected()) << "port " << port << " still open";
  }

  // Again, from the kept data directory: the account and the dug room are still there.
  auto again = Dev();
  ASSERT_TRUE(again->WaitForLine(ready, 180s)) << again->Output();
  EXPECT_EQ(AdminPassword(*again), password);
  TelnetPlayer ana(telnet_);
  ASSERT_TRUE(ana.Enter("connect", "ana", "secret-ana")) << ana.Pending();
  ana.Send("east");
  EXPECT_TRUE(ana.Expect("The Garden"));
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(60s), 0) << again->Output();

  // A child that dies stops the rest: dev says which, shows its log's end and exits 1.
  auto third = Dev();
  ASSERT_TRUE(third->WaitForLine(ready, 180s)) << third->Output();
  const pid_t core = ChildRunning(third->pid(), "core");
  ASSERT_GT(core, 0) << third->Output();
  ASSERT_EQ(::kill(core, SIGKILL), 0);
  EXPECT_EQ(third->Wait(60s), 1) << third->Output();
  EXPECT_NE(third->Output().find("core exited (code 137); its log ends:"), std::string::npos)
      << third->Output();
  for (int port : {telnet_, control_, pg_}) {
    TcpClient probe(port);
    EXPECT_FALSE(probe.connected()) << "port " << port << " still open";
  }
}

// A certificate directory holding a CA but not the rest is refused before anything starts.
TEST_F(DevSystemTest, APartialCertificateSetIsRefusedNamingTheMissingFile) {
  const auto certs = dir_ / "certs";
  std::filesystem::create_directories(certs);
  std::ofstream(certs / "ca.crt") << "not used\n";
  ChildProcess dev(
      {HOLOMUSH_BINARY, "dev", "--data-dir", (dir_ / "data").string(), "--tls-dir", certs.string()},
      Env());
  EXPECT_EQ(dev.Wait(30s), 1) << dev.Output();
  EXPECT_NE(dev.Output().find(certs.string() +
                              " has a CA but no core.crt; run `holomush certs "
                              "init --dir " +
                              certs.string() + "` or pass another --tls-dir"),
            std::string::npos)
      << dev.Output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "postgres")) << "PostgreSQL was started";
}

// As root, PostgreSQL runs as `postgres`: a data directory it cannot reach is refused, naming
// the directory in the way, before anything is made.
TEST_F(DevSystemTest, AsRootADataDirectoryPostgresCannotReachIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root's dev runs PostgreSQL as postgres";
  const auto closed = dir_ / "closed";
  std::filesystem::create_directories(closed);
  std::filesystem::permissions(closed, std::filesystem::perms::owner_all);
  ChildProcess dev({HOLOMUSH_BINARY, "dev", "--data-dir", (closed / "world").string()}, Env());
  EXPECT_EQ(dev.Wait(30s), 1) << dev.Output();
  EXPECT_NE(dev.Output().find("PostgreSQL runs as the postgres user, which cannot enter " +
                              closed.string()),
            std::string::npos)
      << dev.Output();
  EXPECT_NE(dev.Output().find("/var/lib/holomush/dev"), std::string::npos) << dev.Output();
  EXPECT_FALSE(std::filesystem::exists(closed / "world"));
}

}  // namespace
}  // namespace holomush::testing
