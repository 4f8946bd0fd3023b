// RunOperator: settings, logging, metrics, the ops port, the controller and leader election.
#include "holomush/operator/operator.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "holomush/common/config.hpp"
#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/common/ops_server.hpp"
#include "holomush/common/shutdown.hpp"
#include "holomush/common/version.hpp"
#include "holomush/operator/controller.hpp"
#include "holomush/operator/embedded_rules.hpp"
#include "holomush/operator/kube_client.hpp"
#include "holomush/operator/leader_election.hpp"
#include "holomush/operator/metrics.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {
namespace {

using common::ConfigError;
using common::SettingKind;
using common::SettingSpec;

std::vector<SettingSpec> Specs() {
  return {
      {.name = "ops-addr",
       .kind = SettingKind::kAddress,
       .default_value = "0.0.0.0:8081",
       .help = "ops HTTP: /healthz, /readyz, /metrics"},
      {.name = "kubeconfig",
       .help = "kubeconfig file; empty: in-cluster service account",
       .env = "KUBECONFIG"},
      {.name = "namespace", .help = "watch only this namespace; empty: all namespaces"},
      {.name = "leader-elect",
       .kind = SettingKind::kBool,
       .default_value = "true",
       .help = "elect a leader on a Lease (run more than one replica safely)"},
      {.name = "lease-namespace", .help = "namespace of the Lease; empty: the operator's own"},
      {.name = "lease-name", .default_value = "holomush-operator", .help = "name of the Lease"},
      {.name = "identity", .help = "this replica's name in the Lease; empty: hostname_pid"},
      {.name = "workers",
       .kind = SettingKind::kInt,
       .default_value = "2",
       .help = "concurrent reconciles",
       .min = 1,
       .max = 32},
      {.name = "alert-rules", .help = "rules file for the PrometheusRule; empty: built in"},
      {.name = "discovery-interval",
       .kind = SettingKind::kDuration,
       .default_value = "30s",
       .help = "how often to look for the monitoring CRDs"},
      {.name = "log-format",
       .kind = SettingKind::kChoice,
       .default_value = "json",
       .choices = {"json", "text"}},
      {.name = "log-level",
       .kind = SettingKind::kChoice,
       .default_value = "info",
       .choices = {"debug", "info", "warn", "error"}},
  };
}

void Usage(std::ostream& out) {
  out << "usage: holomush-operator [--name=value ...]\n"
         "       holomush-operator render -f FILE   (print the children of each HoloMUSH in "
         "FILE)\n\n";
  for (const auto& spec : Specs()) {
    out << "  --" << spec.name << "  " << spec.help;
    if (!spec.default_value.empty()) out << " (default " << spec.default_value << ")";
    out << "\n";
  }
}

std::map<std::string, std::string> ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::set<std::string> known;
  for (const auto& s : Specs()) known.insert(s.name);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw ConfigError("unexpected argument " + arg);
    arg = arg.substr(2);
    std::string value;
    const auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (known.count(arg) && i + 1 < argc) {
      value = argv[++i];
    } else {
      throw ConfigError("flag --" + arg + " needs a value");
    }
    if (!known.count(arg)) throw ConfigError("unknown flag --" + arg + " (see --help)");
    flags[arg] = value;
  }
  return flags;
}

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

