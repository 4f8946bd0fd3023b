// The chart on the real control plane: every ci/ value set passes a server-side dry run;
// helm install, the operator running with the chart's ServiceAccount token, what that
// account may not do, NOTES.txt's commands, the test hook, helm upgrade and helm uninstall.
//
// The suites run in the order written (gtest's default): ChartInstallTest's tests follow one
// release through its life; the other suites need nothing from them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <regex>
#include <sstream>

#include "chart_support.hpp"
#include "kube_env.hpp"
#include "operator_process.hpp"

namespace holomush::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr seconds kDeadline{60};
constexpr const char* kCrd = "holomushes.holomush.io";

std::optional<json> Get(const std::string& ns, const std::string& what) {
  std::vector<std::string> args = {"get", what, "-o", "json"};
  if (!ns.empty()) args.insert(args.begin() + 1, {"-n", ns});
  const CommandResult r = Kubectl(args);
  if (!r.Ok()) return std::nullopt;
  return json::parse(r.out);
}

bool Exists(const std::string& ns, const std::string& what) { return Get(ns, what).has_value(); }

std::string Condition(const json& object, const std::string& type) {
  for (const json& c : object["status"].value("conditions", json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// `kubectl auth can-i` as `user`: "yes" or "no".
std::string CanI(const std::string& user, const std::vector<std::string>& what) {
  std::vector<std::string> args = {"auth", "can-i", "--as=" + user};
  args.insert(args.end(), what.begin(), what.end());
  const std::vector<std::string> lines = Lines(Kubectl(args).out);
  return lines.empty() ? "" : lines.back();
}

// A kubeconfig holding only `sa`'s token from the TokenRequest API, for the cluster the
// tests use, with `ns` as the context namespace (in a Pod, that is the ServiceAccount's).
std::string ServiceAccountKubeconfig(const std::string& ns, const std::string& sa) {
  const CommandResult token = Kubectl({"create", "token", "-n", ns, sa, "--duration=1h"});
  EXPECT_TRUE(token.Ok()) << token.err;
  const std::string server = Kubectl({"config", "view", "--minify", "--raw", "-o",
                                      "jsonpath={.clusters[0].cluster.server}"})
                                 .out;
  const std::string ca = Kubectl({"config", "view", "--minify", "--raw", "-o",
                                  "jsonpath={.clusters[0].cluster.certificate-authority-data}"})
                             .out;
  EXPECT_FALSE(ca.empty()) << "the test kubeconfig embeds its CA";
  const std::string path =
      (fs::temp_directory_path() / ("holomush-chart-" + ns + "-" + sa + ".kubeconfig")).string();
  std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: sa\n"
                      << "clusters:\n- name: c\n  cluster:\n    server: " << server
                      << "\n    certificate-authority-data: " << ca << "\n"
                      << "users:\n- name: sa\n  user:\n    token: " << Lines(token.out).at(0)
                      << "\ncontexts:\n- name: sa\n  context: {cluster: c, user: sa, namespace: "
                      << ns << "}\n";
  return path;
}

// holomush-operator started with exactly the arguments of the chart's Deployment (as the API
// server holds it) and the ServiceAccount token the Pod would get; the ops port moves to a
// free loopback port.
std::unique_ptr<OperatorProcess> StartOperatorAsTheChartsPod(const std::string& ns,
                                                             const std::string& deployment) {
  const auto d = Get(ns, "deployment/" + deployment);
  EXPECT_TRUE(d) << deployment;
  if (!d) return nullptr;
  const json& pod = (*d)["spec"]["template"]["spec"];
  std::vector<std::string> args = {"--kubeconfig=" +
                                   ServiceAccountKubeconfig(ns, pod["serviceAccountName"])};
  for (const json& arg : pod["containers"][0]["args"]) {
    if (arg.get<std::string>().rfind("--ops-addr=", 0) != 0) args.push_back(arg);
  }
  auto op = std::make_unique<OperatorProcess>(args);
  EXPECT_TRUE(WaitFor([&] { return op->Get("/readyz").first == 200; }, kDeadline)) << op->Log();
  return op;
}

// Marks the game's Pods Running and Ready through the status subresource (no kubelet here).
void MarkGamePodsReady(const std::string& ns, const std::string& instance) {
  const auto pods = Get(ns, "pods");
  ASSERT_TRUE(pods);
  for (const json& pod : (*pods)["items"]) {
    const json& labels = pod["metadata"]["labels"];
    if (labels.value("app.kubernetes.io/name", "") != "holomush" ||
        labels.value("app.kubernetes.io/instance", "") != instance) {
      continue;
    }
    const CommandResult r = Kubectl(
        {"patch", "-n", ns, "pod", pod["metadata"]["name"].get<std::string>(),
         "--subresource=status", "--type=merge", "-p",
         R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})"});
    ASSERT_TRUE(r.Ok()) << r.err;
  }
}

// NOTES.txt's commands (its lines starting `  kubectl`, `  helm` or `  echo`) run as a user
// would paste them, with the cluster's kubectl and helm first on PATH; returns how many ran.
// Two need a kubelet (logs, port-forward): for those the object they name must exist.
// `helm test` has a test of its own.
int RunNotesCommands(const std::string& release, const std::string& ns) {
  const CommandResult notes = Helm({"get", "notes", release, "-n", ns});
  EXPECT_TRUE(notes.Ok()) << notes.err;
  const fs::path bin =
      fs::temp_directory_path() / ("holomush-chart-bin-" + std::to_string(::getpid()));
  fs::remove_all(bin);
  fs::create_directories(bin);
  fs::create_symlink(Kube().kubectl, bin / "kubectl");
  fs::create_symlink(Kube().helm, bin / "helm");
  const char* path = std::getenv("PATH");
  const std::string env_path = "PATH=" + bin.string() + ":" + (path ? path : "/usr/bin:/bin");
  static const std::regex kCommand(R"(^  ((kubectl|helm|echo) .*)$)");
  static const std::regex kNeedsKubelet(R"(-n (\S+) (logs|port-forward) (\S+/\S+))");
  int ran = 0;
  for (const std::string& line : Lines(notes.out)) {
    std::smatch m;
    if (!std::regex_match(line, m, kCommand)) continue;
    const std::string command = m[1];
    if (std::regex_search(command, m, kNeedsKubelet)) {
      EXPECT_TRUE(Exists(m[1], m[3])) << command;
      continue;
    }
    if (command.rfind("helm", 0) == 0 && command.find(" test ") != std::string::npos) continue;
    const CommandResult r =
        RunCommand({"env", env_path, "KUBECONFIG=" + Kube().kubeconfig, "bash", "-c", command});
    EXPECT_TRUE(r.Ok()) << command << "\n" << r.err << r.out;
    ++ran;
  }
  fs::remove_all(bin);
  return ran;
}

// ---- one release through install, use, upgrade and uninstall --------------------------

class ChartInstallTest : public ::testing::Test {
 protected:
  static constexpr const char* kRelease = "hm";
  static constexpr const char* kOperator = "hm-holomush-operator";
  static constexpr const char* kGame = "hm";

  static void SetUpTestSuite() { ns_ = std::make_unique<ScopedNamespace>("helm-install"); }
  static void TearDownTestSuite() {
    op_.reset();
    Helm({"uninstall", kRelease, "-n", Ns(), "--wait=false"});
    Kubectl({"delete", "-n", Ns(), "holomush", "--all", "--wait=false"});
    for (const char* role : {"hm-holomush-operator", "hm-holomush-edit", "hm-holomush-view"}) {
      Kubectl({"delete", "clusterrole", role, "--ignore-not-found"});
    }
    Kubectl({"delete", "clusterrolebinding", "hm-holomush-operator", "--ignore-not-found"});
    ns_.reset();
  }
  static const std::string& Ns() { return ns_->Name(); }
  static std::string User() { return "system:serviceaccount:" + Ns() + ":" + kOperator; }
  static std::string Chart() { return ChartDir(); }

  static inline std::unique_ptr<ScopedNamespace> ns_;
  // The operator, run with the chart's ServiceAccount, kept from the reconcile test through
  // the upgrade.
  static inline std::unique_ptr<OperatorProcess> op_;
  static inline std::string crd_resource_version_;
};

TEST_F(ChartInstallTest, InstallCreatesTheCrdTheOperatorAndTheInstance) {
  const bool crd_before = Exists("", "crd/" + std::string(kCrd));
  const CommandResult installed =
      Helm({"install", kRelease, Chart(), "-n", Ns(), "--set", "instance.enabled=true"});
  ASSERT_TRUE(installed.Ok()) << installed.err;
  EXPECT_NE(installed.out.find("STATUS: deployed"), std::string::npos) << installed.out;
  if (crd_before) std::cout << "[ note ] the CRD existed before this install (shared cluster)\n";

  const CommandResult established =
      Kubectl({"wait", "--for=condition=Established", "crd/" + std::string(kCrd), "--timeout=60s"});
  EXPECT_TRUE(established.Ok()) << established.err;
  const auto crd = Get("", "crd/" + std::string(kCrd));
  ASSERT_TRUE(crd);
  crd_resource_version_ = (*crd)["metadata"]["resourceVersion"];

  const auto deployment = Get(Ns(), std::string("deployment/") + kOperator);
  ASSERT_TRUE(deployment);
  EXPECT_EQ((*deployment)["spec"]["replicas"], 2);
  // The controllers accept it: two Pods, Pending for want of a kubelet.
  std::vector<std::string> phases;
  EXPECT_TRUE(WaitFor(
      [&] {
        phases =
            Lines(Kubectl({"get", "pods", "-n", Ns(), "-l",
                           "app.kubernetes.io/component=operator,app.kubernetes.io/instance=hm",
                           "-o=jsonpath={range .items[*]}{.status.phase}{\"\\n\"}{end}"})
                      .out);
        return phases == std::vector<std::string>{"Pending", "Pending"};
      },
      kDeadline))
      << ::testing::PrintToString(phases);

  for (const std::string what :
       {"serviceaccount/hm-holomush-operator", "service/hm-holomush-operator",
        "servicemonitor/hm-holomush-operator", "prometheusrule/hm-holomush-operator",
        "pdb/hm-holomush-operator", "role/hm-holomush-operator-leader-election",
        "rolebinding/hm-holomush-operator-leader-election", "holomush/hm"}) {
    EXPECT_TRUE(Exists(Ns(), what)) << what;
  }
  for (const std::string what :
       {"clusterrole/hm-holomush-operator", "clusterrolebinding/hm-holomush-operator",
        "clusterrole/hm-holomush-edit", "clusterrole/hm-holomush-view"}) {
    EXPECT_TRUE(Exists("", what)) << what;
  }
}

TEST_F(ChartInstallTest, ServiceAccountIsRefusedWhatTheOperatorNeverDoes) {
  struct Case {
    std::vector<std::string> what;
    std::string answer;
  };
  const std::string ns = Ns();
  const std::vector<Case> cases = {
      // Cluster administration.
      {{"delete", "namespaces"}, "no"},
      {{"create", "namespaces"}, "no"},
      {{"list", "nodes"}, "no"},
      {{"create", "customresourcedefinitions.apiextensions.k8s.io"}, "no"},
      {{"patch", "customresourcedefinitions.apiextensions.k8s.io"}, "no"},
      // No way to more rights.
      {{"create", "clusterroles.rbac.authorization.k8s.io"}, "no"},
      {{"bind", "clusterroles.rbac.authorization.k8s.io"}, "no"},
      {{"escalate", "clusterroles.rbac.authorization.k8s.io"}, "no"},
      {{"create", "rolebindings.rbac.authorization.k8s.io", "-n", ns}, "no"},
      {{"impersonate", "users"}, "no"},
      {{"impersonate", "serviceaccounts", "-n", ns}, "no"},
      {{"create", "serviceaccounts/token", "-n", ns}, "no"},
      {{"create", "pods", "-n", ns}, "no"},
      {{"create", "pods/exec", "-n", ns}, "no"},
      {{"patch", "nodes"}, "no"},
      // The games themselves belong to their owners; data is never deleted.
      {{"update", "holomushes.holomush.io", "-n", ns}, "no"},
      {{"delete", "holomushes.holomush.io", "-n", ns}, "no"},
      {{"create", "holomushes.holomush.io", "-n", ns}, "no"},
      {{"delete", "persistentvolumeclaims", "-n", ns}, "no"},
      {{"delete", "jobs.batch", "-n", ns}, "no"},
      {{"update", "deployments.apps", "-n", ns}, "no"},
      {{"update", "secrets", "-n", ns}, "no"},
      // Leases only in its own namespace.
      {{"update", "leases.coordination.k8s.io", "-n", "kube-system"}, "no"},
      {{"delete", "leases.coordination.k8s.io", "-n", ns}, "no"},
      // And what it does need (so a "no" above is not a broken impersonation).
      {{"update", "leases.coordination.k8s.io", "-n", ns}, "yes"},
      {{"patch", "deployments.apps", "-n", "default"}, "yes"},
      {{"patch", "holomushes.holomush.io", "--subresource=status", "-n", ns}, "yes"},
      {{"create", "events.events.k8s.io", "-n", ns}, "yes"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CanI(User(), c.what), c.answer) << ::testing::PrintToString(c.what);
  }
}

TEST_F(ChartInstallTest, OperatorWithTheChartsTokenReconcilesTheInstance) {
  op_ = StartOperatorAsTheChartsPod(Ns(), kOperator);
  ASSERT_TRUE(op_);
  ASSERT_TRUE(WaitFor([&] { return op_->Metric("holomush_operator_leader") == 1; }, kDeadline))
      << op_->Log();
  for (const std::string child :
       {"secret/hm-tls", "configmap/hm-config", "deployment/hm-core", "deployment/hm-gateway",
        "service/hm-core", "service/hm-gateway", "statefulset/hm-postgres", "secret/hm-postgres",
        "pdb/hm-core", "cronjob/hm-backup", "pvc/hm-backup", "servicemonitor/hm-core",
        "prometheusrule/hm"}) {
    EXPECT_TRUE(WaitFor([&] { return Exists(Ns(), child); }, kDeadline)) << child << "\n"
                                                                         << op_->Log();
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        const auto pods = Get(Ns(), "pods");
        int game = 0;
        for (const json& p : (*pods)["items"]) {
          game += p["metadata"]["labels"].value("app.kubernetes.io/instance", "") == kGame &&
                  p["metadata"]["labels"].value("app.kubernetes.io/name", "") == "holomush";
        }
        return game >= 2;
      },
      kDeadline));
  EXPECT_TRUE(WaitFor(
      [&] {
        MarkGamePodsReady(Ns(), kGame);
        const auto hm = Get(Ns(), "holomush/hm");
        return hm && Condition(*hm, "Ready") == "True";
      },
      kDeadline))
      << Get(Ns(), "holomush/hm")->dump() << "\n"
      << op_->Log();
  // The Lease lives where the chart's Role allows it, under the chart's name.
  const auto lease = Get(Ns(), std::string("lease/") + kOperator);
  ASSERT_TRUE(lease);
  EXPECT_FALSE((*lease)["spec"].value("holderIdentity", "").empty());
  EXPECT_EQ(op_->Count("holomush_operator_api_requests_total", {{"code", "403"}}), 0) << op_->Log();
  EXPECT_EQ(op_->Metric("holomush_operator_reconcile_errors_total"), 0) << op_->Log();
}

TEST_F(ChartInstallTest, NotesCommandsWork) { EXPECT_GE(RunNotesCommands(kRelease, Ns()), 8); }

// `helm test` creates the hook Pod; with no kubelet the test plays one: it checks the Pod
// mounts the cli certificate from the Secret the operator made, then reports the container's
// exit as a kubelet would.
TEST_F(ChartInstallTest, HelmTestRunsHolomushStatusWithTheCliCertificate) {
  auto run = std::async(std::launch::async, [&] {
    return Helm({"test", kRelease, "-n", Ns(), "--timeout=90s"});
  });
  const std::string pod_name = "hm-holomush-test-status";
  std::optional<json> pod;
  ASSERT_TRUE(WaitFor([&] { return (pod = Get(Ns(), "pod/" + pod_name)).has_value(); }, kDeadline));
  const json& volume = (*pod)["spec"]["volumes"][0]["secret"];
  const auto secret = Get(Ns(), "secret/" + volume["secretName"].get<std::string>());
  ASSERT_TRUE(secret) << volume;
  for (const json& item : volume["items"]) {
    EXPECT_TRUE((*secret)["data"].contains(item["key"].get<std::string>())) << item;
  }
  EXPECT_EQ((*pod)["spec"]["containers"][0]["args"][0], "status");
  // The Services the status command dials exist and carry the ports it uses.
  const auto core = Get(Ns(), "service/hm-core");
  const auto gateway = Get(Ns(), "service/hm-gateway-internal");
  ASSERT_TRUE(core && gateway);
  EXPECT_EQ((*core)["spec"]["ports"][0]["port"], 9000);
  bool control = false;
  for (const json& p : (*gateway)["spec"]["ports"]) control = control || p["port"] == 9002;
  EXPECT_TRUE(control);

  const CommandResult done = Kubectl({"patch", "-n", Ns(), "pod", pod_name, "--subresource=status",
                                      "--type=merge", "-p", R"({"status":{"phase":"Succeeded"}})"});
  ASSERT_TRUE(done.Ok()) << done.err;
  const CommandResult tested = run.get();
  EXPECT_TRUE(tested.Ok()) << tested.err << tested.out;
  EXPECT_NE(tested.out.find("Phase:          Succeeded"), std::string::npos) << tested.out;
}

TEST_F(ChartInstallTest, UpgradeFollowsChangedValuesAndLeavesTheCrdAlone) {
  ASSERT_TRUE(op_) << "needs the operator from OperatorWithTheChartsTokenReconcilesTheInstance";
  const CommandResult upgraded =
      Helm({"upgrade", kRelease, Chart(), "-n", Ns(), "--set", "instance.enabled=true", "--set",
            "instance.spec.core.replicas=2", "--set", "instance.spec.backup.enabled=false", "--set",
            "operator.replicas=3", "--set", "operator.logLevel=debug", "--set",
            "monitoring.serviceMonitor.labels.release=kube-prometheus-stack", "--set",
            "rbac.aggregateToDefaultRoles=false"});
  ASSERT_TRUE(upgraded.Ok()) << upgraded.err;
  EXPECT_NE(upgraded.out.find("REVISION: 2"), std::string::npos) << upgraded.out;

  const auto d = Get(Ns(), std::string("deployment/") + kOperator);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["spec"]["replicas"], 3);
  const json& args = (*d)["spec"]["template"]["spec"]["containers"][0]["args"];
  EXPECT_NE(std::find(args.begin(), args.end(), "--log-level=debug"), args.end()) << args;
  const auto sm = Get(Ns(), std::string("servicemonitor/") + kOperator);
  ASSERT_TRUE(sm);
  EXPECT_EQ((*sm)["metadata"]["labels"]["release"], "kube-prometheus-stack");
  EXPECT_TRUE(WaitFor([&] { return !Exists("", "clusterrole/hm-holomush-edit"); }, kDeadline));
  EXPECT_FALSE(Exists("", "clusterrole/hm-holomush-view"));

  // The instance's new spec reaches the game through the operator: scale, and a child
  // turned off is deleted (the delete verb of the chart's RBAC).
  EXPECT_TRUE(WaitFor(
      [&] {
        const auto core = Get(Ns(), "deployment/hm-core");
        return core && (*core)["spec"]["replicas"] == 2;
      },
      kDeadline))
      << op_->Log();
  EXPECT_TRUE(WaitFor([&] { return !Exists(Ns(), "cronjob/hm-backup"); }, kDeadline)) << op_->Log();
  EXPECT_EQ(op_->Count("holomush_operator_api_requests_total", {{"code", "403"}}), 0) << op_->Log();

  // crds/ is installed once and never upgraded by helm (docs/design/chart.md).
  const auto crd = Get("", "crd/" + std::string(kCrd));
  ASSERT_TRUE(crd);
  EXPECT_EQ((*crd)["metadata"]["resourceVersion"], crd_resource_version_);
}

