// What core exports, scraped from a real process: every series docs/design/metrics.md names
// for core exists from the start, and every gRPC service's calls are counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/core_harness.hpp"
#include "support/net.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/threads.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

// The metric names in the "## Core" section of docs/design/metrics.md.
std::set<std::string> DocumentedCoreMetrics() {
  std::ifstream in(std::string(HOLOMUSH_SOURCE_DIR) + "/docs/design/metrics.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const auto start = doc.find("## Core");
  const auto end = doc.find("\n## ", start + 1);
  const std::string section = doc.substr(start, end - start);
  std::set<std::string> names;
  static const std::regex kName("`(holomush_[a-z_]+)`");
  for (std::sregex_iterator it(section.begin(), section.end(), kName), last; it != last; ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

TEST(CoreMetricsTest, EveryDocumentedSeriesExistsFromTheStart) {
  const auto names = DocumentedCoreMetrics();
  ASSERT_GE(names.size(), 10u);
  CoreProcess core(FreshDatabase("metrics"));
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  const std::string body = HttpGet(core.ops_port(), "/metrics").body;
  for (const auto& name : names) {
    const bool present = body.find("\n" + name + " ") != std::string::npos ||
                         body.find("\n" + name + "{") != std::string::npos ||
                         body.find("\n" + name + "_bucket{") != std::string::npos;
    EXPECT_TRUE(present) << name << " is documented but not exported";
  }
  // Labelled series the alerts and dashboards use are there at 0 before anything happened.
  EXPECT_EQ(core.Metric("holomush_commands_total{command=\"say\"}"), 0.0);
  EXPECT_EQ(core.Metric("holomush_events_total{type=\"say\"}"), 0.0);
  EXPECT_EQ(core.Metric("holomush_commands_refused_total{reason=\"rate\"}"), 0.0);
  EXPECT_EQ(core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"Login\"}"), 0.0);
}

// Liveness watches core's four loops: each is named on the 200 page once it beats.
TEST(CoreMetricsTest, LivenessWatchesTheFiveLoopsOfCore) {
  CoreProcess core(FreshDatabase("metrics"));
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  const auto live = HttpGet(core.ops_port(), "/healthz/liveness");
  EXPECT_EQ(live.status, 200);
  std::vector<std::string> lines;
  std::istringstream in(live.body);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin() + 1, lines.end());
  EXPECT_EQ(lines,
            (std::vector<std::string>{"ok", "command workers: on time", "event delivery: on time",
                                      "event writer: on time", "listener loop: on time",
                                      "password workers: on time"}))
      << live.body;
}

// The pools are as large as the flags say, and named, so `top -H` tells them apart (the event
// writer's two threads too).
TEST(CoreThreadsTest, WorkerAndPasswordPoolsHaveTheSizesTheirFlagsSay) {
  CoreProcess core(FreshDatabase("threads"), {"--worker-threads", "3", "--password-threads", "2"});
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  // A thread names itself when it first runs, which under load may trail readiness.
  const auto named = [&](const char* name, int n) {
    return WaitUntil([&] { return ThreadsNamed(core.process().pid(), name) == n; });
  };
  EXPECT_TRUE(named("holomush-work", 3)) << ThreadsNamed(core.process().pid(), "holomush-work");
  EXPECT_TRUE(named("holomush-pass", 2)) << ThreadsNamed(core.process().pid(), "holomush-pass");
  EXPECT_TRUE(named("holomush-writer", 1));
  EXPECT_TRUE(named("holomush-fanout", 1));
}

TEST(CoreMetricsTest, EveryServicesCallsAreCountedByMethodAndCode) {
  CoreProcess core(FreshDatabase("metrics"));
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  const auto checks_before =
      core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"Check\"}").value_or(-1);
  // `holomush status` asks core's Health and Control services (the gateway is absent here).
  ChildProcess status({HOLOMUSH_BINARY, "status", "--core-addr", core.address(), "--gateway-addr",
                       "127.0.0.1:1", "--tls-dir", TestCertsDir(), "--timeout", "3s"});
  EXPECT_EQ(status.Wait(std::chrono::seconds(30)), 1) << status.Output();
  EXPECT_GE(core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"Check\"}").value_or(0),
            checks_before + 1);
  EXPECT_GE(core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"GetInfo\"}").value_or(0),
            1.0);
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Create("ana", "secret-ana").message().empty());
  EXPECT_EQ(ana.Login("ana", "wrong-password").message(), "Invalid username or password.");
  EXPECT_EQ(core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"Login\"}"), 1.0);
  EXPECT_EQ(core.Metric("holomush_grpc_requests_total{code=\"OK\",method=\"CreateAccount\"}"), 1.0);
  EXPECT_GE(core.Metric("holomush_grpc_latency_seconds_count{method=\"Login\"}").value_or(0), 1.0);
  // GRPCLatencyHigh interpolates the 99th percentile against 0.5 s: that must be a boundary.
  const auto at_half =
      core.Metric("holomush_grpc_latency_seconds_bucket{method=\"Login\",le=\"0.5\"}");
  EXPECT_TRUE(at_half.has_value()) << HttpGet(core.ops_port(), "/metrics").body;
  EXPECT_LE(at_half.value_or(2), 1.0);
}

}  // namespace
}  // namespace holomush::testing
