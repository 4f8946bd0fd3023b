// The operator against the real control plane: what users see in the API server.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "kube_env.hpp"
#include "operator_process.hpp"
#include "support/threads.hpp"

namespace holomush::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr seconds kDeadline{60};
const std::string kCrd =
    std::string(HOLOMUSH_SOURCE_ROOT) + "/k8s-operator/config/crd/holomush.io_holomushes.yaml";

std::string Game(const std::string& name, const std::string& extra_spec = "") {
  return "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata:\n  name: " + name +
         "\nspec:\n  image: holomush:test\n  database:\n    existingSecret:\n      name: db\n" +
         extra_spec;
}

std::optional<json> GetJson(const std::string& ns, const std::string& what) {
  const CommandResult r = Kubectl({"get", "-n", ns, what, "-o", "json"});
  if (!r.Ok()) return std::nullopt;
  return json::parse(r.out);
}

// The value at `keys` in `j`, or null when any step is missing (never throws).
json At(const json& j, std::initializer_list<const char*> keys) {
  const json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return nullptr;
    cur = &(*cur)[k];
  }
  return *cur;
}

// matchLabels as the "k=v,k=v" a `kubectl get -l` takes.
std::string LabelSelector(const json& match_labels) {
  std::string text;
  for (const auto& [key, value] : match_labels.items()) {
    text += (text.empty() ? "" : ",") + key + "=" + value.get<std::string>();
  }
  return text;
}

std::string Condition(const json& hm, const std::string& type, const std::string& field) {
  const json conditions = At(hm, {"status", "conditions"});
  if (!conditions.is_array()) return "";
  for (const json& c : conditions) {
    if (c.value("type", "") == type) return c.value(field, "");
  }
  return "";
}

class OperatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const CommandResult applied = Kubectl({"apply", "--server-side", "-f", kCrd});
    ASSERT_TRUE(applied.Ok()) << applied.err;
    const CommandResult established = Kubectl(
        {"wait", "--for=condition=Established", "crd/holomushes.holomush.io", "--timeout=60s"});
    ASSERT_TRUE(established.Ok()) << established.err;
  }

  std::vector<std::string> OperatorArgs(const std::string& kubeconfig = "") const {
    return {"--kubeconfig=" + (kubeconfig.empty() ? Kube().kubeconfig : kubeconfig),
            "--namespace=" + ns_.Name(), "--lease-namespace=" + ns_.Name(),
            "--discovery-interval=1s"};
  }

  std::unique_ptr<OperatorProcess> StartOperator(std::vector<std::string> extra = {},
                                                 const std::string& kubeconfig = "") {
    auto args = OperatorArgs(kubeconfig);
    args.insert(args.end(), extra.begin(), extra.end());
    auto op = std::make_unique<OperatorProcess>(args);
    EXPECT_TRUE(WaitFor([&] { return op->Get("/readyz").first == 200; }, kDeadline)) << op->Log();
    return op;
  }

  void Apply(const std::string& manifest) {
    const CommandResult r = Kubectl({"apply", "-n", ns_.Name(), "-f", "-"}, manifest);
    ASSERT_TRUE(r.Ok()) << r.err;
  }

  bool Exists(const std::string& what) { return GetJson(ns_.Name(), what).has_value(); }

  // Marks every Pod in the namespace Running and Ready through the status subresource (no
  // kubelet here); the ReplicaSet and Deployment controllers do the rest.
  void MarkPodsReady() {
    auto pods = GetJson(ns_.Name(), "pods");
    ASSERT_TRUE(pods);
    for (const json& pod : (*pods)["items"]) {
      const CommandResult r = Kubectl(
          {"patch", "-n", ns_.Name(), "pod", pod["metadata"]["name"].get<std::string>(),
           "--subresource=status", "--type=merge", "-p",
           R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})"});
      // A rollout may have removed the Pod since the list.
      ASSERT_TRUE(r.Ok() || r.err.find("NotFound") != std::string::npos) << r.err;
    }
  }

  bool HasReadyCondition(const std::string& name, const std::string& status) {
    auto hm = GetJson(ns_.Name(), "holomush/" + name);
    return hm && Condition(*hm, "Ready", "status") == status;
  }

  // Pods of both Deployments exist, are marked ready and the HoloMUSH says Ready=True.
  void WaitReady(const std::string& name) {
    ASSERT_TRUE(WaitFor(
        [&] {
          auto pods = GetJson(ns_.Name(), "pods");
          return pods && (*pods)["items"].size() >= 2;
        },
        kDeadline));
    ASSERT_TRUE(WaitFor(
        [&] {
          MarkPodsReady();
          return HasReadyCondition(name, "True");
        },
        kDeadline));
  }

  ScopedNamespace ns_{"operator"};
};

TEST_F(OperatorTest, CreatesEveryChildWithProbesAndOwnerReferences) {
  auto op = StartOperator();
  Apply(Game("game"));
  const std::vector<std::string> children = {"deployment/game-core",
                                             "deployment/game-gateway",
                                             "service/game-core",
                                             "service/game-gateway",
                                             "service/game-gateway-internal",
                                             "secret/game-tls",
                                             "configmap/game-config",
                                             "pdb/game-core",
                                             "pdb/game-gateway",
                                             "cronjob/game-backup",
                                             "pvc/game-backup",
                                             "servicemonitor/game-core",
                                             "servicemonitor/game-gateway",
                                             "prometheusrule/game"};
  for (const auto& child : children) {
    EXPECT_TRUE(WaitFor([&] { return Exists(child); }, kDeadline)) << child << "\n" << op->Log();
  }
  auto hm = GetJson(ns_.Name(), "holomush/game");
  ASSERT_TRUE(hm);
  const std::string uid = (*hm)["metadata"]["uid"];
  for (const auto& child : children) {
    auto object = GetJson(ns_.Name(), child);
    ASSERT_TRUE(object) << child;
    if (child == "pvc/game-backup") {
      // Data outlives the game (spec.deletionPolicy defaults to Retain): not owned.
      EXPECT_FALSE((*object)["metadata"].contains("ownerReferences")) << (*object)["metadata"];
      continue;
    }
    const json& refs = (*object)["metadata"]["ownerReferences"];
    ASSERT_EQ(refs.size(), 1u) << child;
    EXPECT_EQ(refs[0]["uid"], uid) << child;
    EXPECT_EQ(refs[0]["controller"], true) << child;
    EXPECT_EQ((*object)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "holomush-operator")
        << child;
  }

  auto core = GetJson(ns_.Name(), "deployment/game-core");
  const json& c = (*core)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz/liveness");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/healthz/readiness");
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/healthz/liveness");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"], "ops");
  EXPECT_EQ(c["env"][0]["valueFrom"]["secretKeyRef"]["name"], "db");

  auto svc = GetJson(ns_.Name(), "service/game-gateway-internal");
  ASSERT_TRUE(svc);
  EXPECT_EQ((*svc)["metadata"]["labels"]["holomush.io/job"], "holomush-gateway");
  auto sm = GetJson(ns_.Name(), "servicemonitor/game-core");
  EXPECT_EQ((*sm)["spec"]["jobLabel"], "holomush.io/job");

  // Core's certificate names core's Service, and not the gateway's.
  auto secret = GetJson(ns_.Name(), "secret/game-tls");
  ASSERT_TRUE(secret);
  const CommandResult decoded =
      RunCommand({"base64", "-d"}, (*secret)["data"]["core.crt"].get<std::string>());
  const CommandResult sans =
      RunCommand({"openssl", "x509", "-noout", "-ext", "subjectAltName"}, decoded.out);
  EXPECT_NE(sans.out.find("game-core." + ns_.Name() + ".svc"), std::string::npos) << sans.out;
  EXPECT_EQ(sans.out.find("game-gateway"), std::string::npos) << sans.out;

  // Status: the generation is observed; Ready once the Pods are.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h &&
               At(*h, {"status", "observedGeneration"}) == At(*h, {"metadata", "generation"}) &&
               At(*h, {"status", "phase"}) == "Progressing";
      },
      kDeadline));
  WaitReady("game");
  hm = GetJson(ns_.Name(), "holomush/game");
  EXPECT_EQ(At(*hm, {"status", "phase"}), "Ready");
  EXPECT_EQ(At(*hm, {"status", "core", "ready"}), "1/1");
  EXPECT_EQ(Condition(*hm, "Degraded", "status"), "False");
  EXPECT_EQ(Condition(*hm, "MonitoringAvailable", "status"), "True");
  EXPECT_EQ(Condition(*hm, "BackupHealthy", "reason"), "NoBackupYet");
  EXPECT_EQ(At(*hm, {"status", "endpoints", "telnet"}), "game-gateway." + ns_.Name() + ".svc:4201");
  EXPECT_TRUE(At(*hm, {"status", "tls", "notAfter"}).is_string());

  // What `kubectl get holomush` shows: the CRD's printer columns over that status.
  const CommandResult table = Kubectl({"get", "-n", ns_.Name(), "holomush", "game"});
  ASSERT_TRUE(table.Ok()) << table.err;
  std::istringstream rows(table.out);
  std::string header;
  std::string row;
  std::getline(rows, header);
  std::getline(rows, row);
  // Cells by the header's column offsets (an empty one prints as blanks).
  const std::vector<std::string> titles = {"NAME",    "READY",       "PHASE", "CORE",
                                           "GATEWAY", "LAST BACKUP", "AGE"};
  std::vector<size_t> starts;
  for (const auto& title : titles) starts.push_back(header.find(title));
  ASSERT_EQ(std::count(starts.begin(), starts.end(), std::string::npos), 0) << table.out;
  ASSERT_TRUE(std::is_sorted(starts.begin(), starts.end())) << table.out;
  std::vector<std::string> cells;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : row.size();
    std::string cell = starts[i] < row.size() ? row.substr(starts[i], end - starts[i]) : "";
    cell.erase(cell.find_last_not_of(' ') + 1);
    cells.push_back(cell);
  }
  EXPECT_EQ(cells[0], "game");
  EXPECT_EQ(cells[1], "True");
  EXPECT_EQ(cells[2], "Ready");
  EXPECT_EQ(cells[3], "1/1");
  EXPECT_EQ(cells[4], At(*hm, {"status", "gateway", "ready"}).get<std::string>());
  EXPECT_EQ(cells[5], "") << "no backup yet";
  EXPECT_FALSE(cells[6].empty()) << table.out;
}