TEST_F(ChartInstallTest, UninstallRemovesTheOperatorAndKeepsTheCrdAndTheGame) {
  if (op_) {
    EXPECT_EQ(op_->Stop(), 0) << op_->Log();
  }
  op_.reset();
  const CommandResult uninstalled = Helm({"uninstall", kRelease, "-n", Ns(), "--wait"});
  ASSERT_TRUE(uninstalled.Ok()) << uninstalled.err;
  EXPECT_NE(uninstalled.out.find("These resources were kept due to the resource policy"),
            std::string::npos)
      << uninstalled.out;

  for (const std::string gone :
       {"deployment/hm-holomush-operator", "serviceaccount/hm-holomush-operator",
        "service/hm-holomush-operator", "servicemonitor/hm-holomush-operator",
        "prometheusrule/hm-holomush-operator", "pdb/hm-holomush-operator",
        "role/hm-holomush-operator-leader-election",
        "rolebinding/hm-holomush-operator-leader-election"}) {
    EXPECT_TRUE(WaitFor([&] { return !Exists(Ns(), gone); }, kDeadline)) << gone;
  }
  EXPECT_FALSE(Exists("", "clusterrole/hm-holomush-operator"));
  EXPECT_FALSE(Exists("", "clusterrolebinding/hm-holomush-operator"));

  // Kept: the CRD, the game and everything it owns.
  EXPECT_TRUE(Exists("", "crd/" + std::string(kCrd)));
  for (const std::string kept :
       {"holomush/hm", "deployment/hm-core", "secret/hm-tls", "statefulset/hm-postgres"}) {
    EXPECT_TRUE(Exists(Ns(), kept)) << kept;
  }

  // Installing the same release again adopts the kept game instead of failing.
  const CommandResult again =
      Helm({"install", kRelease, Chart(), "-n", Ns(), "--set", "instance.enabled=true"});
  EXPECT_TRUE(again.Ok()) << again.err;
  const auto hm = Get(Ns(), "holomush/hm");
  ASSERT_TRUE(hm);
  EXPECT_EQ((*hm)["metadata"]["annotations"]["meta.helm.sh/release-name"], kRelease);
}

