#include "holomush/common/ops_server.hpp"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <future>
#include <vector>

#include "support/net.hpp"
#include "support/wait.hpp"

namespace holomush::common {
namespace {

using holomush::testing::HttpGet;
using holomush::testing::HttpRequest;
using holomush::testing::HttpResponse;
using holomush::testing::TcpClient;

class OpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    prometheus::BuildCounter()
        .Name("holomush_test_total")
        .Help("test counter")
        .Register(*registry_)
        .Add({})
        .Increment(7);
    server_ = std::make_unique<OpsServer>(HostPort{"127.0.0.1", 0}, health_, registry_);
    server_->Start();
    port_ = server_->port();
  }

  Health health_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<OpsServer> server_;
  int port_ = 0;
};

TEST_F(OpsServerTest, LivenessIs200WhileEveryLoopBeatsWhateverReadinessSays) {
  health_.Set("database", false, "connection refused");
  Heartbeat* loop = health_.AddHeartbeat("event writer", std::chrono::seconds(30));
  loop->Beat();
  auto r = HttpGet(port_, "/healthz/liveness");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\nevent writer: on time\n");
}

TEST_F(OpsServerTest, LivenessIs503NamingALoopThatStoppedBeating) {
  health_.AddHeartbeat("event writer", std::chrono::seconds(30));
  health_.AddHeartbeat("command workers", std::chrono::milliseconds(1));
  HttpResponse r;
  ASSERT_TRUE(holomush::testing::WaitUntil(
      [&] { return (r = HttpGet(port_, "/healthz/liveness")).status == 503; }));
  EXPECT_EQ(r.body.rfind("not alive\ncommand workers: no heartbeat for ", 0), 0u) << r.body;
  // Only the failing loops are named then.
  EXPECT_EQ(r.body.find("event writer"), std::string::npos) << r.body;
}

TEST_F(OpsServerTest, ReadinessIs503NamingEveryFailingCheck) {
  health_.Set("database", false, "connection refused");
  health_.Set("migrations", true);
  health_.Set("listener", false, "not connected");
  auto r = HttpGet(port_, "/healthz/readiness");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready\ndatabase: connection refused\nlistener: not connected\n");
}

TEST_F(OpsServerTest, ReadinessIs200WhenAllChecksPass) {
  health_.Set("database", true);
  EXPECT_EQ(HttpGet(port_, "/healthz/readiness").status, 200);
  health_.SetShuttingDown();
  auto r = HttpGet(port_, "/healthz/readiness");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("shutdown"), std::string::npos);
}

TEST_F(OpsServerTest, ReadinessWithNoChecksIsNotReady) {
  EXPECT_EQ(HttpGet(port_, "/healthz/readiness").status, 503);
}

TEST_F(OpsServerTest, MetricsServesPrometheusText) {
  auto r = HttpGet(port_, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("holomush_test_total 7"), std::string::npos);
  EXPECT_NE(r.headers.find("text/plain; version=0.0.4"), std::string::npos);
}

TEST_F(OpsServerTest, UnknownPathIs404AndOtherMethodsAre405) {
  EXPECT_EQ(HttpGet(port_, "/healthz").status, 404);
  EXPECT_EQ(HttpGet(port_, "/").status, 404);
  auto r = HttpRequest("POST", port_, "/metrics");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: GET, HEAD"), std::string::npos);
  EXPECT_EQ(HttpRequest("DELETE", port_, "/healthz/liveness").status, 405);
}

TEST_F(OpsServerTest, HeadHasNoBody) {
  auto r = HttpRequest("HEAD", port_, "/healthz/liveness");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_F(OpsServerTest, HundredConcurrentClientsAllAnswered) {
  health_.Set("x", true);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 100; ++i) {
    results.push_back(std::async(std::launch::async,
                                 [this] { return HttpGet(port_, "/healthz/readiness").status; }));
  }
  int ok = 0;
  for (auto& f : results) ok += f.get() == 200 ? 1 : 0;
  EXPECT_EQ(ok, 100);
}

TEST_F(OpsServerTest, SilentAndHalfRequestClientsDoNotBlockProbes) {
  std::vector<std::unique_ptr<TcpClient>> stuck;
  for (int i = 0; i < 20; ++i) {
    stuck.push_back(std::make_unique<TcpClient>(port_));
    ASSERT_TRUE(stuck.back()->connected());
    if (i % 2 == 0) stuck.back()->Send("GET /healthz/liv");  // never finishes the request
  }
  auto r = HttpRequest("GET", port_, "/healthz/liveness", std::chrono::seconds(2));
  EXPECT_EQ(r.status, 200);
}

TEST_F(OpsServerTest, OversizedRequestIsRejectedWithoutHarm) {
  TcpClient client(port_);
  client.Send("GET /healthz/liveness HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') +
              "\r\n\r\n");
  EXPECT_TRUE(client.WaitClosed(std::chrono::seconds(5)));
  EXPECT_EQ(HttpGet(port_, "/healthz/liveness").status, 200);
}

// The operator's shape: its own probe paths, and a passing check's detail in the body.
TEST(OpsServerPathsTest, OtherPathsServeTheSameProbesAndPassingDetailsAreShown) {
  Health health;
  auto registry = std::make_shared<prometheus::Registry>();
  OpsServer server({"127.0.0.1", 0}, health, registry,
                   {.liveness = "/healthz", .readiness = "/readyz"});
  server.Start();
  health.Set("caches", false, "not synced yet");
  health.Set("role", true, "standby");
  auto r = HttpGet(server.port(), "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "not ready\ncaches: not synced yet\n");
  health.Set("caches", true);
  health.Set("role", true, "leader");
  r = HttpGet(server.port(), "/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\nrole: leader\n");
  EXPECT_EQ(HttpGet(server.port(), "/healthz").body, "ok\n");
  EXPECT_EQ(HttpGet(server.port(), "/healthz/readiness").status, 404);
}

TEST(OpsServerBindTest, BusyAddressFailsWithTheAddressInTheMessage) {
  Health health;
  auto registry = std::make_shared<prometheus::Registry>();
  OpsServer first({"127.0.0.1", 0}, health, registry);
  first.Start();
  OpsServer second({"127.0.0.1", first.port()}, health, registry);
  try {
    second.Start();
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos);
  }
}

}  // namespace
}  // namespace holomush::common