// The NetworkPolicies the API server accepted select exactly the Pods they are for: each
// selector, run through `kubectl get pods -l`, finds the game's Pods of that kind.
TEST_F(OperatorTest, NetworkPoliciesSelectTheGamesOwnPods) {
  auto op = StartOperator();
  Apply(Game("game"));
  Apply(Game("other"));  // a second game in the namespace: its Pods must never match
  ASSERT_TRUE(WaitFor(
      [&] {
        auto pods = GetJson(ns_.Name(), "pods");
        return pods && (*pods)["items"].size() >= 4 && Exists("networkpolicy/game-gateway");
      },
      kDeadline))
      << op->Log();
  // A client of the game's: the label is what lets it through.
  Apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: status-client
  labels: {holomush.io/client: game}
spec:
  containers: [{name: cli, image: "holomush:test", args: [status]}]
)");

  auto select = [&](const json& selector) {
    const std::string text = LabelSelector(selector["matchLabels"]);
    const CommandResult r = Kubectl(
        {"get", "pods", "-n", ns_.Name(), "-l", text, "-o", "jsonpath={.items[*].metadata.name}"});
    EXPECT_TRUE(r.Ok()) << r.err;
    std::set<std::string> prefixes;
    std::istringstream names(r.out);
    for (std::string name; names >> name;) {
      prefixes.insert(name.rfind("status-client", 0) == 0 ? name
                                                          : name.substr(0, name.find('-', 5)));
    }
    return prefixes;
  };
  const auto core = GetJson(ns_.Name(), "networkpolicy/game-core");
  ASSERT_TRUE(core);
  EXPECT_EQ(select((*core)["spec"]["podSelector"]), std::set<std::string>{"game-core"});
  const json& grpc_from = (*core)["spec"]["ingress"][0]["from"];
  EXPECT_EQ(select(grpc_from[0]["podSelector"]), std::set<std::string>{"game-gateway"});
  EXPECT_EQ(select(grpc_from[1]["podSelector"]), std::set<std::string>{"status-client"});
  const auto gateway = GetJson(ns_.Name(), "networkpolicy/game-gateway");
  ASSERT_TRUE(gateway);
  EXPECT_EQ(select((*gateway)["spec"]["podSelector"]), std::set<std::string>{"game-gateway"});

  // Turned off, they are removed.
  Apply(Game("game", "  networkPolicy:\n    enabled: false\n"));
  EXPECT_TRUE(WaitFor([&] { return !Exists("networkpolicy/game-core"); }, kDeadline));
  EXPECT_TRUE(Exists("networkpolicy/other-core"));
}

TEST_F(OperatorTest, KubectlScaleSetsTheGatewaysReplicas) {
  auto op = StartOperator();
  Apply(Game("game"));
  WaitReady("game");

  const CommandResult scaled =
      Kubectl({"scale", "-n", ns_.Name(), "holomush/game", "--replicas=3"});
  ASSERT_TRUE(scaled.Ok()) << scaled.err;
  auto hm = GetJson(ns_.Name(), "holomush/game");
  ASSERT_TRUE(hm);
  EXPECT_EQ(At(*hm, {"spec", "gateway", "replicas"}), 3);
  EXPECT_EQ(At(*hm, {"spec", "core", "replicas"}), 1);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto d = GetJson(ns_.Name(), "deployment/game-gateway");
        return d && (*d)["spec"]["replicas"] == 3;
      },
      kDeadline))
      << op->Log();

  // The scale subresource reports the pods there are and a selector that finds them: what
  // an autoscaler reads.
  json scale;
  EXPECT_TRUE(WaitFor(
      [&] {
        MarkPodsReady();
        const CommandResult s = Kubectl(
            {"get", "-n", ns_.Name(), "holomush/game", "--subresource=scale", "-o", "json"});
        if (!s.Ok()) return false;
        scale = json::parse(s.out);
        return At(scale, {"status", "replicas"}) == 3;
      },
      kDeadline))
      << scale.dump();
  const json selector = At(scale, {"status", "selector"});
  ASSERT_TRUE(selector.is_string()) << scale.dump();
  const CommandResult pods =
      Kubectl({"get", "pods", "-n", ns_.Name(), "-l", selector.get<std::string>(), "-o", "name"});
  ASSERT_TRUE(pods.Ok()) << pods.err;
  EXPECT_EQ(std::count(pods.out.begin(), pods.out.end(), '\n'), 3) << pods.out;
  EXPECT_TRUE(WaitFor([&] { return HasReadyCondition("game", "True"); }, kDeadline));
}

