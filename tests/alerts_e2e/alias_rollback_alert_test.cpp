// AliasRollbackFailure end to end: a real core whose alias rollback fails for real, a real
// Prometheus (Debian's) scraping it as job holomush-core with alerts/holomush.rules.yaml,
// and a real Alertmanager delivering the alert to a webhook receiver in this test.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "integration/db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/net.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"
#include "webhook_receiver.hpp"

#if !defined(PROMETHEUS_BINARY) || !defined(ALERTMANAGER_BINARY) || !defined(HOLOMUSH_RULES_FILE)
#error "PROMETHEUS_BINARY, ALERTMANAGER_BINARY and HOLOMUSH_RULES_FILE must be defined"
#endif

namespace holomush::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kRunbook =
    "https://github.com/holomush/holomush/blob/main/alerts/runbooks/AliasRollbackFailure.md";

// A directory of this test's own, removed with everything in it.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "holomush-alerts-e2e-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A Prometheus or Alertmanager child listening on a loopback port, ready when /-/ready is.
struct Server {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
};

Server StartServer(std::vector<std::string> argv, const std::string& listen_flag) {
  Server server;
  server.port = FreePort();
  argv.push_back(listen_flag + "=127.0.0.1:" + std::to_string(server.port));
  server.process = std::make_unique<ChildProcess>(argv);
  return server;
}

bool WaitReady(Server& server) {
  return WaitUntil(
             [&] {
               return HttpGet(server.port, "/-/ready").status == 200 || !server.process->Running();
             },
             seconds(30)) &&
         server.process->Running();
}

Server StartAlertmanager(const fs::path& dir, const std::string& webhook_url) {
  // group_wait and group_interval as small as Alertmanager takes: the first notification
  // leaves as soon as the alert arrives. No resolved notices: this test only reads firing.
  std::ofstream(dir / "alertmanager.yml") << "route:\n"
                                             "  receiver: holomush-test\n"
                                             "  group_by: [alertname]\n"
                                             "  group_wait: 100ms\n"
                                             "  group_interval: 1s\n"
                                             "  repeat_interval: 1h\n"
                                             "receivers:\n"
                                             "  - name: holomush-test\n"
                                             "    webhook_configs:\n"
                                             "      - url: "
                                          << webhook_url << "\n        send_resolved: false\n";
  fs::create_directories(dir / "alertmanager-data");
  return StartServer({ALERTMANAGER_BINARY, "--config.file=" + (dir / "alertmanager.yml").string(),
                      "--storage.path=" + (dir / "alertmanager-data").string(),
                      // An empty address turns clustering (gossip on :9094) off.
                      "--cluster.listen-address=", "--log.level=debug"},
                     "--web.listen-address");
}

Server StartPrometheus(const fs::path& dir, int core_ops_port, int alertmanager_port) {
  std::ofstream(dir / "prometheus.yml") << "global:\n"
                                           "  scrape_interval: 1s\n"
                                           "  evaluation_interval: 1s\n"
                                           "rule_files:\n"
                                           "  - "
                                        << HOLOMUSH_RULES_FILE
                                        << "\n"
                                           "alerting:\n"
                                           "  alertmanagers:\n"
                                           "    - static_configs:\n"
                                           "        - targets: ['127.0.0.1:"
                                        << alertmanager_port
                                        << "']\n"
                                           "scrape_configs:\n"
                                           "  - job_name: holomush-core\n"
                                           "    static_configs:\n"
                                           "      - targets: ['127.0.0.1:"
                                        << core_ops_port << "']\n";
  fs::create_directories(dir / "prometheus-data");
  return StartServer({PROMETHEUS_BINARY, "--config.file=" + (dir / "prometheus.yml").string(),
                      "--storage.tsdb.path=" + (dir / "prometheus-data").string()},
                     "--web.listen-address");
}

// GET as HTTP/1.0: Go's server then sends the body plain, not chunked (which HttpGet does
// not decode), and closes the connection.
HttpResponse Get10(int port, const std::string& path) {
  TcpClient client(port);
  if (!client.connected() || !client.Send("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") ||
      !client.WaitClosed(seconds(5))) {
    return {};
  }
  const std::string raw = client.Pending();
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return {};
  return {std::stoi(raw.substr(9, 3)), raw.substr(head_end + 4), raw.substr(0, head_end)};
}

// The result vector of an instant query, or an empty array when Prometheus does not answer.
json Query(int prometheus_port, const std::string& promql) {
  const HttpResponse r = Get10(prometheus_port, "/api/v1/query?query=" + promql);
  if (r.status != 200) return json::array();
  return json::parse(r.body)["data"]["result"];
}

// The AliasRollbackFailure rule as Prometheus reports it (state, health, last evaluation).
json AliasRule(int prometheus_port) {
  const HttpResponse r = Get10(prometheus_port, "/api/v1/rules?type=alert");
  if (r.status != 200) return json::object();
  const json rules = json::parse(r.body);
  for (const json& group : rules["data"]["groups"]) {
    for (const json& rule : group["rules"]) {
      if (rule["name"] == "AliasRollbackFailure") return rule;
    }
  }
  return json::object();
}

// The firing AliasRollbackFailure in a webhook body, if it holds one.
std::optional<json> FiringAliasAlert(const std::string& body) {
  const json payload = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return std::nullopt;
  for (const json& alert : payload.value("alerts", json::array())) {
    if (alert["labels"].value("alertname", "") == "AliasRollbackFailure" &&
        alert.value("status", "") == "firing") {
      return alert;
    }
  }
  return std::nullopt;
}

