#include "holomush/operator/resources.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "holomush/operator/embedded_rules.hpp"

namespace holomush::op::resources {
namespace {

HoloMush Game() {
  auto hm = ParseHoloMush(Json::parse(R"({
    "metadata": {"name": "game", "namespace": "play", "uid": "uid-1", "generation": 1},
    "spec": {"image": "holomush:1", "database": {"existingSecret": {"name": "db", "key": "url"}}}
  })"));
  return hm.value();
}

const Json& Rules() {
  static const Json rules = ParseAlertRules(EmbeddedAlertRules());
  return rules;
}

RenderInput Input(const HoloMush& hm) {
  RenderInput in;
  in.hm = &hm;
  in.tls_files = {{"ca.crt", "CA"},     {"core.crt", "C"},     {"core.key", "CK"},
                  {"gateway.crt", "G"}, {"gateway.key", "GK"}, {"cli.crt", "L"},
                  {"cli.key", "LK"}};
  in.ca_files = {{"ca.crt", "CA"}, {"ca.key", "CAK"}};
  in.tls_hash = "tlshash1";
  in.monitoring_available = true;
  in.alert_rules = &Rules();
  return in;
}

const Json* Find(const std::vector<Json>& objects, const std::string& kind,
                 const std::string& name) {
  for (const Json& o : objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

std::set<std::string> KindNames(const std::vector<Json>& objects) {
  std::set<std::string> out;
  for (const Json& o : objects) {
    out.insert(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  }
  return out;
}

const Json& Container(const Json& workload) {
  return workload["spec"]["template"]["spec"]["containers"][0];
}

TEST(RenderChildrenTest, RendersEveryChildOfADefaultGame) {
  const HoloMush hm = Game();
  const auto objects = RenderChildren(Input(hm));
  EXPECT_EQ(KindNames(objects),
            (std::set<std::string>{
                "Secret/game-ca", "Secret/game-tls", "ConfigMap/game-config", "Service/game-core",
                "Service/game-gateway", "Service/game-gateway-internal", "Deployment/game-core",
                "Deployment/game-gateway", "PodDisruptionBudget/game-core",
                "PodDisruptionBudget/game-gateway", "NetworkPolicy/game-core",
                "NetworkPolicy/game-gateway", "NetworkPolicy/game-backup",
                "PersistentVolumeClaim/game-backup", "CronJob/game-backup",
                "ServiceMonitor/game-core", "ServiceMonitor/game-gateway", "PrometheusRule/game"}));
}

// Players' ports are open to all; core's gRPC only to the gateway and the game's clients;
// the ops ports only to metricsFrom; the managed database only to core and backups.
TEST(NetworkPolicyTest, EachPortOpensOnlyToWhoNeedsIt) {
  HoloMush hm = Game();
  auto rules = [](const std::vector<Json>& objects, const std::string& name) {
    const Json* policy = Find(objects, "NetworkPolicy", name);
    EXPECT_NE(policy, nullptr) << name;
    return policy == nullptr ? Json() : policy->at("spec");
  };
  const Json monitoring =
      Json::array({{{"namespaceSelector",
                     {{"matchLabels", {{"kubernetes.io/metadata.name", "monitoring"}}}}}}});
  auto ports = [](const Json& rule) {
    std::set<std::string> out;
    for (const Json& p : rule["ports"]) out.insert(p["port"].get<std::string>());
    return out;
  };

  const auto objects = RenderChildren(Input(hm));
  const Json core = rules(objects, "game-core");
  EXPECT_EQ(core["podSelector"]["matchLabels"], SelectorLabels(hm, "core"));
  EXPECT_EQ(core["policyTypes"], Json::array({"Ingress"}));
  ASSERT_EQ(core["ingress"].size(), 2u);
  EXPECT_EQ(ports(core["ingress"][0]), (std::set<std::string>{"grpc"}));
  EXPECT_EQ(core["ingress"][0]["from"],
            Json::array({{{"podSelector", {{"matchLabels", SelectorLabels(hm, "gateway")}}}},
                         {{"podSelector", {{"matchLabels", {{kClientLabel, "game"}}}}}}}));
  EXPECT_EQ(ports(core["ingress"][1]), (std::set<std::string>{"ops"}));
  EXPECT_EQ(core["ingress"][1]["from"], monitoring);

  const Json gateway = rules(objects, "game-gateway");
  EXPECT_EQ(gateway["podSelector"]["matchLabels"], SelectorLabels(hm, "gateway"));
  ASSERT_EQ(gateway["ingress"].size(), 3u);
  EXPECT_EQ(ports(gateway["ingress"][0]), (std::set<std::string>{"telnet", "web"}));
  EXPECT_FALSE(gateway["ingress"][0].contains("from"));  // anyone
  EXPECT_EQ(ports(gateway["ingress"][1]), (std::set<std::string>{"control"}));
  EXPECT_EQ(gateway["ingress"][1]["from"],
            Json::array({{{"podSelector", {{"matchLabels", {{kClientLabel, "game"}}}}}}}));
  EXPECT_EQ(gateway["ingress"][2]["from"], monitoring);
  EXPECT_EQ(Find(objects, "NetworkPolicy", "game-postgres"), nullptr);  // no managed database
  const Json backup = rules(objects, "game-backup");
  EXPECT_EQ(backup["podSelector"]["matchLabels"], SelectorLabels(hm, "backup"));
  EXPECT_EQ(backup["ingress"], Json::array());  // nothing may connect to a backup Pod

  hm.spec.database.existing_secret.reset();
  hm.spec.database.managed = true;
  hm.spec.network_policy.metrics_from =
      Json::array({{{"podSelector", {{"matchLabels", {{"app", "prometheus"}}}}}}});
  const auto managed = RenderChildren(Input(hm));
  const Json postgres = rules(managed, "game-postgres");
  EXPECT_EQ(postgres["podSelector"]["matchLabels"], SelectorLabels(hm, "database"));
  ASSERT_EQ(postgres["ingress"].size(), 1u);
  EXPECT_EQ(ports(postgres["ingress"][0]), (std::set<std::string>{"postgres"}));
  EXPECT_EQ(postgres["ingress"][0]["from"],
            Json::array({{{"podSelector", {{"matchLabels", SelectorLabels(hm, "core")}}}},
                         {{"podSelector", {{"matchLabels", SelectorLabels(hm, "backup")}}}}}));
  EXPECT_EQ(rules(managed, "game-core")["ingress"][1]["from"], hm.spec.network_policy.metrics_from);

  hm.spec.network_policy.enabled = false;
  for (const Json& o : RenderChildren(Input(hm))) EXPECT_NE(o["kind"], "NetworkPolicy");
}

TEST(RenderChildrenTest, EveryChildIsOwnedLabelledAndHashed) {
  HoloMush hm = Game();
  hm.spec.deletion_policy = deletion_policies::kDelete;  // data owned too
  for (const Json& o : RenderChildren(Input(hm))) {
    SCOPED_TRACE(o["kind"].get<std::string>());
    const Json& meta = o["metadata"];
    EXPECT_EQ(meta["namespace"], "play");
    ASSERT_EQ(meta["ownerReferences"].size(), 1u);
    EXPECT_EQ(meta["ownerReferences"][0]["uid"], "uid-1");
    EXPECT_EQ(meta["ownerReferences"][0]["kind"], "HoloMUSH");
    EXPECT_EQ(meta["ownerReferences"][0]["controller"], true);
    EXPECT_EQ(meta["labels"][kManagedByLabel], kManagedBy);
    EXPECT_EQ(meta["labels"][kInstanceLabel], "game");
    Json without = o;
    without["metadata"]["annotations"].erase(kAppliedHashAnnotation);
    if (without["metadata"]["annotations"].empty()) without["metadata"].erase("annotations");
    EXPECT_EQ(meta["annotations"][kAppliedHashAnnotation], Hash(without));
  }
}

TEST(RenderChildrenTest, DataOutlivesTheGameUnlessTheSpecSaysDelete) {
  HoloMush hm = Game();
  hm.spec.database.existing_secret.reset();
  hm.spec.database.managed = true;
  auto owned = [](const Json* o) { return o->at("metadata").contains("ownerReferences"); };
  auto claim_policy = [](const std::vector<Json>& objects) {
    return Find(objects, "StatefulSet", "game-postgres")
        ->at("spec")["persistentVolumeClaimRetentionPolicy"]["whenDeleted"];
  };
  auto retained = RenderChildren(Input(hm));
  EXPECT_FALSE(owned(Find(retained, "Secret", "game-postgres")));
  EXPECT_FALSE(owned(Find(retained, "PersistentVolumeClaim", "game-backup")));
  EXPECT_EQ(claim_policy(retained), "Retain");
  // Everything else still goes with the game.
  EXPECT_TRUE(owned(Find(retained, "StatefulSet", "game-postgres")));
  EXPECT_TRUE(owned(Find(retained, "Secret", "game-tls")));

  hm.spec.deletion_policy = deletion_policies::kDelete;
  auto deleted = RenderChildren(Input(hm));
  EXPECT_TRUE(owned(Find(deleted, "Secret", "game-postgres")));
  EXPECT_TRUE(owned(Find(deleted, "PersistentVolumeClaim", "game-backup")));
  EXPECT_EQ(claim_policy(deleted), "Delete");
}

TEST(RenderChildrenTest, IsDeterministicSoSteadyStateWritesNothing) {
  const HoloMush hm = Game();
  const auto a = RenderChildren(Input(hm));
  const auto b = RenderChildren(Input(hm));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(RenderChildrenTest, PausedRendersNothing) {
  HoloMush hm = Game();
  hm.spec.paused = true;
  EXPECT_TRUE(RenderChildren(Input(hm)).empty());
}

TEST(RenderChildrenTest, WithoutMonitoringCrdsRendersNoMonitors) {
  const HoloMush hm = Game();
  RenderInput in = Input(hm);
  in.monitoring_available = false;
  const auto objects = RenderChildren(in);
  EXPECT_EQ(Find(objects, "ServiceMonitor", "game-core"), nullptr);
  EXPECT_EQ(Find(objects, "PrometheusRule", "game"), nullptr);
  EXPECT_NE(Find(objects, "Deployment", "game-core"), nullptr);
}

TEST(RenderChildrenTest, TogglesRemoveOptionalChildren) {
  HoloMush hm = Game();
  hm.spec.pod_disruption_budget = false;
  hm.spec.backup.enabled = false;
  hm.spec.monitoring.service_monitors = false;
  const auto names = KindNames(RenderChildren(Input(hm)));
  EXPECT_EQ(names.count("PodDisruptionBudget/game-core"), 0u);
  EXPECT_EQ(names.count("CronJob/game-backup"), 0u);
  EXPECT_EQ(names.count("ServiceMonitor/game-core"), 0u);
  EXPECT_EQ(names.count("PrometheusRule/game"), 1u);
}

TEST(CoreDeploymentTest, ProbesTheOpsPortAndMountsTlsAndDatabase) {
  const HoloMush hm = Game();
  const Json d = CoreDeployment(Input(hm), "cfg");
  const Json& c = Container(d);
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz/liveness");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/healthz/readiness");
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/healthz/liveness");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"], "ops");
  EXPECT_EQ(c["ports"][1], (Json{{"name", "ops"}, {"containerPort", 9100}, {"protocol", "TCP"}}));
  EXPECT_EQ(c["ports"][0]["containerPort"], 9000);
  EXPECT_EQ(c["args"][0], "core");
  EXPECT_NE(std::find(c["args"].begin(), c["args"].end(), "--tls-dir=/etc/holomush/tls"),
            c["args"].end());
  EXPECT_EQ(c["env"][0]["valueFrom"]["secretKeyRef"], (Json{{"name", "db"}, {"key", "url"}}));
  const Json& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"][0]["secret"]["secretName"], "game-tls");
  EXPECT_EQ(pod["initContainers"][0]["args"], (Json{"migrate", "up", "--wait=5m"}));
  EXPECT_EQ(d["spec"]["template"]["metadata"]["annotations"][kTlsHashAnnotation], "tlshash1");
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"], SelectorLabels(hm, "core"));
}

TEST(GatewayDeploymentTest, DialsTheCoreServiceAndNeverDropsBelowReplicas) {
  HoloMush hm = Game();
  hm.spec.gateway.replicas = 3;
  const Json d = GatewayDeployment(Input(hm), "cfg");
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
  const Json& args = Container(d)["args"];
  EXPECT_NE(std::find(args.begin(), args.end(), "--core-addr=game-core.play.svc:9000"), args.end());
  std::set<int> ports;
  for (const Json& p : Container(d)["ports"]) ports.insert(p["containerPort"].get<int>());
  EXPECT_EQ(ports, (std::set<int>{4201, 8080, 9002, 9101}));
}

// Each Pod gets its own key and the certificates of the callers it checks, never another
// component's key.
TEST(DeploymentTest, EachPodMountsOnlyItsOwnKey) {
  const HoloMush hm = Game();
  auto files = [](const Json& d) {
    std::set<std::string> out;
    const Json& tls = d["spec"]["template"]["spec"]["volumes"][0];
    EXPECT_EQ(tls["name"], "tls");
    for (const Json& item : tls["secret"]["items"]) {
      EXPECT_EQ(item["key"], item["path"]);
      out.insert(item["key"].get<std::string>());
    }
    return out;
  };
  EXPECT_EQ(files(CoreDeployment(Input(hm), "cfg")),
            (std::set<std::string>{"ca.crt", "core.crt", "core.key", "gateway.crt", "cli.crt"}));
  EXPECT_EQ(files(GatewayDeployment(Input(hm), "cfg")),
            (std::set<std::string>{"ca.crt", "gateway.crt", "gateway.key", "cli.crt"}));
}

// What kube-score asks of every workload: requests and a memory limit on every container
// (ours unless the spec gives its own), no service-account token, replicas on different
// nodes where possible.
TEST(DeploymentTest, EveryContainerHasResourcesAndNoPodMountsAToken) {
  HoloMush hm = Game();
  hm.spec.database.existing_secret.reset();
  hm.spec.database.managed = true;
  hm.spec.admin.secret_name = "first-admin";
  const auto objects = RenderChildren(Input(hm));
  int containers = 0;
  for (const Json& o : objects) {
    const std::string kind = o["kind"];
    if (kind != "Deployment" && kind != "StatefulSet" && kind != "CronJob") continue;
    SCOPED_TRACE(kind + "/" + o["metadata"]["name"].get<std::string>());
    const Json& pod = kind == "CronJob" ? o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
                                        : o["spec"]["template"]["spec"];
    EXPECT_EQ(pod["automountServiceAccountToken"], false);
    for (const char* list : {"containers", "initContainers"}) {
      if (!pod.contains(list)) continue;
      for (const Json& c : pod[list]) {
        ++containers;
        SCOPED_TRACE(c["name"].get<std::string>());
        EXPECT_TRUE(c["resources"]["requests"].contains("cpu"));
        EXPECT_TRUE(c["resources"]["requests"].contains("memory"));
        EXPECT_TRUE(c["resources"]["limits"].contains("memory"));
        EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
      }
    }
  }
  EXPECT_EQ(containers, 6);  // core + migrate + admin, gateway, postgres, backup

  // The spec's own resources win, init containers included.
  hm.spec.core.resources = {{"requests", {{"cpu", "2"}}}};
  const Json core = CoreDeployment(Input(hm), "cfg");
  EXPECT_EQ(Container(core)["resources"], hm.spec.core.resources);
  EXPECT_EQ(core["spec"]["template"]["spec"]["initContainers"][0]["resources"],
            hm.spec.core.resources);
}

TEST(DeploymentTest, ReplicasPreferDifferentNodesUnlessTheSpecSaysWhere) {
  HoloMush hm = Game();
  const Json one = GatewayDeployment(Input(hm), "cfg");
  hm.spec.gateway.replicas = 2;
  const Json two = GatewayDeployment(Input(hm), "cfg");
  const Json& term = two["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
                        ["preferredDuringSchedulingIgnoredDuringExecution"][0];
  EXPECT_EQ(term["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
  EXPECT_EQ(term["podAffinityTerm"]["labelSelector"]["matchLabels"], SelectorLabels(hm, "gateway"));
  // The same at one replica: scaling changes the count, not the Pods.
  EXPECT_EQ(one["spec"]["template"], two["spec"]["template"]);
  hm.spec.gateway.affinity = {{"nodeAffinity", Json::object()}};
  EXPECT_EQ(GatewayDeployment(Input(hm), "cfg")["spec"]["template"]["spec"]["affinity"],
            hm.spec.gateway.affinity);
}

// Readiness and liveness ask different questions; a slow crash recovery has a startup
// budget of its own instead of a restart loop.
TEST(PostgresStatefulSetTest, ProbesDifferAndRecoveryHasAStartupBudget) {
  HoloMush hm = Game();
  hm.spec.database.existing_secret.reset();
  hm.spec.database.managed = true;
  const Json s = PostgresStatefulSet(hm);
  const Json& c = s["spec"]["template"]["spec"]["containers"][0];
  EXPECT_NE(c["livenessProbe"], c["readinessProbe"]);
  EXPECT_EQ(c["livenessProbe"]["tcpSocket"]["port"], "postgres");
  EXPECT_GE(c["startupProbe"]["periodSeconds"].get<int>() *
                c["startupProbe"]["failureThreshold"].get<int>(),
            600);
  std::set<std::string> mounts;
  for (const Json& m : c["volumeMounts"]) mounts.insert(m["mountPath"].get<std::string>());
  EXPECT_EQ(mounts,
            (std::set<std::string>{"/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"}));
}

TEST(GatewayDeploymentTest, UserPodLabelsNeverReplaceOurs) {
  HoloMush hm = Game();
  hm.spec.gateway.pod_labels = {{"team", "a"}, {kInstanceLabel, "evil"}};
  const Json d = GatewayDeployment(Input(hm), "cfg");
  const Json& labels = d["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels["team"], "a");
  EXPECT_EQ(labels[kInstanceLabel], "game");
}

TEST(RenderChildrenTest, CertificateRotationRollsPodsAndNothingElseDoes) {
  const HoloMush hm = Game();
  RenderInput in = Input(hm);
  const auto before = RenderChildren(in);
  in.tls_hash = "tlshash2";
  const auto after = RenderChildren(in);
  EXPECT_NE(*Find(before, "Deployment", "game-core"), *Find(after, "Deployment", "game-core"));
  EXPECT_EQ(*Find(before, "Service", "game-core"), *Find(after, "Service", "game-core"));
}

std::set<std::string> PortNames(const Json& service) {
  std::set<std::string> names;
  for (const Json& p : service["spec"]["ports"]) names.insert(p["name"].get<std::string>());
  return names;
}

TEST(ServiceTest, CarryTheScrapeJobLabel) {
  const HoloMush hm = Game();
  EXPECT_EQ(CoreService(hm)["metadata"]["labels"][kJobLabel], "holomush-core");
  const Json internal = GatewayInternalService(hm);
  EXPECT_EQ(internal["metadata"]["labels"][kJobLabel], "holomush-gateway");
  EXPECT_FALSE(GatewayService(hm)["metadata"]["labels"].contains(kJobLabel));
}

TEST(ServiceTest, PlayersReachOnlyTelnetAndWebSocket) {
  HoloMush hm = Game();
  hm.spec.gateway_service.type = "LoadBalancer";
  const Json gw = GatewayService(hm);
  EXPECT_EQ(gw["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(PortNames(gw), (std::set<std::string>{"telnet", "web"}));
  EXPECT_EQ(gw["spec"]["ports"][0]["port"], 4201);
  // Control and ops stay inside the cluster, whatever the players' Service type.
  const Json internal = GatewayInternalService(hm);
  EXPECT_EQ(internal["metadata"]["name"], "game-gateway-internal");
  EXPECT_EQ(internal["spec"]["type"], "ClusterIP");
  EXPECT_EQ(PortNames(internal), (std::set<std::string>{"control", "ops"}));
  EXPECT_EQ(internal["spec"]["selector"], gw["spec"]["selector"]);
}

TEST(ServiceTest, NodePortsOnlyForExposedTypes) {
  HoloMush hm = Game();
  hm.spec.gateway_service.type = "NodePort";
  hm.spec.gateway_service.telnet_node_port = 30023;
  EXPECT_EQ(GatewayService(hm)["spec"]["ports"][0]["nodePort"], 30023);
  // The players' own addresses reach the gateway (its per-address limits need them).
  EXPECT_EQ(GatewayService(hm)["spec"]["externalTrafficPolicy"], "Local");
  hm.spec.gateway_service.type = "LoadBalancer";
  EXPECT_EQ(GatewayService(hm)["spec"]["externalTrafficPolicy"], "Local");
  hm.spec.gateway_service.type = "ClusterIP";
  EXPECT_FALSE(GatewayService(hm)["spec"].contains("externalTrafficPolicy"));
  EXPECT_FALSE(GatewayService(hm)["spec"]["ports"][0].contains("nodePort"));
}

TEST(ServiceMonitorTest, UsesTheJobLabelAndOpsPort) {
  HoloMush hm = Game();
  hm.spec.monitoring.labels = {{"release", "kps"}};
  const Json sm = ServiceMonitor(hm, "gateway");
  EXPECT_EQ(sm["spec"]["jobLabel"], "holomush.io/job");
  EXPECT_EQ(sm["spec"]["endpoints"][0]["port"], "ops");
  EXPECT_EQ(sm["spec"]["selector"]["matchLabels"][kComponentLabel], "gateway");
  // It selects the internal Service (which has the ops port), not the players' one.
  const Json& match = sm["spec"]["selector"]["matchLabels"];
  for (const Json& svc : {GatewayInternalService(hm), GatewayService(hm)}) {
    bool selected = true;
    for (auto it = match.begin(); it != match.end(); ++it) {
      selected = selected && svc["metadata"]["labels"].value(it.key(), "") == *it;
    }
    EXPECT_EQ(selected, svc["metadata"]["name"] == "game-gateway-internal") << svc["metadata"];
  }
  EXPECT_EQ(sm["metadata"]["labels"]["release"], "kps");
}

std::vector<std::string> AlertNames(const Json& rule) {
  std::vector<std::string> names;
  for (const Json& g : rule["spec"]["groups"]) {
    for (const Json& r : g["rules"]) names.push_back(r.value("alert", ""));
  }
  return names;
}

TEST(PrometheusRuleTest, ShipsTheGameAlertsWithAliasRollbackFailureAsTheGuideWritesIt) {
  const HoloMush hm = Game();
  const Json rule = PrometheusRule(hm, Rules());
  bool found = false;
  for (const Json& g : rule["spec"]["groups"]) {
    EXPECT_NE(g["name"], kOperatorRuleGroup);
    for (const Json& r : g["rules"]) {
      if (r.value("alert", "") != "AliasRollbackFailure") continue;
      found = true;
      EXPECT_NE(r["expr"].get<std::string>().find(
                    "increase(holomush_alias_rollback_failures_total[5m]) > 0"),
                std::string::npos);
      EXPECT_EQ(r["labels"]["severity"], "critical");
    }
  }
  EXPECT_TRUE(found);
}

TEST(PrometheusRuleTest, DropsDisabledAlertsAndRewritesRunbookUrls) {
  HoloMush hm = Game();
  hm.spec.monitoring.disabled_alerts = {"CoreDown"};
  hm.spec.monitoring.runbook_base_url = "https://runbooks.example/";
  const Json rule = PrometheusRule(hm, Rules());
  const auto names = AlertNames(rule);
  EXPECT_EQ(std::count(names.begin(), names.end(), "CoreDown"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "GatewayDown"), 1);
  for (const Json& g : rule["spec"]["groups"]) {
    for (const Json& r : g["rules"]) {
      if (r.value("alert", "") == "GatewayDown") {
        EXPECT_EQ(r["annotations"]["runbook_url"], "https://runbooks.example/GatewayDown.md");
      }
    }
  }
}

TEST(BackupTest, CronJobRunsHolomushBackupOnTheClaim) {
  const HoloMush hm = Game();
  const Json cj = BackupCronJob(hm);
  EXPECT_EQ(cj["spec"]["concurrencyPolicy"], "Forbid");
  EXPECT_EQ(cj["spec"]["schedule"], "0 3 * * *");
  const Json& pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  EXPECT_EQ(pod["containers"][0]["args"],
            (Json{"backup", "run", "--dir=/backups", "--status-file=/dev/termination-log"}));
  EXPECT_EQ(pod["containers"][0]["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_EQ(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "game-backup");
  EXPECT_EQ(cj["spec"]["jobTemplate"]["metadata"]["labels"][kManagedByLabel], kManagedBy);
  // Retention as `holomush backup run` reads it from its environment (the binary's side:
  // BackupFileTest.EveryRunSettingComesFromTheEnvironmentAsTheCronJobSetsIt).
  std::map<std::string, Json> env;
  for (const Json& e : pod["containers"][0]["env"]) env[e["name"]] = e;
  EXPECT_EQ(env["HOLOMUSH_BACKUP_KEEP_LAST"]["value"], "7");
  EXPECT_EQ(env["HOLOMUSH_BACKUP_MAX_AGE"]["value"], "720h");  // 30 days
  EXPECT_EQ(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"],
            (Json{{"name", "db"}, {"key", "url"}}));
  // A missed start is dropped after 10 minutes, a run is cut at an hour, finished Jobs stay
  // a week (the operator reads their outcome), three of each kind are kept.
  EXPECT_EQ(cj["spec"]["startingDeadlineSeconds"], 600);
  EXPECT_EQ(cj["spec"]["successfulJobsHistoryLimit"], 3);
  EXPECT_EQ(cj["spec"]["failedJobsHistoryLimit"], 3);
  const Json& job = cj["spec"]["jobTemplate"]["spec"];
  EXPECT_EQ(job["activeDeadlineSeconds"], 3600);
  EXPECT_EQ(job["ttlSecondsAfterFinished"], 7 * 24 * 3600);
  EXPECT_EQ(job["backoffLimit"], 2);
}

TEST(BackupTest, RetentionFollowsTheSpec) {
  HoloMush hm = Game();
  hm.spec.backup.keep_last = 2;
  hm.spec.backup.max_age_days = 3;
  const Json cj = BackupCronJob(hm);
  std::map<std::string, Json> env;
  for (const Json& e :
       cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"])
    env[e["name"]] = e;
  EXPECT_EQ(env["HOLOMUSH_BACKUP_KEEP_LAST"]["value"], "2");
  EXPECT_EQ(env["HOLOMUSH_BACKUP_MAX_AGE"]["value"], "72h");
}

TEST(BackupTest, ExistingClaimReplacesTheOperatorsClaim) {
  HoloMush hm = Game();
  hm.spec.backup.existing_claim = "mine";
  const auto objects = RenderChildren(Input(hm));
  EXPECT_EQ(Find(objects, "PersistentVolumeClaim", "game-backup"), nullptr);
  const Json* cj = Find(objects, "CronJob", "game-backup");
  ASSERT_NE(cj, nullptr);
  EXPECT_EQ((*cj)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]
                 ["persistentVolumeClaim"]["claimName"],
            "mine");
}

TEST(ManagedDatabaseTest, RendersPostgresAndPointsCoreAtIt) {
  auto parsed = ParseHoloMush(Json::parse(R"({
    "metadata": {"name": "trial", "namespace": "t", "uid": "u"},
    "spec": {"image": "holomush:1", "database": {"managed": {}}}})"));
  ASSERT_TRUE(parsed.ok());
  RenderInput in = Input(parsed.value());
  in.postgres_password = "s3cret";
  const auto objects = RenderChildren(in);
  const Json* secret = Find(objects, "Secret", "trial-postgres");
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(Base64Decode((*secret)["data"]["DATABASE_URL"]),
            "postgres://holomush:s3cret@trial-postgres.t.svc:5432/holomush?sslmode=disable");
  EXPECT_NE(Find(objects, "StatefulSet", "trial-postgres"), nullptr);
  const Json* core = Find(objects, "Deployment", "trial-core");
  EXPECT_EQ(Container(*core)["env"][0]["valueFrom"]["secretKeyRef"],
            (Json{{"name", "trial-postgres"}, {"key", "DATABASE_URL"}}));
}

TEST(TlsTest, EachServerCertificateNamesItsOwnServicesOnly) {
  auto sans = CertificateSans(Game());
  ASSERT_EQ(sans.size(), 2u);
  const auto& core = sans["core"];
  const auto& gateway = sans["gateway"];
  for (const char* want :
       {"game-core", "game-core.play", "game-core.play.svc", "game-core.play.svc.cluster.local"}) {
    EXPECT_NE(std::find(core.begin(), core.end(), want), core.end()) << want;
    EXPECT_EQ(std::find(gateway.begin(), gateway.end(), want), gateway.end()) << want;
  }
  for (const char* want : {"game-gateway.play.svc", "game-gateway.play.svc.cluster.local",
                           "game-gateway-internal.play.svc"}) {
    EXPECT_NE(std::find(gateway.begin(), gateway.end(), want), gateway.end()) << want;
    EXPECT_EQ(std::find(core.begin(), core.end(), want), core.end()) << want;
  }
}

// What Pod Security `restricted` checks, on every pod template the operator renders (the
// managed database's included): the node test runs them in a namespace that enforces it.
TEST(CoreDeploymentTest, TheFirstAdminComesFromTheUsersSecretBeforeCoreStarts) {
  HoloMush hm = Game();
  EXPECT_EQ(CoreDeployment(Input(hm), "cfg")["spec"]["template"]["spec"]["initContainers"].size(),
            1u);
  hm.spec.admin.secret_name = "game-admin";
  const Json inits = CoreDeployment(Input(hm), "cfg")["spec"]["template"]["spec"]["initContainers"];
  ASSERT_EQ(inits.size(), 2u);
  EXPECT_EQ(inits[0]["name"], "migrate");  // the accounts table exists first
  const Json& admin = inits[1];
  EXPECT_EQ(admin["args"], (Json{"admin", "create", "$(HOLOMUSH_ADMIN_NAME)"}));
  std::map<std::string, Json> env;
  for (const Json& e : admin["env"]) env[e["name"]] = e;
  EXPECT_EQ(env["HOLOMUSH_ADMIN_NAME"]["valueFrom"]["secretKeyRef"],
            (Json{{"name", "game-admin"}, {"key", "username"}}));
  EXPECT_EQ(env["HOLOMUSH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"],
            (Json{{"name", "game-admin"}, {"key", "password"}}));
  EXPECT_EQ(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"],
            (Json{{"name", "db"}, {"key", "url"}}));
  EXPECT_EQ(admin["args"].dump().find("promote"), std::string::npos)
      << "a player who took the name first must never be promoted";
}

TEST(RenderChildrenTest, EveryPodTemplateMeetsPodSecurityRestricted) {
  HoloMush hm = Game();
  hm.spec.admin.secret_name = "game-admin";
  hm.spec.database.managed = true;
  hm.spec.database.existing_secret.reset();
  int templates = 0;
  for (const Json& o : RenderChildren(Input(hm))) {
    const std::string kind = o["kind"];
    Json pod;
    if (kind == "Deployment" || kind == "StatefulSet") pod = o["spec"]["template"]["spec"];
    if (kind == "CronJob") pod = o["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    if (pod.is_null()) continue;
    ++templates;
    SCOPED_TRACE(kind + " " + o["metadata"]["name"].get<std::string>());
    const Json pod_sc = pod.value("securityContext", Json::object());
    std::vector<Json> containers = pod["containers"];
    for (const Json& c : pod.value("initContainers", Json::array())) containers.push_back(c);
    for (const Json& c : containers) {
      SCOPED_TRACE(c["name"].get<std::string>());
      const Json sc = c.value("securityContext", Json::object());
      EXPECT_TRUE(sc.value("runAsNonRoot", pod_sc.value("runAsNonRoot", false)));
      EXPECT_EQ(sc.value("allowPrivilegeEscalation", true), false);
      EXPECT_EQ(sc.value("capabilities", Json::object()).value("drop", Json::array()),
                Json::array({"ALL"}));
      const Json seccomp =
          sc.value("seccompProfile", pod_sc.value("seccompProfile", Json::object()));
      EXPECT_EQ(seccomp.value("type", ""), "RuntimeDefault");
      EXPECT_EQ(sc.value("readOnlyRootFilesystem", false), true);
    }
    // Our image's user, 10001 (the managed PostgreSQL runs as its image's postgres, 999).
    const bool postgres = kind == "StatefulSet";
    EXPECT_EQ(pod_sc.value("runAsUser", 0), postgres ? 999 : 10001);
    EXPECT_EQ(pod_sc.value("runAsGroup", 0), postgres ? 999 : 10001);
    EXPECT_EQ(pod_sc.value("fsGroup", 0), postgres ? 999 : 10001);
  }
  EXPECT_EQ(templates, 4);  // core, gateway, postgres, backup
}

// The Pods carry the hash of the ConfigMap they mount: a change to what it holds is a new
// template, so the Deployments roll.
TEST(RenderChildrenTest, BothDeploymentsCarryTheHashOfTheConfigMap) {
  const HoloMush hm = Game();
  const auto children = RenderChildren(Input(hm));
  const Json* config = Find(children, "ConfigMap", "game-config");
  ASSERT_NE(config, nullptr);
  const std::string expected = Hash((*config)["data"]).substr(0, 16);
  for (const char* name : {"game-core", "game-gateway"}) {
    const Json* d = Find(children, "Deployment", name);
    ASSERT_NE(d, nullptr) << name;
    EXPECT_EQ((*d)["spec"]["template"]["metadata"]["annotations"][kConfigHashAnnotation], expected)
        << name;
  }
  Json changed = (*config)["data"];
  changed["core.yaml"] = changed["core.yaml"].get<std::string>() + "# changed\n";
  EXPECT_NE(Hash(changed).substr(0, 16), expected);
}

TEST(TlsTest, SecretHoldsEveryFileBase64) {
  const HoloMush hm = Game();
  const Json s = TlsSecret(hm, Input(hm).tls_files);
  EXPECT_EQ(s["data"].size(), 7u);
  EXPECT_EQ(Base64Decode(s["data"]["core.key"]), "CK");
}

TEST(TlsTest, TheCaKeyIsInItsOwnSecretThatNoPodMounts) {
  const HoloMush hm = Game();
  const auto objects = RenderChildren(Input(hm));
  const Json* ca = Find(objects, "Secret", "game-ca");
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(Base64Decode((*ca)["data"]["ca.key"]), "CAK");
  EXPECT_FALSE(Find(objects, "Secret", "game-tls")->at("data").contains("ca.key"));
  for (const Json& o : objects) {
    EXPECT_EQ(o.dump().find("\"secretName\":\"game-ca\""), std::string::npos)
        << o["kind"] << " " << o["metadata"]["name"] << " mounts the CA";
  }
}

TEST(CoversTest, IgnoresServerAddedFieldsButNotChangedOnes) {
  const Json want = {
      {"spec", {{"replicas", 2}, {"ports", {{{"port", 1}}}}, {"sel", Json::object()}}}};
  Json live = {{"spec", {{"replicas", 2}, {"ports", {{{"port", 1}, {"protocol", "TCP"}}}}}},
               {"status", {}}};
  EXPECT_TRUE(Covers(live, want));
  live["spec"]["replicas"] = 3;
  EXPECT_FALSE(Covers(live, want));
  live["spec"]["replicas"] = 2;
  live["spec"]["ports"].push_back({{"port", 2}});
  EXPECT_FALSE(Covers(live, want));
  EXPECT_TRUE(Covers(Json{{"cpu", "1"}}, Json{{"cpu", 1}}));
}

TEST(BackupMaxAgeTest, ToleratesOneMissedRunWhereverItFalls) {
  constexpr int64_t kDay = 86400;
  EXPECT_EQ(BackupMaxAgeSeconds("0 3 * * *"), 2 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("@daily"), 2 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("@midnight"), 2 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("@hourly"), 2 * 3600);
  EXPECT_EQ(BackupMaxAgeSeconds("0 * * * *"), 2 * 3600);
  EXPECT_EQ(BackupMaxAgeSeconds("15 */6 * * *"), 12 * 3600);
  EXPECT_EQ(BackupMaxAgeSeconds("*/10 * * * *"), 20 * 60);
  EXPECT_EQ(BackupMaxAgeSeconds("@weekly"), 14 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("0 0 * * SUN"), 14 * kDay);
  // Weekdays only: Thursday's run to Monday's spans four days, so a weekend never looks
  // like a missed backup (twice "daily" would be two days, and fire every Sunday).
  EXPECT_EQ(BackupMaxAgeSeconds("0 3 * * 1-5"), 4 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("0 3 * * mon-fri"), 4 * kDay);
  // Uneven runs: the longest two intervals in a row count (07:00 to the next day's 06:00).
  EXPECT_EQ(BackupMaxAgeSeconds("0 2,6,7 * * *"), 23 * 3600);
  // Monthly: the longest two months in a row (July and August, or December and January).
  EXPECT_EQ(BackupMaxAgeSeconds("@monthly"), 62 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("@yearly"), (365 + 366) * kDay);
  // Day of month and day of week both set: either matches (the 1st, and every Monday).
  EXPECT_LE(BackupMaxAgeSeconds("0 0 1 * 1"), 14 * kDay);
  // Unreadable, or never runs: two days.
  EXPECT_EQ(BackupMaxAgeSeconds("soon"), 2 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("0 0 30 2 *"), 2 * kDay);
  EXPECT_EQ(BackupMaxAgeSeconds("61 * * * *"), 2 * kDay);
}

TEST(Base64Test, RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x01\xff"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(s)), s);
  }
}

}  // namespace
}  // namespace holomush::op::resources