TEST_F(OperatorTest, ControlAndMetricsPortsStayInsideTheCluster) {
  // A game whose gateway Service an older operator made with all four ports.
  Apply(Game("game", "  gateway:\n    service:\n      type: NodePort\n"));
  auto hm = GetJson(ns_.Name(), "holomush/game");
  ASSERT_TRUE(hm);
  json old_service = {{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata",
                       {{"name", "game-gateway"},
                        {"labels",
                         {{"app.kubernetes.io/name", "holomush"},
                          {"app.kubernetes.io/instance", "game"},
                          {"app.kubernetes.io/component", "gateway"},
                          {"app.kubernetes.io/managed-by", "holomush-operator"},
                          {"holomush.io/job", "holomush-gateway"}}},
                        {"ownerReferences",
                         {{{"apiVersion", "holomush.io/v1alpha1"},
                           {"kind", "HoloMUSH"},
                           {"name", "game"},
                           {"uid", (*hm)["metadata"]["uid"]},
                           {"controller", true}}}}}},
                      {"spec",
                       {{"type", "NodePort"},
                        {"selector",
                         {{"app.kubernetes.io/name", "holomush"},
                          {"app.kubernetes.io/instance", "game"},
                          {"app.kubernetes.io/component", "gateway"}}},
                        {"ports",
                         {{{"name", "telnet"}, {"port", 4201}, {"targetPort", "telnet"}},
                          {{"name", "web"}, {"port", 8080}, {"targetPort", "web"}},
                          {{"name", "control"}, {"port", 9002}, {"targetPort", "control"}},
                          {{"name", "ops"}, {"port", 9101}, {"targetPort", "ops"}}}}}}};
  const CommandResult made = Kubectl(
      {"apply", "--server-side", "--field-manager=holomush-operator", "-n", ns_.Name(), "-f", "-"},
      old_service.dump());
  ASSERT_TRUE(made.Ok()) << made.err;

  auto op = StartOperator();
  auto port_names = [](const json& service) {
    std::set<std::string> names;
    for (const json& p : service["spec"]["ports"]) names.insert(p["name"].get<std::string>());
    return names;
  };
  // Players' Service: telnet and WebSocket only, its type kept.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = GetJson(ns_.Name(), "service/game-gateway");
        return s && port_names(*s) == std::set<std::string>{"telnet", "web"};
      },
      kDeadline))
      << GetJson(ns_.Name(), "service/game-gateway")->dump() << op->Log();
  EXPECT_EQ((*GetJson(ns_.Name(), "service/game-gateway"))["spec"]["type"], "NodePort");
  // Control and ops: a ClusterIP Service of their own.
  ASSERT_TRUE(WaitFor([&] { return Exists("service/game-gateway-internal"); }, kDeadline));
  auto internal = GetJson(ns_.Name(), "service/game-gateway-internal");
  EXPECT_EQ((*internal)["spec"]["type"], "ClusterIP");
  EXPECT_EQ(port_names(*internal), (std::set<std::string>{"control", "ops"}));

  // The gateway ServiceMonitor selects exactly the Service with the ops port.
  ASSERT_TRUE(WaitFor([&] { return Exists("servicemonitor/game-gateway"); }, kDeadline));
  auto monitor = GetJson(ns_.Name(), "servicemonitor/game-gateway");
  const std::string selector = LabelSelector((*monitor)["spec"]["selector"]["matchLabels"]);
  const CommandResult selected = Kubectl({"get", "services", "-n", ns_.Name(), "-l", selector, "-o",
                                          "jsonpath={.items[*].metadata.name}"});
  ASSERT_TRUE(selected.Ok()) << selected.err;
  EXPECT_EQ(selected.out, "game-gateway-internal");
  EXPECT_EQ((*monitor)["spec"]["endpoints"][0]["port"], "ops");

  // The gateway's certificate names the internal Service, which `holomush status` dials.
  ASSERT_TRUE(WaitFor([&] { return Exists("secret/game-tls"); }, kDeadline));
  auto secret = GetJson(ns_.Name(), "secret/game-tls");
  const CommandResult decoded =
      RunCommand({"base64", "-d"}, (*secret)["data"]["gateway.crt"].get<std::string>());
  const CommandResult sans =
      RunCommand({"openssl", "x509", "-noout", "-ext", "subjectAltName"}, decoded.out);
  EXPECT_NE(sans.out.find("game-gateway-internal." + ns_.Name() + ".svc"), std::string::npos)
      << sans.out;
  // Not core's: the gateway dialling core refuses any certificate but core's.
  EXPECT_EQ(sans.out.find("game-core"), std::string::npos) << sans.out;
}

TEST_F(OperatorTest, FollowsSpecChangesAndRestoresChildren) {
  auto op = StartOperator();
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor([&] { return Exists("deployment/game-gateway"); }, kDeadline)) << op->Log();

  // Spec change: children and observedGeneration follow.
  Apply(Game("game",
             "  core:\n    replicas: 2\n  gateway:\n    logLevel: debug\n"
             "  podDisruptionBudget:\n    enabled: false\n"));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto d = GetJson(ns_.Name(), "deployment/game-core");
        return d && (*d)["spec"]["replicas"] == 2;
      },
      kDeadline));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto d = GetJson(ns_.Name(), "deployment/game-gateway");
        if (!d) return false;
        const json& args = (*d)["spec"]["template"]["spec"]["containers"][0]["args"];
        return std::find(args.begin(), args.end(), "--log-level=debug") != args.end();
      },
      kDeadline));
  EXPECT_TRUE(WaitFor([&] { return !Exists("pdb/game-core"); }, kDeadline));  // pruned
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        if (!h || (*h)["metadata"]["generation"] != 2) return false;
        const json conditions = At(*h, {"status", "conditions"});
        if (!conditions.is_array() || conditions.empty()) return false;
        for (const json& c : conditions) {
          if (c.value("observedGeneration", 0) != 2) return false;
        }
        return At(*h, {"status", "observedGeneration"}) == 2;
      },
      kDeadline));

  // A deleted child returns.
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "service/game-core"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return Exists("service/game-core"); }, kDeadline));
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "configmap/game-config"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return Exists("configmap/game-config"); }, kDeadline));

  // A field we own, edited by hand, is put back.
  ASSERT_TRUE(Kubectl({"scale", "-n", ns_.Name(), "deployment/game-core", "--replicas=5"}).Ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto d = GetJson(ns_.Name(), "deployment/game-core");
        return d && (*d)["spec"]["replicas"] == 2;
      },
      kDeadline));
  ASSERT_TRUE(
      Kubectl({"set", "image", "-n", ns_.Name(), "deployment/game-gateway", "gateway=evil:1"})
          .Ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto d = GetJson(ns_.Name(), "deployment/game-gateway");
        return d && (*d)["spec"]["template"]["spec"]["containers"][0]["image"] == "holomush:test";
      },
      kDeadline));
  ASSERT_TRUE(Kubectl({"patch", "-n", ns_.Name(), "service/game-gateway", "--type=merge", "-p",
                       R"({"spec":{"type":"NodePort"}})"})
                  .Ok());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = GetJson(ns_.Name(), "service/game-gateway");
        return s && (*s)["spec"]["type"] == "ClusterIP";
      },
      kDeadline));

  // Deleting the HoloMUSH lets the garbage collector remove every child.
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "holomush/game"}).Ok());
  for (const char* child : {"deployment/game-core", "deployment/game-gateway", "service/game-core",
                            "secret/game-tls", "cronjob/game-backup"}) {
    EXPECT_TRUE(WaitFor([&] { return !Exists(child); }, kDeadline)) << child;
  }
}

TEST_F(OperatorTest, SteadyStateWritesNothingAndARestartRewritesNothing) {
  auto op = StartOperator();
  Apply(Game("game"));
  WaitReady("game");
  // Let the last status write land, then count.
  double writes = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        const double now = op->Writes();
        const bool quiet = now == writes;
        writes = now;
        return quiet;
      },
      kDeadline, seconds(3)));
  const double created_children =
      op->Metric("holomush_operator_api_requests_total", {{"verb", "patch"}, {"code", "201"}});
  std::cout << "[ figures ] writes for one HoloMUSH from create to Ready: " << writes
            << " (children created by apply: " << created_children << ")\n";

  // Nothing changes for 60 s: not one write (the Lease's renewals are `update`).
  const seconds quiet_for{std::getenv("HOLOMUSH_QUIET_SECONDS")
                              ? std::atoi(std::getenv("HOLOMUSH_QUIET_SECONDS"))
                              : 60};
  EXPECT_FALSE(WaitFor([&] { return op->Writes() != writes; }, quiet_for, seconds(1)))
      << "writes went from " << writes << " to " << op->Writes() << "\n"
      << op->Get("/metrics").second << op->Log();
  EXPECT_GT(op->Metric("holomush_operator_api_requests_total", {{"verb", "update"}}), 0);
  // The writes counted were real: at least one create for each child every game has (the
  // two TLS Secrets, the ConfigMap, three Services, two Deployments).
  EXPECT_GE(created_children, 8);
  EXPECT_GE(writes, created_children);
  // Every reconcile is timed, and nothing waits in the queue.
  const std::string metrics = op->Get("/metrics").second;
  EXPECT_EQ(op->Metric("holomush_operator_reconcile_duration_seconds_count"),
            op->Metric("holomush_operator_reconcile_total"))
      << metrics;
  EXPECT_GT(op->Metric("holomush_operator_reconcile_duration_seconds_bucket", {{"le", "+Inf"}}), 0)
      << metrics;
  EXPECT_EQ(op->Metric("holomush_operator_workqueue_depth", {{"controller", "holomush"}}), 0)
      << metrics;

  // A restarted operator reconciles everything and rewrites nothing.
  ASSERT_EQ(op->Stop(), 0) << op->Log();
  auto second = StartOperator();
  ASSERT_TRUE(WaitFor(
      [&] {
        return second->Metric("holomush_operator_reconcile_total", {{"result", "success"}}) >= 1;
      },
      kDeadline))
      << second->Log();
  EXPECT_EQ(second->Writes(), 0) << second->Log();
}