TEST(AliasRollbackAlertTest, FailedRollbackReachesTheWebhookAsCriticalWithItsRunbook) {
  // Core as a role that owns its database but is no superuser, so a REVOKE binds it
  // (tests/integration/alias_rollback_test.cpp).
  auto& pg = SharedPostgres();
  const std::string admin_url = pg.Url("postgres");
  const std::string db = "alerts_e2e_" + std::to_string(::getpid());
  ExecSql(admin_url,
          "DO $$ BEGIN CREATE ROLE game_core LOGIN; EXCEPTION WHEN duplicate_object "
          "THEN NULL; END $$");
  ExecSql(admin_url, "CREATE DATABASE " + db + " OWNER game_core");
  CoreProcess core("postgresql://game_core@127.0.0.1:" + std::to_string(pg.port()) + "/" + db);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();

  const TempDir dir;
  WebhookReceiver webhook;
  Server alertmanager = StartAlertmanager(dir.path, webhook.Url("/alerts"));
  ASSERT_TRUE(WaitReady(alertmanager)) << alertmanager.process->Output();
  Server prometheus = StartPrometheus(dir.path, core.ops_port(), alertmanager.port);
  ASSERT_TRUE(WaitReady(prometheus)) << prometheus.process->Output();

  // Prometheus has scraped the counter at 0 (exported from start) and evaluated the rule on
  // it without firing: increase() needs that first sample to see the step to 1.
  const std::string instance = "127.0.0.1:" + std::to_string(core.ops_port());
  json series;
  ASSERT_TRUE(WaitUntil(
      [&] {
        series = Query(prometheus.port, "holomush_alias_rollback_failures_total");
        return series.size() == 1;
      },
      seconds(30)))
      << prometheus.process->Output();
  EXPECT_EQ(series[0]["metric"]["job"], "holomush-core");
  EXPECT_EQ(series[0]["metric"]["instance"], instance);
  EXPECT_EQ(series[0]["value"][1], "0");
  json rule;
  ASSERT_TRUE(WaitUntil(
      [&] {
        rule = AliasRule(prometheus.port);
        return rule.value("health", "") == "ok" &&
               rule.value("lastEvaluation", "").rfind("0001-", 0) != 0;
      },
      seconds(30)))
      << rule.dump() << prometheus.process->Output();
  EXPECT_EQ(rule["state"], "inactive");
  EXPECT_EQ(rule["query"], "increase(holomush_alias_rollback_failures_total[5m]) > 0");
  EXPECT_EQ(rule["duration"], 0);

  // The rollback fails for real: DELETE on player_aliases is revoked before the refused
  // alias's undo.
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ana.Send("alias a=b");
  ASSERT_TRUE(ana.WaitFor("Alias 'a' set"));
  EXPECT_FALSE(FiringAliasAlert(
      webhook
          .WaitFor([](const std::string& body) { return FiringAliasAlert(body).has_value(); },
                   std::chrono::milliseconds(0))
          .value_or("")));
  ExecSql(pg.Url(db), "REVOKE DELETE ON player_aliases FROM game_core");
  const auto triggered = std::chrono::steady_clock::now();
  ana.Send("alias b=a");
  ASSERT_TRUE(ana.WaitFor("Alias not set."));
  ASSERT_TRUE(core.process().WaitForLine("alias rollback failed - database-cache inconsistency"))
      << core.process().Output();
  EXPECT_EQ(core.Metric("holomush_alias_rollback_failures_total"), 1);

  // Scrape (1 s), evaluation (1 s), Alertmanager's group_wait: well under the deadline.
  const auto body = webhook.WaitFor(
      [](const std::string& b) { return FiringAliasAlert(b).has_value(); }, seconds(60));
  ASSERT_TRUE(body) << "requests: " << ::testing::PrintToString(webhook.Requests()) << "\n"
                    << "rule: " << AliasRule(prometheus.port).dump() << "\n"
                    << alertmanager.process->Output();
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - triggered).count();
  std::cout << "[ figures ] failed rollback to webhook delivery: " << took << " s\n";

  const json payload = json::parse(*body);
  EXPECT_EQ(payload["version"], "4");
  EXPECT_EQ(payload["receiver"], "holomush-test");
  EXPECT_EQ(payload["status"], "firing");
  EXPECT_EQ(payload["groupLabels"], (json{{"alertname", "AliasRollbackFailure"}}));
  ASSERT_EQ(payload["alerts"].size(), 1U) << payload.dump(2);
  const json alert = *FiringAliasAlert(*body);
  EXPECT_EQ(alert["labels"], (json{{"alertname", "AliasRollbackFailure"},
                                   {"severity", "critical"},
                                   {"job", "holomush-core"},
                                   {"instance", instance}}))
      << alert.dump(2);
  // The operations guide's words, plus the runbook.
  EXPECT_EQ(alert["annotations"],
            (json{{"summary", "Alias database-cache inconsistency detected"},
                  {"description", "A rollback failure has left aliases in an inconsistent state."},
                  {"runbook_url", kRunbook}}))
      << alert.dump(2);
  EXPECT_NE(alert.value("generatorURL", "").find("holomush_alias_rollback_failures_total"),
            std::string::npos)
      << alert.dump(2);
  EXPECT_EQ(webhook.Requests().front(), "POST /alerts");
}

}  // namespace
}  // namespace holomush::testing