int RunOperator(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "render") return RenderCommand(argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--version") {
      std::cout << "holomush-operator " << common::kVersion << "\n";
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      Usage(std::cout);
      return 0;
    }
  }
  common::ShutdownSignal shutdown;
  std::optional<common::Config> config;
  Json rules;
  std::optional<KubeConfig> kube;
  try {
    config = common::Config::Load(Specs(), ParseFlags(argc, argv), common::ProcessEnvironment(),
                                  std::nullopt);
    std::string rules_text = EmbeddedAlertRules();
    if (const std::string& path = config->String("alert-rules"); !path.empty()) {
      std::ifstream in(path);
      if (!in) throw ConfigError("invalid setting alert-rules: cannot read " + path);
      std::stringstream ss;
      ss << in.rdbuf();
      rules_text = ss.str();
    }
    rules = resources::ParseAlertRules(rules_text);
    const std::string& kubeconfig = config->String("kubeconfig");
    auto loaded = kubeconfig.empty() ? InClusterConfig() : LoadKubeConfig(kubeconfig);
    if (!loaded.ok()) throw ConfigError(loaded.error().message);
    kube = loaded.value();
  } catch (const std::exception& e) {
    std::cerr << "holomush-operator: " << e.what() << "\n";
    return 2;
  }
  common::ConfigureLogging(common::ParseLogFormat(config->String("log-format")),
                           common::ParseLogLevel(config->String("log-level")));
  common::Logger log("operator");

  auto registry = std::make_shared<prometheus::Registry>();
  OperatorMetrics metrics(registry);
  auto client = MakeCurlKubeClient(*kube, &metrics);

  std::string identity = config->String("identity");
  if (identity.empty()) identity = Hostname() + "_" + std::to_string(getpid());
  const bool elect = config->Bool("leader-elect");

  // Ready once the caches are synced, leader or warm standby alike; the body says which.
  // Alive while every informer and the leader loop keep beating.
  common::Health health;
  health.Set("caches", false, "not synced yet");
  health.Set("role", true, "standby");

  ControllerOptions options;
  options.health = &health;
  options.watch_namespace = config->String("namespace");
  options.workers = static_cast<int>(config->Int("workers"));
  options.identity = identity;
  options.alert_rules = rules;
  options.discovery_interval = config->Duration("discovery-interval");
  Controller controller(*client, metrics, options, log);

  LeaderElectionOptions le;
  le.ns = config->String("lease-namespace").empty() ? kube->ns : config->String("lease-namespace");
  le.name = config->String("lease-name");
  le.identity = identity;
  // Its own client with requests bounded by the retry period and no waiting out 429s: a
  // renewal that hangs or is throttled is a failed renewal, so the leader stops within the
  // renew deadline plus one attempt (10 s + 2 x 2 s) of its last renewal, before anyone
  // else may take the 15 s lease.
  KubeConfig lease_config = *kube;
  lease_config.request_timeout = le.retry_period;
  lease_config.retry_throttled = false;
  auto lease_client = MakeCurlKubeClient(lease_config, &metrics);
  LeaderElector elector(*lease_client, le, log);

  common::OpsServer ops(config->Address("ops-addr"), health, registry,
                        {.liveness = "/healthz", .readiness = "/readyz"});
  try {
    ops.Start();
  } catch (const std::exception& e) {
    std::cerr << "holomush-operator: " << e.what() << "\n";
    return 2;
  }
  log.Info("starting", {{"version", common::kVersion},
                        {"identity", identity},
                        {"server", kube->server},
                        {"ops_port", ops.port()},
                        {"namespace", options.watch_namespace},
                        {"leader_elect", elect}});

  controller.StartCaches();
  // Reconciling before the caches are complete would re-create children that exist.
  while (!controller.CachesSynced()) {
    if (shutdown.WaitFor(std::chrono::milliseconds(100)) != -1) {
      controller.Stop();
      return 0;
    }
  }
  log.Info("caches synced", {});
  health.Set("caches", true);

  std::atomic<bool> lost{false};
  std::thread election;
  if (elect) {
    // Attempts come every retry period (2 s) and last at most one request (2 s).
    elector.SetHeartbeat(health.AddHeartbeat("leader election", std::chrono::seconds(30)));
    election = std::thread([&] {
      auto stopped = [&](bool clean) {
        health.Set("role", true, "standby");
        metrics.Leader(false);
        if (!clean) {
          lost = true;
          shutdown.Request();
        }
      };
      try {
        elector.Run(
            [&] {
              health.Set("role", true, "leader");
              metrics.Leader(true);
              controller.StartWorkers();
            },
            stopped);
      } catch (const std::exception& e) {
        // Whether we still lead is unknown: behave as a leader that lost the Lease.
        log.Error("leader election failed", {{"error", e.what()}});
        stopped(false);
      }
    });
  } else {
    health.Set("role", true, "leader");
    metrics.Leader(true);
    controller.StartWorkers();
  }

  const int sig = shutdown.Wait();
  log.Info("stopping", {{"signal", sig}});
  if (lost) {
    // Another replica may already lead: stop writing at once, without draining.
    log.Error("exiting: leadership lost", {});
    std::cout.flush();
    std::_Exit(1);
  }
  controller.Stop();  // finish in-flight reconciles before giving up the lease
  elector.Stop();
  if (election.joinable()) election.join();
  ops.Stop();
  log.Info("stopped", {});
  return 0;
}

}  // namespace holomush::op