TEST_F(OperatorTest, OneRequeuePerGameHoweverOftenItIsReconciled) {
  auto op = StartOperator();
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor(
      [&] {
        return op->Metric("holomush_operator_reconcile_total", {{"result", "success"}}) >= 1;
      },
      kDeadline))
      << op->Log();
  // Each change of the HoloMUSH is a reconcile, and each successful reconcile asks to be
  // woken for the certificate renewal.
  const double before = op->Metric("holomush_operator_reconcile_total", {{"result", "success"}});
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Kubectl({"annotate", "--overwrite", "-n", ns_.Name(), "holomush/game",
                         "test/poke=" + std::to_string(i)})
                    .Ok());
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        return op->Metric("holomush_operator_reconcile_total", {{"result", "success"}}) >=
                   before + 10 &&
               op->Metric("holomush_operator_workqueue_depth") == 0;
      },
      kDeadline))
      << op->Log();
  EXPECT_EQ(op->Metric("holomush_operator_workqueue_waiting"), 1) << op->Get("/metrics").second;
}

TEST_F(OperatorTest, StatusFollowsBackupJobs) {
  auto op = StartOperator();
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor([&] { return Exists("cronjob/game-backup"); }, kDeadline));
  ASSERT_TRUE(
      Kubectl({"create", "job", "-n", ns_.Name(), "--from=cronjob/game-backup", "manual-1"}).Ok());
  // The job controller sets startTime (immutable); finish the Job only after that.
  auto started = [&](const std::string& job) {
    return WaitFor(
        [&] {
          auto j = GetJson(ns_.Name(), "job/" + job);
          return j && At(*j, {"status", "startTime"}).is_string();
        },
        kDeadline);
  };
  ASSERT_TRUE(started("manual-1"));
  const std::string now = [] {
    char buf[32];
    std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return std::string(buf);
  }();
  // `create job --from` copies the template's labels, so the operator sees the Job. Complete
  // it through the status subresource (no kubelet to run it).
  const std::string complete =
      R"({"status":{"active":0,"ready":0,"completionTime":")" + now +
      R"(","succeeded":1,"conditions":[{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":")" +
      now + R"("},{"type":"Complete","status":"True","lastTransitionTime":")" + now + R"("}]}})";
  const CommandResult patched = Kubectl({"patch", "-n", ns_.Name(), "job/manual-1",
                                         "--subresource=status", "--type=merge", "-p", complete});
  ASSERT_TRUE(patched.Ok()) << patched.err;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "BackupHealthy", "status") == "True" &&
               At(*h, {"status", "backup", "lastResult"}) == "Succeeded";
      },
      kDeadline))
      << GetJson(ns_.Name(), "holomush/game")->dump();
  EXPECT_TRUE(WaitFor(
      [&] {
        return op->Metric("holomush_operator_backup_last_success_timestamp_seconds",
                          {{"holomush", "game"}}) > 0;
      },
      kDeadline));
  EXPECT_EQ(op->Metric("holomush_operator_backup_max_age_seconds", {{"holomush", "game"}}),
            2 * 86400);

  // Then a failure: the condition turns False with the Job's reason, the success is kept.
  ASSERT_TRUE(
      Kubectl({"create", "job", "-n", ns_.Name(), "--from=cronjob/game-backup", "manual-2"}).Ok());
  ASSERT_TRUE(started("manual-2"));
  const std::string later = [] {
    char buf[32];
    std::time_t t = std::time(nullptr) + 60;
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return std::string(buf);
  }();
  const std::string failed =
      R"({"status":{"active":0,"ready":0,"failed":3,"conditions":[{"type":"FailureTarget","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit","lastTransitionTime":")" +
      later +
      R"("},{"type":"Failed","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit","lastTransitionTime":")" +
      later + R"("}]}})";
  // Its pod's last words (no kubelet: the test writes what one would): the reason users need.
  const std::string pod = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"manual-2-x7k2p",
      "labels":{"batch.kubernetes.io/job-name":"manual-2"}},
      "spec":{"containers":[{"name":"backup","image":"holomush:test"}]}})";
  ASSERT_TRUE(Kubectl({"create", "-n", ns_.Name(), "-f", "-"}, pod).Ok());
  // What `holomush backup run --status-file=/dev/termination-log` leaves there.
  const std::string last_words =
      "pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1) cannot dump a PostgreSQL 17 server; "
      "install that client or newer, or point --pg-dump at it";
  const std::string status_line =
      R"({"msg":"backup failed","exit_code":1,"step":"snapshot","error":"pg_dump (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1) cannot dump a PostgreSQL 17 server; install that client or newer, or point --pg-dump at it"})";
  const json pod_status = {
      {"status",
       {{"phase", "Failed"},
        {"containerStatuses",
         json::array(
             {{{"name", "backup"},
               {"image", "holomush:test"},
               {"imageID", ""},
               {"ready", false},
               {"restartCount", 0},
               {"state",
                {{"terminated",
                  {{"exitCode", 1}, {"reason", "Error"}, {"message", status_line + "\n"}}}}}}})}}}};
  const CommandResult pod_patch =
      Kubectl({"patch", "-n", ns_.Name(), "pod/manual-2-x7k2p", "--subresource=status",
               "--type=merge", "-p", pod_status.dump()});
  ASSERT_TRUE(pod_patch.Ok()) << pod_patch.err;
  const CommandResult failed_patch =
      Kubectl({"patch", "-n", ns_.Name(), "job/manual-2", "--subresource=status", "--type=merge",
               "-p", failed});
  ASSERT_TRUE(failed_patch.Ok()) << failed_patch.err;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "BackupHealthy", "status") == "False" &&
               Condition(*h, "BackupHealthy", "reason") == "BackupFailed" &&
               Condition(*h, "BackupHealthy", "message") ==
                   "backup Job manual-2 failed: " + last_words &&
               At(*h, {"status", "backup", "message"}) == last_words &&
               At(*h, {"status", "backup", "lastJob"}) == "manual-2" &&
               At(*h, {"status", "backup", "lastSuccessTime"}).is_string();
      },
      kDeadline))
      << GetJson(ns_.Name(), "holomush/game")->dump();
  EXPECT_TRUE(WaitFor(
      [&] {
        return op->Metric("holomush_operator_backup_last_failure_timestamp_seconds",
                          {{"holomush", "game"}}) >
               op->Metric("holomush_operator_backup_last_success_timestamp_seconds",
                          {{"holomush", "game"}});
      },
      kDeadline));

  // The Jobs go (their TTL, or a hand): what the status says of them stays.
  const json backup_before = At(*GetJson(ns_.Name(), "holomush/game"), {"status", "backup"});
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "job", "manual-1", "manual-2"}).Ok());
  const double reconciled =
      op->Metric("holomush_operator_reconcile_total", {{"result", "success"}});
  ASSERT_TRUE(
      Kubectl({"annotate", "--overwrite", "-n", ns_.Name(), "holomush/game", "test/poke=jobs-gone"})
          .Ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return !Exists("job/manual-1") && !Exists("job/manual-2") &&
               op->Metric("holomush_operator_reconcile_total", {{"result", "success"}}) >
                   reconciled;
      },
      kDeadline));
  auto after = GetJson(ns_.Name(), "holomush/game");
  ASSERT_TRUE(after);
  EXPECT_EQ(At(*after, {"status", "backup"}), backup_before) << after->dump();
  EXPECT_EQ(Condition(*after, "BackupHealthy", "reason"), "BackupFailed");

  // What this operator exports now (a game, reconciles, backups both ways) against what the
  // alert rules read: names, labels and label values, and the metrics documentation.
  const std::string scrape = (std::filesystem::temp_directory_path() /
                              ("holomush-operator-metrics-" + std::to_string(::getpid())))
                                 .string();
  std::ofstream(scrape) << op->Get("/metrics").second;
  const CommandResult live =
      RunCommand({"python3", std::string(HOLOMUSH_SOURCE_ROOT) + "/tests/alerts/live_metrics.py",
                  "--rules", std::string(HOLOMUSH_SOURCE_ROOT) + "/alerts/holomush.rules.yaml",
                  "--docs", std::string(HOLOMUSH_SOURCE_ROOT) + "/docs/design/metrics.md",
                  "--scrape", "operator=" + scrape});
  std::filesystem::remove(scrape);
  EXPECT_TRUE(live.Ok()) << live.out << live.err;
}