// ---- an operator confined to one namespace ---------------------------------------------

TEST(ChartNamespacedTest, OperatorWatchingOneNamespaceReachesOnlyThatNamespace) {
  const ScopedNamespace home("helm-solo");
  const ScopedNamespace games("helm-solo-games");
  const ScopedNamespace elsewhere("helm-solo-other");
  struct Cleanup {
    std::string ns;
    ~Cleanup() {
      Helm({"uninstall", "solo", "-n", ns, "--wait=false"});
      Kubectl({"delete", "clusterrole", "solo-holomush-operator", "--ignore-not-found"});
    }
  } cleanup{home.Name()};
  const CommandResult installed = Helm({"install", "solo", ChartDir(), "-n", home.Name(), "-f",
                                        ChartDir() + "/ci/namespaced-values.yaml", "--set",
                                        "operator.watchNamespace=" + games.Name()});
  ASSERT_TRUE(installed.Ok()) << installed.err;
  EXPECT_FALSE(Exists("", "clusterrolebinding/solo-holomush-operator"));

  const std::string user = "system:serviceaccount:" + home.Name() + ":solo-holomush-operator";
  EXPECT_EQ(CanI(user, {"get", "secrets", "-n", games.Name()}), "yes");
  EXPECT_EQ(CanI(user, {"patch", "deployments.apps", "-n", games.Name()}), "yes");
  EXPECT_EQ(CanI(user, {"get", "secrets", "-n", elsewhere.Name()}), "no");
  EXPECT_EQ(CanI(user, {"get", "secrets", "-n", home.Name()}), "no");
  EXPECT_EQ(CanI(user, {"list", "secrets", "--all-namespaces"}), "no");
  EXPECT_EQ(CanI(user, {"patch", "deployments.apps", "-n", elsewhere.Name()}), "no");
  EXPECT_EQ(CanI(user, {"list", "holomushes.holomush.io", "--all-namespaces"}), "no");

  // The operator, with the Deployment's --namespace and no leader election, runs a game in
  // the watched namespace with nothing refused.
  auto op = StartOperatorAsTheChartsPod(home.Name(), "solo-holomush-operator");
  ASSERT_TRUE(op);
  const CommandResult game =
      Kubectl({"apply", "-n", games.Name(), "-f", "-"},
              "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata:\n  name: solo\nspec:\n"
              "  image: holomush:test\n  database:\n    existingSecret:\n      name: db\n");
  ASSERT_TRUE(game.Ok()) << game.err;
  for (const std::string child :
       {"deployment/solo-core", "secret/solo-tls", "cronjob/solo-backup"}) {
    EXPECT_TRUE(WaitFor([&] { return Exists(games.Name(), child); }, kDeadline)) << child << "\n"
                                                                                 << op->Log();
  }
  EXPECT_EQ(op->Count("holomush_operator_api_requests_total", {{"code", "403"}}), 0) << op->Log();
  EXPECT_EQ(op->Metric("holomush_operator_leader"), 1) << "without election it always leads";
  // NOTES.txt's example game goes to the watched namespace, and the operator takes it up.
  EXPECT_GE(RunNotesCommands("solo", home.Name()), 6);
  EXPECT_TRUE(WaitFor([&] { return Exists(games.Name(), "deployment/game-core"); }, kDeadline))
      << op->Log();
  Kubectl({"delete", "-n", games.Name(), "holomush/solo", "--wait=false"});
}

