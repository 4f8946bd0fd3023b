// Signal handling in a real child process: `holomush gateway` with its ops port on port 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/core_harness.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace holomush {
namespace {

using testing::ChildProcess;
using testing::HttpGet;

int OpsPortFrom(ChildProcess& child) {
  auto line = child.WaitForLine("\"msg\":\"started\"");
  if (!line) return 0;
  auto addr = nlohmann::json::parse(*line)["ops_addr"].get<std::string>();
  return std::stoi(addr.substr(addr.rfind(':') + 1));
}

class ShutdownTest : public ::testing::TestWithParam<int> {};

TEST_P(ShutdownTest, ReadinessTurns503ThenExitsZeroWithinGrace) {
  ChildProcess child({HOLOMUSH_BINARY, "gateway", "--ops-addr", "127.0.0.1:0", "--telnet-addr",
                      "127.0.0.1:0", "--web-addr", "127.0.0.1:0", "--control-addr", "127.0.0.1:0",
                      "--core-addr", "127.0.0.1:1", "--shutdown-grace", "3s", "--tls-dir",
                      testing::TestCertsDir()});
  const int port = OpsPortFrom(child);
  ASSERT_GT(port, 0) << child.Output();
  ASSERT_EQ(HttpGet(port, "/healthz/liveness").status, 200);
  child.Signal(GetParam());
  auto stopping = child.WaitForLine("\"msg\":\"stopping\"");
  ASSERT_TRUE(stopping) << child.Output();
  // Readiness flipped before "stopping" was logged; while the port still answers it says 503.
  auto r = HttpGet(port, "/healthz/readiness");
  EXPECT_TRUE(r.status == 503 || r.status == 0) << r.status;
  auto code = child.Wait(std::chrono::seconds(5));
  ASSERT_TRUE(code.has_value()) << "did not exit within the grace period";
  EXPECT_EQ(*code, 0) << child.Output();
  EXPECT_TRUE(child.WaitForLine("\"msg\":\"stopped\""));
}

INSTANTIATE_TEST_SUITE_P(Signals, ShutdownTest, ::testing::Values(SIGTERM, SIGINT));

TEST(CommandLineTest, UnknownSubcommandAndFlagExit2WithUsage) {
  ChildProcess unknown({HOLOMUSH_BINARY, "frobnicate"});
  EXPECT_EQ(unknown.Wait(), 2);
  EXPECT_NE(unknown.Output().find("Usage"), std::string::npos);
  ChildProcess bad_flag({HOLOMUSH_BINARY, "gateway", "--no-such-flag"});
  EXPECT_EQ(bad_flag.Wait(), 2);
}

TEST(CommandLineTest, BadValueStopsAtStartWithOneLine) {
  ChildProcess child({HOLOMUSH_BINARY, "gateway", "--ops-addr", "127.0.0.1:99999"});
  EXPECT_EQ(child.Wait(), 2);
  auto lines = child.Lines();
  ASSERT_EQ(lines.size(), 1u) << child.Output();
  EXPECT_EQ(lines[0],
            "holomush: invalid setting --ops-addr: \"127.0.0.1:99999\"; expected host:port with "
            "a port from 0 to 65535");
}

TEST(CommandLineTest, EnvironmentNameFollowsTheFlag) {
  ChildProcess child({HOLOMUSH_BINARY, "gateway"}, {{"HOLOMUSH_OPS_ADDR", "nowhere"}});
  EXPECT_EQ(child.Wait(), 2);
  EXPECT_NE(child.Output().find("invalid setting HOLOMUSH_OPS_ADDR: \"nowhere\""),
            std::string::npos);
}

TEST(CommandLineTest, VersionAndHelpExitZero) {
  ChildProcess version({HOLOMUSH_BINARY, "--version"});
  EXPECT_EQ(version.Wait(), 0);
  EXPECT_EQ(version.Output().rfind("holomush 0.1.0", 0), 0u) << version.Output();
  ChildProcess help({HOLOMUSH_BINARY, "core", "--help"});
  EXPECT_EQ(help.Wait(), 0);
  EXPECT_NE(help.Output().find("--grpc-addr"), std::string::npos);
}

}  // namespace
}  // namespace holomush