TEST_F(OperatorTest, BackupSchedulesTakeDescriptorsAndAgeByTheirLongestGap) {
  auto op = StartOperator();
  Apply(Game("nightly", "  backup:\n    schedule: '@daily'\n"));
  Apply(Game("weekdays", "  backup:\n    schedule: '0 3 * * 1-5'\n"));
  ASSERT_TRUE(WaitFor([&] { return Exists("cronjob/nightly-backup"); }, kDeadline)) << op->Log();
  EXPECT_EQ(At(*GetJson(ns_.Name(), "cronjob/nightly-backup"), {"spec", "schedule"}), "@daily");
  auto max_age = [&](const std::string& game) {
    return op->Metric("holomush_operator_backup_max_age_seconds", {{"holomush", game}});
  };
  EXPECT_TRUE(WaitFor([&] { return max_age("nightly") == 2 * 86400; }, kDeadline))
      << op->Get("/metrics").second;
  // Friday's backup is still fresh on Monday morning: one missed weekday is tolerated, a
  // weekend is not a miss.
  EXPECT_TRUE(WaitFor([&] { return max_age("weekdays") == 4 * 86400; }, kDeadline))
      << op->Get("/metrics").second;
}

TEST_F(OperatorTest, ManagedDatabaseAndAUserTlsSecret) {
  // A certificate set of the user's own (one self-signed certificate stands in for all).
  const std::string dir = "/tmp/holomush-operator-certs-" + ns_.Name();
  RunCommand({"mkdir", "-p", dir});
  const CommandResult made = RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/k",
                                         "-out", dir + "/c", "-days", "30", "-subj", "/CN=test"});
  ASSERT_TRUE(made.Ok()) << made.err;
  std::vector<std::string> create = {"create", "secret", "generic", "-n", ns_.Name(), "mine"};
  for (const char* leaf : {"core", "gateway", "cli"}) {
    create.push_back(std::string("--from-file=") + leaf + ".crt=" + dir + "/c");
    create.push_back(std::string("--from-file=") + leaf + ".key=" + dir + "/k");
  }
  create.push_back("--from-file=ca.crt=" + dir + "/c");
  ASSERT_TRUE(Kubectl(create).Ok());
  RunCommand({"rm", "-rf", dir});

  auto op = StartOperator();
  Apply(
      "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata:\n  name: trial\nspec:\n"
      "  image: holomush:test\n  database:\n    managed: {}\n  tls:\n    secretName: mine\n");
  ASSERT_TRUE(WaitFor([&] { return Exists("statefulset/trial-postgres"); }, kDeadline))
      << op->Log();
  EXPECT_TRUE(Exists("service/trial-postgres"));
  auto secret = GetJson(ns_.Name(), "secret/trial-postgres");
  ASSERT_TRUE(secret);
  const std::string url =
      RunCommand({"base64", "-d"}, (*secret)["data"]["DATABASE_URL"].get<std::string>()).out;
  EXPECT_EQ(url.rfind("postgres://holomush:", 0), 0u) << url;
  EXPECT_NE(url.find("@trial-postgres." + ns_.Name() + ".svc:5432/holomush"), std::string::npos);

  ASSERT_TRUE(WaitFor([&] { return Exists("deployment/trial-core"); }, kDeadline));
  auto core = GetJson(ns_.Name(), "deployment/trial-core");
  const json& pod = (*core)["spec"]["template"]["spec"];
  EXPECT_EQ(pod["volumes"][0]["secret"]["secretName"], "mine");
  EXPECT_EQ(pod["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"], "trial-postgres");
  EXPECT_FALSE(Exists("secret/trial-tls"));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/trial");
        return h && At(*h, {"status", "tls", "secretName"}) == "mine" &&
               At(*h, {"status", "tls", "notAfter"}).is_string();
      },
      kDeadline));

  // The password survives a restart of the operator: the database keeps working.
  ASSERT_EQ(op->Stop(), 0);
  auto second = StartOperator();
  ASSERT_TRUE(WaitFor(
      [&] {
        return second->Metric("holomush_operator_reconcile_total", {{"result", "success"}}) >= 1;
      },
      kDeadline));
  auto after = GetJson(ns_.Name(), "secret/trial-postgres");
  EXPECT_EQ((*after)["data"]["password"], (*secret)["data"]["password"]);
}

TEST_F(OperatorTest, ADeletedGameLeavesItsDataAndTheNextOneOfTheNameTakesItUp) {
  auto op = StartOperator();
  const std::string managed = "  database:\n    managed: {}\n";
  const std::string game =
      "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata:\n  name: trial\nspec:\n"
      "  image: holomush:test\n";
  Apply(game + managed);
  ASSERT_TRUE(WaitFor([&] { return Exists("statefulset/trial-postgres"); }, kDeadline))
      << op->Log();
  ASSERT_TRUE(WaitFor([&] { return Exists("pvc/trial-backup"); }, kDeadline));
  const json secret = *GetJson(ns_.Name(), "secret/trial-postgres");
  const json statefulset = *GetJson(ns_.Name(), "statefulset/trial-postgres");
  EXPECT_EQ(At(statefulset, {"spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"}),
            "Retain");

  // Deleted: the garbage collector removes the workloads, not the data or its password.
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "holomush/trial"}).Ok());
  ASSERT_TRUE(WaitFor([&] { return !Exists("statefulset/trial-postgres"); }, kDeadline));
  ASSERT_TRUE(WaitFor([&] { return !Exists("deployment/trial-core"); }, kDeadline));
  auto kept = GetJson(ns_.Name(), "secret/trial-postgres");
  ASSERT_TRUE(kept) << "the database password went with the game";
  EXPECT_FALSE(At(*kept, {"metadata", "deletionTimestamp"}).is_string());
  auto claim = GetJson(ns_.Name(), "pvc/trial-backup");
  ASSERT_TRUE(claim) << "the backups went with the game";
  EXPECT_FALSE(At(*claim, {"metadata", "deletionTimestamp"}).is_string());

  // Made again under the same name: the old database's password, the old backups.
  Apply(game + managed);
  ASSERT_TRUE(WaitFor([&] { return Exists("statefulset/trial-postgres"); }, kDeadline))
      << op->Log();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/trial");
        return h && Condition(*h, "Degraded", "status") == "False";
      },
      kDeadline))
      << op->Log();
  auto again = GetJson(ns_.Name(), "secret/trial-postgres");
  EXPECT_EQ(At(*again, {"data", "password"}), At(secret, {"data", "password"}));
  EXPECT_EQ(At(*again, {"data", "DATABASE_URL"}), At(secret, {"data", "DATABASE_URL"}));
  EXPECT_EQ(At(*GetJson(ns_.Name(), "pvc/trial-backup"), {"metadata", "uid"}),
            At(*claim, {"metadata", "uid"}));

  // deletionPolicy: Delete: now they are owned, and go with the game.
  Apply(game + "  deletionPolicy: Delete\n" + managed);
  const std::string uid = At(*GetJson(ns_.Name(), "holomush/trial"), {"metadata", "uid"});
  auto owned_by_game = [&](const std::string& what) {
    auto o = GetJson(ns_.Name(), what);
    const json refs = o ? At(*o, {"metadata", "ownerReferences"}) : json();
    return refs.is_array() && refs.size() == 1 && refs[0].value("uid", "") == uid;
  };
  EXPECT_TRUE(WaitFor([&] { return owned_by_game("secret/trial-postgres"); }, kDeadline))
      << op->Log();
  EXPECT_TRUE(WaitFor([&] { return owned_by_game("pvc/trial-backup"); }, kDeadline));
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "holomush/trial"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return !Exists("secret/trial-postgres"); }, kDeadline));
  // The claim keeps its pvc-protection finalizer here (no controller removes it without a
  // kubelet), so it is being deleted rather than gone.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto c = GetJson(ns_.Name(), "pvc/trial-backup");
        return !c || At(*c, {"metadata", "deletionTimestamp"}).is_string();
      },
      kDeadline));
}