// ---- every ci/ value set against the API server -----------------------------------------

class ChartDryRunTest : public ::testing::Test {
 protected:
  // The CRD as the chart ships it, so HoloMUSH objects are checked too.
  static void SetUpTestSuite() {
    const CommandResult crd =
        Kubectl({"apply", "--server-side", "-f", ChartDir() + "/crds/holomush.io_holomushes.yaml"});
    ASSERT_TRUE(crd.Ok()) << crd.err;
    ASSERT_TRUE(Kubectl({"wait", "--for=condition=Established", "crd/" + std::string(kCrd),
                         "--timeout=60s"})
                    .Ok());
  }
};

TEST_F(ChartDryRunTest, EveryCiValueSetPassesServerSideDryRun) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(ChartDir() + "/ci")) {
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 4U);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const ScopedNamespace ns("helm-dry-run");
    // A watched namespace named in the values must exist for its RoleBinding.
    std::optional<ScopedNamespace> watched;
    const json values = LoadYamlFile(file);
    std::vector<std::string> extra;
    if (values.is_object() && values.contains("operator") &&
        values["operator"].contains("watchNamespace")) {
      watched.emplace("helm-dry-run-watched");
      extra = {"--set", "operator.watchNamespace=" + watched->Name()};
    }
    std::vector<std::string> args = {"template",
                                     "rel",
                                     ChartDir(),
                                     "-n",
                                     ns.Name(),
                                     "-f",
                                     file,
                                     "--api-versions",
                                     "monitoring.coreos.com/v1"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult rendered = Helm(args);
    ASSERT_TRUE(rendered.Ok()) << rendered.err;
    const size_t objects = ParseYamlDocuments(rendered.out).size();
    // No -n: every namespaced object names its namespace (the watched one included).
    const CommandResult applied = Kubectl({"apply", "--dry-run=server", "-f", "-"}, rendered.out);
    EXPECT_TRUE(applied.Ok()) << applied.err;
    const auto lines = Lines(applied.out);
    EXPECT_EQ(lines.size(), objects) << applied.out;
    for (const std::string& line : lines) {
      EXPECT_NE(line.find("(server dry run)"), std::string::npos) << line;
    }
  }
}

TEST_F(ChartDryRunTest, ApiServerRefusesAnInstanceTheSchemaCannotJudge) {
  // Cross-field rules are CEL in the CRD; values.schema.json leaves them to the API server,
  // which names the problem. Here: the default managed database plus an existing Secret.
  const ScopedNamespace ns("helm-dry-run-cel");
  const CommandResult rendered =
      Helm({"template", "rel", ChartDir(), "-n", ns.Name(), "--set", "instance.enabled=true",
            "--set", "instance.spec.database.existingSecret.name=db"});
  ASSERT_TRUE(rendered.Ok()) << rendered.err;
  const CommandResult applied = Kubectl({"apply", "--dry-run=server", "-f", "-"}, rendered.out);
  EXPECT_FALSE(applied.Ok());
  EXPECT_NE(applied.err.find("set exactly one of database.existingSecret or database.managed"),
            std::string::npos)
      << applied.err;
}

}  // namespace
}  // namespace holomush::testing