// New leaves are signed by the CA kept in <name>-ca, so Pods on the old and the new leaves
// trust each other through the rollout the new tls-hash starts.
TEST_F(OperatorTest, NewLeavesKeepTheCaThePodsTrust) {
  auto op = StartOperator();
  Apply(Game("game"));
  auto data = [&](const std::string& secret, const char* file) {
    auto s = GetJson(ns_.Name(), "secret/" + secret);
    return s ? At(*s, {"data", file}) : json();
  };
  auto tls_hash = [&] {
    auto d = GetJson(ns_.Name(), "deployment/game-core");
    return d ? At(*d, {"spec", "template", "metadata", "annotations", "holomush.io/tls-hash"})
             : json();
  };
  ASSERT_TRUE(WaitFor(
      [&] { return data("game-ca", "ca.key").is_string() && tls_hash().is_string(); }, kDeadline))
      << op->Log();
  const json ca = data("game-tls", "ca.crt");
  const json core = data("game-tls", "core.crt");
  const json hash = tls_hash();
  ASSERT_EQ(ca, data("game-ca", "ca.crt"));
  // Losing the leaves' Secret makes the operator sign new ones.
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "secret/game-tls"}).Ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        const json now = data("game-tls", "core.crt");
        return now.is_string() && now != core;
      },
      kDeadline))
      << op->Log();
  EXPECT_EQ(data("game-tls", "ca.crt"), ca);
  EXPECT_EQ(data("game-ca", "ca.crt"), ca);
  EXPECT_TRUE(WaitFor([&] { return tls_hash() != hash; }, kDeadline)) << "the Pods do not roll";
}

TEST_F(OperatorTest, AnUnreadableTlsSecretRollsNothing) {
  // A certificate set of the user's own (one self-signed certificate stands in for all).
  const std::string dir = "/tmp/holomush-operator-certs-" + ns_.Name();
  RunCommand({"mkdir", "-p", dir});
  const CommandResult made = RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/k",
                                         "-out", dir + "/c", "-days", "30", "-subj", "/CN=test"});
  ASSERT_TRUE(made.Ok()) << made.err;
  std::vector<std::string> create = {"create", "secret", "generic", "-n", ns_.Name(), "mine"};
  for (const char* leaf : {"core", "gateway", "cli"}) {
    create.push_back(std::string("--from-file=") + leaf + ".crt=" + dir + "/c");
    create.push_back(std::string("--from-file=") + leaf + ".key=" + dir + "/k");
  }
  create.push_back("--from-file=ca.crt=" + dir + "/c");
  ASSERT_TRUE(Kubectl(create).Ok());

  auto op = StartOperator();
  Apply(Game("game", "  tls:\n    secretName: mine\n"));
  auto template_of = [&](const std::string& deployment) {
    auto d = GetJson(ns_.Name(), "deployment/" + deployment);
    return d ? At(*d, {"spec", "template"}) : json();
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return At(template_of("game-core"), {"metadata", "annotations", "holomush.io/tls-hash"})
                   .is_string() &&
               At(template_of("game-gateway"), {"metadata", "annotations", "holomush.io/tls-hash"})
                   .is_string();
      },
      kDeadline))
      << op->Log();
  const json core = template_of("game-core");
  const json gateway = template_of("game-gateway");
  // The user's Secret is not watched: a change of the HoloMUSH makes the operator look.
  int pokes = 0;
  auto poke = [&] {
    ASSERT_TRUE(Kubectl({"annotate", "--overwrite", "-n", ns_.Name(), "holomush/game",
                         "test/poke=" + std::to_string(++pokes)})
                    .Ok());
  };

  // The Secret cannot be read (here: it is gone for a while, as in a delete and re-create).
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "secret/mine"}).Ok());
  poke();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "Degraded", "status") == "True" &&
               Condition(*h, "Degraded", "reason") == "TLSSecretUnavailable";
      },
      kDeadline))
      << op->Log();
  const double failures = op->Count("holomush_operator_reconcile_total", {{"result", "error"}});
  poke();
  ASSERT_TRUE(WaitFor(
      [&] {
        return op->Count("holomush_operator_reconcile_total", {{"result", "error"}}) > failures;
      },
      kDeadline));
  // Nothing was applied meanwhile: the pod templates (and so the Pods) are as they were.
  EXPECT_EQ(template_of("game-core"), core);
  EXPECT_EQ(template_of("game-gateway"), gateway);

  // The same certificates are back: the game recovers and still nothing rolls.
  ASSERT_TRUE(Kubectl(create).Ok());
  RunCommand({"rm", "-rf", dir});
  poke();
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "Degraded", "status") == "False";
      },
      kDeadline))
      << op->Log();
  EXPECT_EQ(template_of("game-core"), core);
  EXPECT_EQ(template_of("game-gateway"), gateway);
}

struct InvalidCase {
  const char* name;
  const char* spec;
  const char* message;
};

TEST_F(OperatorTest, ApiServerRefusesInvalidResourcesWithReadableMessages) {
  const InvalidCase cases[] = {
      {"no-database", "  image: x\n  database: {}\n", "set exactly one of database.existingSecret"},
      {"two-databases", "  image: x\n  database:\n    managed: {}\n    existingSecret: {name: a}\n",
       "set exactly one of database.existingSecret"},
      {"no-image", "  database:\n    managed: {}\n", "spec.image: Required value"},
      {"too-many-replicas", "  image: x\n  database: {managed: {}}\n  core: {replicas: 99}\n",
       "less than or equal to 50"},
      {"same-ports",
       "  image: x\n  database: {managed: {}}\n  gateway:\n    service: {telnetPort: 80, webPort: "
       "80}\n",
       "must differ"},
      {"nodeport-on-clusterip",
       "  image: x\n  database: {managed: {}}\n  gateway:\n    service: {telnetNodePort: 30001}\n",
       "node ports need service.type NodePort or LoadBalancer"},
      {"our-pod-labels",
       "  image: x\n  database: {managed: {}}\n  core:\n    podLabels: {app.kubernetes.io/name: "
       "x}\n",
       "the operator owns them"},
      {"bad-log-level", "  image: x\n  database: {managed: {}}\n  core: {logLevel: loud}\n",
       "Unsupported value: \"loud\""},
      {"claim-and-size",
       "  image: x\n  database: {managed: {}}\n  backup: {existingClaim: c, storageSize: 1Gi}\n",
       "backup.existingClaim cannot be combined"},
      {"bad-schedule", "  image: x\n  database: {managed: {}}\n  backup: {schedule: soon}\n",
       "spec.backup.schedule"},
      {"validity-with-user-secret",
       "  image: x\n  database: {managed: {}}\n  tls: {secretName: s, validityDays: 30}\n",
       "tls.validityDays applies only to operator-generated certificates"},
      {"bad-runbook-url",
       "  image: x\n  database: {managed: {}}\n  monitoring: {runbookBaseURL: 'ftp://x'}\n",
       "spec.monitoring.runbookBaseURL"},
      {"a-name-far-too-long-for-the-children-suffixes-x", "  image: x\n  database: {managed: {}}\n",
       "metadata.name must be at most 40 characters"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string manifest = std::string("apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\n") +
                                 "metadata:\n  name: " + c.name + "\nspec:\n" + c.spec;
    const CommandResult r = Kubectl({"apply", "-n", ns_.Name(), "-f", "-"}, manifest);
    EXPECT_FALSE(r.Ok()) << manifest;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  // What a StatefulSet or a claim cannot change is refused when it is changed, with the
  // way out in the message, instead of failing every reconcile with a 422 later.
  const std::string made =
      "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata:\n  name: sized\nspec:\n"
      "  image: x\n  database:\n    managed: {storageSize: 1Gi, storageClassName: a}\n"
      "  backup: {storageClassName: a}\n";
  ASSERT_TRUE(Kubectl({"apply", "-n", ns_.Name(), "-f", "-"}, made).Ok());
  const struct {
    const char* patch;
    const char* message;
  } changes[] = {
      {R"({"spec":{"database":{"managed":{"storageSize":"2Gi"}}}})",
       "expand the claim data-<name>-postgres-0 itself"},
      {R"({"spec":{"database":{"managed":{"storageClassName":"b"}}}})",
       "database.managed.storageClassName cannot change"},
      {R"({"spec":{"backup":{"storageClassName":"b"}}})", "backup.storageClassName cannot change"},
  };
  for (const auto& change : changes) {
    const CommandResult r =
        Kubectl({"patch", "-n", ns_.Name(), "holomush/sized", "--type=merge", "-p", change.patch});
    EXPECT_FALSE(r.Ok()) << change.patch;
    EXPECT_NE(r.err.find(change.message), std::string::npos) << r.err;
  }
  // What may change still does.
  EXPECT_TRUE(Kubectl({"patch", "-n", ns_.Name(), "holomush/sized", "--type=merge", "-p",
                       R"({"spec":{"backup":{"storageSize":"9Gi"}}})"})
                  .Ok());
  // And the samples are all accepted.
  const CommandResult samples =
      Kubectl({"apply", "--dry-run=server", "-n", ns_.Name(), "-f",
               std::string(HOLOMUSH_SOURCE_ROOT) + "/k8s-operator/config/samples/"});
  EXPECT_TRUE(samples.Ok()) << samples.err;
}

TEST_F(OperatorTest, WorksWithoutMonitoringCrdsAndAddsMonitorsWhenTheyAppear) {
  // Keep the CRDs to put them back afterwards, whatever happens.
  const CommandResult saved = Kubectl({"get", "crd", "servicemonitors.monitoring.coreos.com",
                                       "prometheusrules.monitoring.coreos.com", "-o", "json"});
  ASSERT_TRUE(saved.Ok()) << saved.err;
  json list = json::parse(saved.out);
  for (json& crd : list["items"]) {
    crd["metadata"].erase("resourceVersion");
    crd["metadata"].erase("uid");
    crd["metadata"].erase("creationTimestamp");
    crd["metadata"].erase("managedFields");
    crd.erase("status");
  }
  struct Restore {
    std::string manifest;
    ~Restore() {
      Kubectl({"apply", "--server-side", "-f", "-"}, manifest);
      Kubectl({"wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com",
               "crd/prometheusrules.monitoring.coreos.com", "--timeout=60s"});
    }
  } restore{list.dump()};
  ASSERT_TRUE(Kubectl({"delete", "crd", "servicemonitors.monitoring.coreos.com",
                       "prometheusrules.monitoring.coreos.com", "--wait=true"})
                  .Ok());

  auto op = StartOperator();
  Apply(Game("game"));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "MonitoringAvailable", "status") == "False" &&
               Condition(*h, "MonitoringAvailable", "reason") == "MonitoringCRDsMissing";
      },
      kDeadline))
      << op->Log();
  EXPECT_TRUE(Exists("deployment/game-core"));
  EXPECT_TRUE(Exists("deployment/game-gateway"));
  WaitReady("game");

  // Install them: the monitors and the rule appear, and the condition says so.
  const CommandResult reinstalled = Kubectl({"apply", "--server-side", "-f", "-"}, list.dump());
  ASSERT_TRUE(reinstalled.Ok()) << reinstalled.err;
  EXPECT_TRUE(WaitFor([&] { return Exists("servicemonitor/game-core"); }, kDeadline)) << op->Log();
  EXPECT_TRUE(WaitFor([&] { return Exists("prometheusrule/game"); }, kDeadline));
  EXPECT_TRUE(WaitFor(
      [&] {
        auto h = GetJson(ns_.Name(), "holomush/game");
        return h && Condition(*h, "MonitoringAvailable", "status") == "True";
      },
      kDeadline));
}

// `--alert-rules FILE` replaces the compiled-in rules in every game's PrometheusRule; a file
// that cannot be read or holds no groups stops the operator at start, naming the problem.
TEST_F(OperatorTest, AlertRulesFromAFileReplaceTheCompiledInOnes) {
  const std::string path = "/tmp/holomush-operator-rules-" + ns_.Name() + ".yaml";
  std::ofstream(path) << "groups:\n"
                         "  - name: house-rules\n"
                         "    rules:\n"
                         "      - alert: HouseRuleBroken\n"
                         "        expr: vector(1)\n"
                         "        labels:\n"
                         "          severity: info\n";
  auto op = StartOperator({"--alert-rules=" + path, "--workers=3"});
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor([&] { return Exists("prometheusrule/game"); }, kDeadline)) << op->Log();
  // `--workers` reconcile threads, named so `top -H` shows them.
  // (A thread names itself when it first runs: under load that may trail the reconcile.)
  EXPECT_TRUE(WaitFor([&] { return ThreadsNamed(op->pid(), "holomush-recon") == 3; }, kDeadline))
      << ThreadsNamed(op->pid(), "holomush-recon");
  const json rule = *GetJson(ns_.Name(), "prometheusrule/game");
  const std::string groups = At(rule, {"spec", "groups"}).dump();
  EXPECT_NE(groups.find("HouseRuleBroken"), std::string::npos) << groups;
  EXPECT_EQ(groups.find("AliasRollbackFailure"), std::string::npos) << groups;
  ASSERT_EQ(op->Stop(), 0) << op->Log();

  auto refused = [&](const std::string& file, const std::string& says) {
    OperatorProcess bad([&] {
      auto args = OperatorArgs();
      args.push_back("--alert-rules=" + file);
      return args;
    }());
    EXPECT_TRUE(WaitFor([&] { return !bad.Running(); }, kDeadline)) << bad.Log();
    EXPECT_NE(bad.ExitCode(), 0) << bad.Log();
    EXPECT_NE(bad.Log().find(says), std::string::npos) << bad.Log();
  };
  refused(path + ".missing", "invalid setting alert-rules: cannot read " + path + ".missing");
  std::ofstream(path) << "rules: []\n";
  refused(path, "alert rules: no `groups` list");
  std::filesystem::remove(path);
}

TEST_F(OperatorTest, OneLeaderAtATimeAndAStandbyTakesOver) {
  auto a = StartOperator({"--identity=replica-a"});
  auto b = StartOperator({"--identity=replica-b"});
  auto leaders = [&] {
    return a->Metric("holomush_operator_leader") + b->Metric("holomush_operator_leader");
  };
  ASSERT_TRUE(WaitFor([&] { return leaders() == 1; }, kDeadline));
  OperatorProcess* leader = a->Metric("holomush_operator_leader") == 1 ? a.get() : b.get();
  OperatorProcess* standby = leader == a.get() ? b.get() : a.get();
  EXPECT_NE(standby->Get("/readyz").second.find("standby"), std::string::npos);
  // The Lease is where --lease-namespace says, held by the leader's --identity.
  const auto lease = GetJson(ns_.Name(), "lease/holomush-operator");
  ASSERT_TRUE(lease) << "no Lease in " << ns_.Name();
  EXPECT_EQ(At(*lease, {"spec", "holderIdentity"}), leader == a.get() ? "replica-a" : "replica-b");

  // The standby writes nothing while the leader works.
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor([&] { return Exists("deployment/game-core"); }, kDeadline));
  EXPECT_EQ(standby->Writes(), 0);

  // Kill the leader without a chance to release: the standby takes over once the lease
  // expires (15 s) plus a retry period, and never while the leader was alive.
  leader->Kill();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      WaitFor([&] { return standby->Metric("holomush_operator_leader") == 1; }, seconds(30)))
      << standby->Log();
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed);
  std::cout << "[ figures ] takeover after SIGKILL: " << took.count() << " s\n";
  EXPECT_LE(took.count(), 15 + 2 + 3);

  // The new leader reconciles: a deleted child returns.
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "service/game-core"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return Exists("service/game-core"); }, kDeadline)) << standby->Log();

  // SIGTERM releases the lease: a new standby takes over at once, not after 15 s.
  auto c = StartOperator({"--identity=replica-c"});
  const auto stopping = std::chrono::steady_clock::now();
  ASSERT_EQ(standby->Stop(), 0) << standby->Log();
  ASSERT_TRUE(WaitFor([&] { return c->Metric("holomush_operator_leader") == 1; }, seconds(30)));
  const auto handover =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count();
  std::cout << "[ figures ] takeover after SIGTERM: " << handover << " s\n";
  EXPECT_LT(handover, 8);
}

// The operator's own RBAC (config/rbac) bound to a ServiceAccount of the test's namespace,
// under per-test names, and a kubeconfig with only that ServiceAccount's token. The
// destructor removes the cluster-wide objects and the file.
class OperatorRbac {
 public:
  explicit OperatorRbac(const std::string& ns)
      : ns_(ns),
        role_("holomush-operator-" + ns),
        kubeconfig_("/tmp/holomush-operator-sa-" + ns + ".kubeconfig") {}
  ~OperatorRbac() {
    Kubectl({"delete", "clusterrolebinding", role_, "--ignore-not-found"});
    Kubectl({"delete", "clusterrole", role_, "--ignore-not-found"});
    std::remove(kubeconfig_.c_str());
  }
  OperatorRbac(const OperatorRbac&) = delete;
  OperatorRbac& operator=(const OperatorRbac&) = delete;

  // Creates everything; a failed step fails the test (check HasFatalFailure()).
  void Create() {
    const std::string rbac = std::string(HOLOMUSH_SOURCE_ROOT) + "/k8s-operator/config/rbac/";
    CommandResult r = Kubectl({"create", "serviceaccount", "-n", ns_, kServiceAccount});
    ASSERT_TRUE(r.Ok()) << r.err;
    // The ClusterRole under a per-test name.
    std::string cluster_role = RunCommand({"cat", rbac + "role.yaml"}).out;
    cluster_role.replace(cluster_role.find("name: holomush-operator\n"),
                         std::string("name: holomush-operator\n").size(), "name: " + role_ + "\n");
    ASSERT_TRUE(Kubectl({"apply", "-f", "-"}, cluster_role).Ok());
    Bind();
    ASSERT_TRUE(Kubectl({"apply", "-n", ns_, "-f", rbac + "leader_election_role.yaml"}).Ok());
    ASSERT_TRUE(Kubectl({"create", "rolebinding", "-n", ns_, "leader-election",
                         "--role=holomush-operator-leader-election",
                         "--serviceaccount=" + ns_ + ":" + kServiceAccount})
                    .Ok());

    r = Kubectl({"create", "token", "-n", ns_, kServiceAccount, "--duration=1h"});
    ASSERT_TRUE(r.Ok()) << r.err;
    std::string token = r.out;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    const CommandResult server = Kubectl(
        {"config", "view", "--minify", "--raw", "-o", "jsonpath={.clusters[0].cluster.server}"});
    const CommandResult ca =
        Kubectl({"config", "view", "--minify", "--raw", "-o",
                 "jsonpath={.clusters[0].cluster.certificate-authority-data}"});
    std::string ca_data = ca.out;
    if (ca_data.empty()) {
      const CommandResult ca_file =
          Kubectl({"config", "view", "--minify", "--raw", "-o",
                   "jsonpath={.clusters[0].cluster.certificate-authority}"});
      ca_data = RunCommand({"base64", "-w0", ca_file.out}).out;
    }
    std::ofstream out(kubeconfig_);
    out << "apiVersion: v1\nkind: Config\ncurrent-context: sa\nclusters:\n- name: c\n"
        << "  cluster:\n    server: " << server.out
        << "\n    certificate-authority-data: " << ca_data << "\nusers:\n- name: sa\n"
        << "  user:\n    token: " << token << "\ncontexts:\n- name: sa\n"
        << "  context: {cluster: c, user: sa, namespace: " << ns_ << "}\n";
  }

  // The ClusterRoleBinding: what a cluster admin revokes and restores.
  void Bind() {
    const CommandResult r =
        Kubectl({"create", "clusterrolebinding", role_, "--clusterrole=" + role_,
                 "--serviceaccount=" + ns_ + ":" + kServiceAccount});
    ASSERT_TRUE(r.Ok()) << r.err;
  }
  void Unbind() {
    const CommandResult r = Kubectl({"delete", "clusterrolebinding", role_});
    ASSERT_TRUE(r.Ok()) << r.err;
  }

  const std::string& kubeconfig() const { return kubeconfig_; }

 private:
  static constexpr const char* kServiceAccount = "holomush-operator";
  std::string ns_;
  std::string role_;
  std::string kubeconfig_;
};

TEST_F(OperatorTest, RunsWithOnlyItsOwnRbac) {
  OperatorRbac rbac(ns_.Name());
  rbac.Create();
  ASSERT_FALSE(HasFatalFailure());
  const std::string& kubeconfig = rbac.kubeconfig();

  auto op = StartOperator({}, kubeconfig);
  Apply(Game("game"));
  for (const char* child : {"deployment/game-core", "deployment/game-gateway", "secret/game-tls",
                            "cronjob/game-backup", "prometheusrule/game"}) {
    EXPECT_TRUE(WaitFor([&] { return Exists(child); }, kDeadline)) << child << "\n" << op->Log();
  }
  WaitReady("game");
  Apply(Game("game", "  backup:\n    enabled: false\n"));
  EXPECT_TRUE(WaitFor([&] { return !Exists("cronjob/game-backup"); }, kDeadline)) << op->Log();
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "holomush/game"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return !Exists("deployment/game-core"); }, kDeadline));
  EXPECT_EQ(op->Count("holomush_operator_api_requests_total", {{"code", "403"}}), 0) << op->Log();
  EXPECT_EQ(op->Metric("holomush_operator_leader"), 1);
}

// A leader that cannot renew its Lease (the API server is gone) stops and exits 1 within
// 14 s of its last renewal, before the 15 s lease could pass to a standby: never two leaders.
TEST_F(OperatorTest, ALeaderThatCannotRenewExitsNonZeroBeforeItsLeaseEnds) {
  if (!OwnsControlPlane()) GTEST_SKIP() << "stops the apiserver: needs a control plane of its own";
  auto op = StartOperator();
  ASSERT_TRUE(WaitFor([&] { return op->Metric("holomush_operator_leader") == 1; }, kDeadline))
      << op->Log();
  struct Restart {
    ~Restart() { StartApiServer(); }  // whatever happens below
  } restart;
  const CommandResult stopped = StopApiServer();
  ASSERT_TRUE(stopped.Ok()) << stopped.err;
  // No renewal can have begun after this.
  const auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return !op->Running(); }, seconds(40))) << op->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, seconds(15));
  EXPECT_EQ(op->ExitCode(), 1) << op->Log();
  EXPECT_NE(op->Log().find("lost the lease"), std::string::npos) << op->Log();
}

TEST_F(OperatorTest, OutlivesAnApiServerRestartAndRevokedRbac) {
  if (!OwnsControlPlane())
    GTEST_SKIP() << "restarts the apiserver: needs a control plane of its own";
  OperatorRbac rbac(ns_.Name());
  rbac.Create();
  ASSERT_FALSE(HasFatalFailure());
  // Without leader election: a leader that cannot renew for 10 s exits by design, and what
  // is tested here is the informers, which run on every replica.
  auto op = StartOperator({"--leader-elect=false"}, rbac.kubeconfig());
  Apply(Game("game"));
  ASSERT_TRUE(WaitFor([&] { return Exists("service/game-core"); }, kDeadline)) << op->Log();
  auto watches = [&](const std::string& code) {
    return op->Metric("holomush_operator_api_requests_total", {{"verb", "watch"}, {"code", code}});
  };

  // A cluster admin revokes the operator's rights, and the apiserver restarts: every watch
  // is cut, cannot reconnect while the apiserver is down, then is refused with a 403 Status.
  rbac.Unbind();
  ASSERT_FALSE(HasFatalFailure());
  const double unreachable = watches("error");
  const CommandResult stopped = StopApiServer();
  ASSERT_TRUE(stopped.Ok()) << stopped.err;
  EXPECT_TRUE(WaitFor([&] { return watches("error") > unreachable; }, kDeadline)) << op->Log();
  const CommandResult started = StartApiServer();
  ASSERT_TRUE(started.Ok()) << started.err;
  // Twelve informers, each refused: the operator backs off and stays up.
  EXPECT_TRUE(WaitFor([&] { return watches("403") >= 12; }, kDeadline)) << op->Log();
  ASSERT_TRUE(op->Running()) << op->Log();
  EXPECT_EQ(op->Get("/healthz").first, 200);

  // Rights restored: the watches resume and the operator reconciles again.
  rbac.Bind();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(Kubectl({"delete", "-n", ns_.Name(), "service/game-core"}).Ok());
  EXPECT_TRUE(WaitFor([&] { return Exists("service/game-core"); }, kDeadline)) << op->Log();
  EXPECT_EQ(op->Stop(), 0) << op->Log();
}

}  // namespace
}  // namespace holomush::testing
