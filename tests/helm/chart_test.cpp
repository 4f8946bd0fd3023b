// The chart without a cluster: lint, rendering of every ci/ value set, the values schema,
// and the copies the chart keeps of k8s-operator/config and alerts/ (one truth each).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "chart_support.hpp"
#include "kube_env.hpp"

namespace holomush::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMonitoringApi = "monitoring.coreos.com/v1";

CommandResult HelmCommand(std::vector<std::string> args) {
  args.insert(args.begin(), HelmBinary());
  return RunCommand(args);
}

// `helm template` of the chart as release `rel` in namespace `holomush`, with the monitoring
// API present unless `monitoring_api` is false.
CommandResult Template(const std::vector<std::string>& extra, bool monitoring_api = true,
                       const std::string& release = "rel") {
  std::vector<std::string> args = {"template", release, ChartDir(), "--namespace", "holomush"};
  if (monitoring_api) {
    args.push_back("--api-versions");
    args.push_back(kMonitoringApi);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return HelmCommand(args);
}

std::vector<json> Render(const std::vector<std::string>& extra, bool monitoring_api = true) {
  const CommandResult rendered = Template(extra, monitoring_api);
  EXPECT_TRUE(rendered.Ok()) << rendered.err;
  return rendered.Ok() ? ParseYamlDocuments(rendered.out) : std::vector<json>{};
}

std::vector<std::string> CiValueFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(ChartDir() + "/ci")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

json Container(const json& deployment) {
  return deployment["spec"]["template"]["spec"]["containers"][0];
}

bool HasArg(const json& container, const std::string& arg) {
  for (const json& a : container["args"]) {
    if (a == arg) return true;
  }
  return false;
}

TEST(ChartLintTest, StrictLintPassesWithDefaultsAndEveryCiValueSet) {
  const CommandResult lint = HelmCommand({"lint", "--strict", ChartDir()});
  EXPECT_TRUE(lint.Ok()) << lint.out << lint.err;
  const auto files = CiValueFiles();
  ASSERT_GE(files.size(), 4U);
  for (const std::string& file : files) {
    const CommandResult with_values = HelmCommand({"lint", "--strict", ChartDir(), "-f", file});
    EXPECT_TRUE(with_values.Ok()) << file << "\n" << with_values.out << with_values.err;
  }
}

TEST(ChartTemplateTest, EveryCiValueSetRendersLabelledObjectsWithStableSelectors) {
  for (const std::string& file : CiValueFiles()) {
    SCOPED_TRACE(file);
    const std::vector<json> objects = Render({"-f", file});
    ASSERT_FALSE(objects.empty());
    for (const json& object : objects) {
      const std::string what =
          object.value("kind", "?") + "/" + object["metadata"].value("name", "?");
      const json& labels = object["metadata"]["labels"];
      EXPECT_EQ(labels.value("app.kubernetes.io/managed-by", ""), "Helm") << what;
      EXPECT_EQ(labels.value("app.kubernetes.io/part-of", ""), "holomush") << what;
      EXPECT_EQ(labels.value("helm.sh/chart", ""), "holomush-0.1.0") << what;
      EXPECT_FALSE(labels.value("app.kubernetes.io/name", "").empty()) << what;
      EXPECT_EQ(labels.value("app.kubernetes.io/instance", ""), "rel") << what;
    }
    // Selectors are immutable: nothing in them may change between chart releases.
    std::vector<std::pair<std::string, json>> selectors;
    for (const char* kind : {"Deployment", "PodDisruptionBudget", "ServiceMonitor"}) {
      for (const json& o : ObjectsOfKind(objects, kind)) {
        selectors.emplace_back(kind, o["spec"]["selector"]["matchLabels"]);
      }
    }
    for (const json& o : ObjectsOfKind(objects, "Service")) {
      selectors.emplace_back("Service", o["spec"]["selector"]);
    }
    for (const auto& [kind, selector] : selectors) {
      EXPECT_EQ(selector, (json{{"app.kubernetes.io/name", "holomush-operator"},
                                {"app.kubernetes.io/instance", "rel"},
                                {"app.kubernetes.io/component", "operator"}}))
          << kind;
    }
    for (const json& d : ObjectsOfKind(objects, "Deployment")) {
      const json& pod_labels = d["spec"]["template"]["metadata"]["labels"];
      EXPECT_FALSE(pod_labels.contains("helm.sh/chart"))
          << "a chart bump alone would roll the Pods";
      for (const auto& [key, value] : d["spec"]["selector"]["matchLabels"].items()) {
        EXPECT_EQ(pod_labels.value(key, ""), value) << key;
      }
    }
  }
}

TEST(ChartTemplateTest, DefaultsRunTwoLeaderElectedNonRootOperatorsWithProbes) {
  const std::vector<json> objects = Render({});
  const auto deployment = FindObject(objects, "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(deployment);
  EXPECT_EQ((*deployment)["spec"]["replicas"], 2);
  const json pod = (*deployment)["spec"]["template"]["spec"];
  EXPECT_EQ(pod["serviceAccountName"], "rel-holomush-operator");
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  const json c = Container(*deployment);
  EXPECT_EQ(c["image"], "ghcr.io/holomush/holomush-operator:0.1.0");
  EXPECT_TRUE(HasArg(c, "--leader-elect=true")) << c["args"];
  EXPECT_TRUE(HasArg(c, "--ops-addr=0.0.0.0:8081")) << c["args"];
  EXPECT_EQ(c["ports"][0]["containerPort"], 8081);
  EXPECT_EQ(c["ports"][0]["name"], "ops");
  EXPECT_EQ(c["livenessProbe"]["httpGet"], (json{{"path", "/healthz"}, {"port", "ops"}}));
  EXPECT_EQ(c["readinessProbe"]["httpGet"], (json{{"path", "/readyz"}, {"port", "ops"}}));
  EXPECT_FALSE(c["resources"]["requests"].empty());
  EXPECT_FALSE(c["resources"]["limits"].empty());
  EXPECT_EQ(c["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], json::array({"ALL"}));
  EXPECT_TRUE(FindObject(objects, "PodDisruptionBudget", "rel-holomush-operator"));
  EXPECT_TRUE(FindObject(objects, "ServiceAccount", "rel-holomush-operator"));
  EXPECT_TRUE(FindObject(objects, "ClusterRoleBinding", "rel-holomush-operator"));
  EXPECT_FALSE(FindObject(objects, "HoloMUSH", "rel")) << "the instance is off by default";
  EXPECT_FALSE(FindObject(objects, "Pod", "rel-holomush-test-status"));
}

// Two replicas prefer different nodes, unless the user says where the operator goes.
TEST(ChartTemplateTest, ReplicasPreferDifferentNodesUnlessTheValuesGiveAnAffinity) {
  auto d = FindObject(Render({}), "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(d);
  const json& spread = (*d)["spec"]["template"]["spec"]["affinity"];
  const json& terms = spread["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"];
  ASSERT_EQ(terms.size(), 1u) << spread;
  EXPECT_EQ(terms[0]["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
  EXPECT_EQ(terms[0]["podAffinityTerm"]["labelSelector"]["matchLabels"],
            (*d)["spec"]["selector"]["matchLabels"]);
  EXPECT_FALSE(spread.contains("podAffinity") || spread.contains("nodeAffinity")) << spread;

  const json mine = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {{"nodeSelectorTerms",
           json::array({{{"matchExpressions", json::array({{{"key", "pool"},
                                                            {"operator", "In"},
                                                            {"values", {"ops"}}}})}}})}}}}}};
  d = FindObject(Render({"--set-json", "operator.affinity=" + mine.dump()}), "Deployment",
                 "rel-holomush-operator");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["affinity"], mine);
}

// The CRD is in crds/, not a template: helm installs it first, never upgrades or deletes it,
// and `helm install --skip-crds` leaves out exactly that directory, for clusters that manage
// CRDs themselves. A templated CRD would be rendered without --include-crds.
TEST(ChartTemplateTest, TheCrdComesFromTheCrdsDirectoryNotATemplate) {
  auto crds = [](const std::vector<json>& objects) {
    int n = 0;
    for (const json& o : objects) n += o.value("kind", "") == "CustomResourceDefinition";
    return n;
  };
  EXPECT_EQ(crds(Render({})), 0);
  EXPECT_EQ(crds(Render({"--include-crds"})), 1);
  EXPECT_TRUE(fs::exists(ChartDir() + "/crds/holomush.io_holomushes.yaml"));
}

TEST(ChartTemplateTest, ImageDigestWinsOverTagAndTagDefaultsToAppVersion) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto objects =
      Render({"--set", "operator.image.digest=" + digest, "--set", "operator.image.tag=9.9.9"});
  auto d = FindObject(objects, "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(d);
  EXPECT_EQ(Container(*d)["image"], "ghcr.io/holomush/holomush-operator@" + digest);
  objects = Render({"--set", "operator.image.tag=9.9.9"});
  d = FindObject(objects, "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(d);
  EXPECT_EQ(Container(*d)["image"], "ghcr.io/holomush/holomush-operator:9.9.9");

  // The chart's appVersion is the project's version, and the instance image defaults to it.
  const std::string cmake = ReadFile(SourceDir() + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(holomush VERSION ([0-9.]+))")));
  const json chart = LoadYamlFile(ChartDir() + "/Chart.yaml");
  EXPECT_EQ(chart["appVersion"], m[1].str());
  const json values = LoadYamlFile(ChartDir() + "/values.yaml");
  EXPECT_EQ(values["instance"]["spec"]["image"], "ghcr.io/holomush/holomush:" + m[1].str());
}

TEST(ChartTemplateTest, WatchNamespaceGrantsTheClusterRoleInThatNamespaceOnly) {
  const auto objects = Render({"-f", ChartDir() + "/ci/namespaced-values.yaml"});
  EXPECT_FALSE(FindObject(objects, "ClusterRoleBinding", "rel-holomush-operator"));
  const auto binding = FindObject(objects, "RoleBinding", "rel-holomush-operator");
  ASSERT_TRUE(binding);
  EXPECT_EQ((*binding)["metadata"]["namespace"], "holomush-games");
  EXPECT_EQ((*binding)["roleRef"]["kind"], "ClusterRole");
  EXPECT_EQ((*binding)["subjects"][0]["namespace"], "holomush");
  const auto d = FindObject(objects, "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(d);
  EXPECT_TRUE(HasArg(Container(*d), "--namespace=holomush-games"));
  EXPECT_TRUE(HasArg(Container(*d), "--leader-elect=false"));
  EXPECT_FALSE(FindObject(objects, "PodDisruptionBudget", "rel-holomush-operator"));
}

// ---- one truth: RBAC, CRD and alert rules --------------------------------------------

std::set<std::string> ConfigPermissions(const std::string& file, const std::string& kind) {
  for (const json& doc :
       ParseYamlDocuments(ReadFile(SourceDir() + "/k8s-operator/config/rbac/" + file))) {
    if (doc.value("kind", "") == kind) return Permissions(doc["rules"]);
  }
  ADD_FAILURE() << "no " << kind << " in k8s-operator/config/rbac/" << file;
  return {};
}

// What the chart grants beyond config/rbac ("+") and what it lacks ("-").
std::vector<std::string> Difference(const std::set<std::string>& chart,
                                    const std::set<std::string>& config) {
  std::vector<std::string> out;
  for (const auto& p : chart) {
    if (!config.count(p)) out.push_back("+" + p);
  }
  for (const auto& p : config) {
    if (!chart.count(p)) out.push_back("-" + p);
  }
  return out;
}

std::vector<std::string> RbacDifferences(const std::vector<json>& objects) {
  const auto cluster_role = FindObject(objects, "ClusterRole", "rel-holomush-operator");
  const auto election = FindObject(objects, "Role", "rel-holomush-operator-leader-election");
  if (!cluster_role || !election) return {"chart renders no operator ClusterRole or Role"};
  auto diff = Difference(Permissions((*cluster_role)["rules"]),
                         ConfigPermissions("role.yaml", "ClusterRole"));
  for (const auto& d : Difference(Permissions((*election)["rules"]),
                                  ConfigPermissions("leader_election_role.yaml", "Role"))) {
    diff.push_back("leader election: " + d);
  }
  return diff;
}

TEST(ChartRbacTest, RulesGrantExactlyWhatConfigRbacGrants) {
  const auto objects = Render({});
  EXPECT_EQ(RbacDifferences(objects), std::vector<std::string>{});
  // The bindings give those rules to the chart's ServiceAccount.
  const auto binding = FindObject(objects, "ClusterRoleBinding", "rel-holomush-operator");
  ASSERT_TRUE(binding);
  EXPECT_EQ((*binding)["roleRef"]["name"], "rel-holomush-operator");
  EXPECT_EQ((*binding)["subjects"], json::array({{{"kind", "ServiceAccount"},
                                                  {"name", "rel-holomush-operator"},
                                                  {"namespace", "holomush"}}}));
  const auto election = FindObject(objects, "RoleBinding", "rel-holomush-operator-leader-election");
  ASSERT_TRUE(election);
  EXPECT_EQ((*election)["roleRef"]["name"], "rel-holomush-operator-leader-election");
  EXPECT_EQ((*election)["subjects"][0]["name"], "rel-holomush-operator");
}

TEST(ChartRbacTest, ComparisonCatchesOneVerbMore) {
  // A copy of the chart that also grants deletecollection on PVCs must be caught.
  const fs::path copy =
      fs::temp_directory_path() / ("holomush-chart-" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::copy(ChartDir(), copy, fs::copy_options::recursive);
  const fs::path rbac = copy / "templates/rbac.yaml";
  std::string text = ReadFile(rbac.string());
  const std::string pvc = "resources: [persistentvolumeclaims]\n    verbs: [";
  const auto at = text.find(pvc);
  ASSERT_NE(at, std::string::npos) << "the PVC rule moved; update this test";
  text.insert(at + pvc.size(), "deletecollection, ");
  std::ofstream(rbac) << text;
  const CommandResult rendered =
      HelmCommand({"template", "rel", copy.string(), "--namespace", "holomush"});
  fs::remove_all(copy);
  ASSERT_TRUE(rendered.Ok()) << rendered.err;
  auto want = RbacDifferences(Render({}));  // empty while the chart and config agree
  want.push_back("+/persistentvolumeclaims:deletecollection");
  auto got = RbacDifferences(ParseYamlDocuments(rendered.out));
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(ChartCopiesTest, CrdIsTheOperatorsCrdByteForByte) {
  const std::string source =
      ReadFile(SourceDir() + "/k8s-operator/config/crd/holomush.io_holomushes.yaml");
  ASSERT_FALSE(source.empty());
  EXPECT_TRUE(ReadFile(ChartDir() + "/crds/holomush.io_holomushes.yaml") == source)
      << "helm/holomush/crds/ is stale: cp k8s-operator/config/crd/holomush.io_holomushes.yaml "
         "helm/holomush/crds/";
}

TEST(ChartCopiesTest, AlertRulesAreAlertsRulesByteForByte) {
  const std::string source = ReadFile(SourceDir() + "/alerts/holomush.rules.yaml");
  ASSERT_FALSE(source.empty());
  EXPECT_TRUE(ReadFile(ChartDir() + "/files/holomush.rules.yaml") == source)
      << "helm/holomush/files/holomush.rules.yaml is stale: cp alerts/holomush.rules.yaml "
         "helm/holomush/files/";
}

json OperatorGroup() {
  const json rules = LoadYamlFile(SourceDir() + "/alerts/holomush.rules.yaml");
  for (const json& group : rules["groups"]) {
    if (group["name"] == "holomush.operator") return group;
  }
  ADD_FAILURE() << "no holomush.operator group in alerts/holomush.rules.yaml";
  return json::object();
}

TEST(ChartMonitoringTest, PrometheusRuleCarriesTheOperatorGroupOfAlerts) {
  const auto objects = Render({});
  const auto rule = FindObject(objects, "PrometheusRule", "rel-holomush-operator");
  ASSERT_TRUE(rule);
  EXPECT_EQ((*rule)["spec"]["groups"], json::array({OperatorGroup()}));
}

TEST(ChartMonitoringTest, RunbookBaseLabelsAndDisabledAlertsApply) {
  const auto objects = Render({"-f", ChartDir() + "/ci/instance-managed-values.yaml"});
  const auto rule = FindObject(objects, "PrometheusRule", "rel-holomush-operator");
  ASSERT_TRUE(rule);
  EXPECT_EQ((*rule)["metadata"]["labels"]["release"], "monitoring");
  std::vector<std::string> alerts;
  for (const json& r : (*rule)["spec"]["groups"][0]["rules"]) {
    alerts.push_back(r["alert"]);
    EXPECT_EQ(r["annotations"]["runbook_url"],
              "https://runbooks.example.com/holomush/" + r["alert"].get<std::string>() + ".md");
  }
  EXPECT_EQ(alerts, (std::vector<std::string>{"OperatorDown", "OperatorNoLeader"}));

  const auto monitor = FindObject(objects, "ServiceMonitor", "rel-holomush-operator");
  ASSERT_TRUE(monitor);
  EXPECT_EQ((*monitor)["metadata"]["labels"]["release"], "monitoring");
  const json& endpoint = (*monitor)["spec"]["endpoints"][0];
  EXPECT_EQ(endpoint["honorLabels"], true);
  EXPECT_EQ(endpoint["port"], "ops");
  EXPECT_EQ(endpoint["interval"], "15s");
  EXPECT_EQ(endpoint["scrapeTimeout"], "10s");
  EXPECT_EQ((*monitor)["spec"]["jobLabel"], "holomush.io/job");
  const auto service = FindObject(objects, "Service", "rel-holomush-operator");
  ASSERT_TRUE(service);
  EXPECT_EQ((*service)["metadata"]["labels"]["holomush.io/job"], "holomush-operator");
  EXPECT_EQ((*service)["spec"]["ports"][0]["targetPort"], "ops");
}

TEST(ChartMonitoringTest, NoMonitoringObjectsWhereTheClusterLacksTheApiOrTheyAreOff) {
  auto objects = Render({}, /*monitoring_api=*/false);
  EXPECT_TRUE(ObjectsOfKind(objects, "ServiceMonitor").empty());
  EXPECT_TRUE(ObjectsOfKind(objects, "PrometheusRule").empty());
  EXPECT_TRUE(FindObject(objects, "Service", "rel-holomush-operator"));
  objects = Render({"-f", ChartDir() + "/ci/minimal-values.yaml"});
  for (const char* kind : {"ServiceMonitor", "PrometheusRule", "Service", "ServiceAccount",
                           "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}) {
    EXPECT_TRUE(ObjectsOfKind(objects, kind).empty()) << kind;
  }
  const auto d = FindObject(objects, "Deployment", "rel-holomush-operator");
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["serviceAccountName"], "holomush-operator");
}

TEST(ChartMonitoringTest, DisabledAlertsAcceptExactlyTheOperatorGroupsAlerts) {
  const json schema = json::parse(ReadFile(ChartDir() + "/values.schema.json"));
  const json allowed = schema["properties"]["monitoring"]["properties"]["prometheusRule"]
                             ["properties"]["disabledAlerts"]["items"]["enum"];
  const json group = OperatorGroup();
  json names = json::array();
  for (const json& r : group["rules"]) names.push_back(r["alert"]);
  EXPECT_EQ(allowed, names);
}

// ---- the instance and its test hook ---------------------------------------------------

TEST(ChartInstanceTest, InstanceIsTheSpecFromValuesKeptOnUninstall) {
  const auto objects = Render({"-f", ChartDir() + "/ci/instance-production-values.yaml"});
  const auto hm = FindObject(objects, "HoloMUSH", "prod");
  ASSERT_TRUE(hm);
  EXPECT_EQ((*hm)["apiVersion"], "holomush.io/v1alpha1");
  EXPECT_EQ((*hm)["metadata"]["namespace"], "holomush");
  EXPECT_EQ((*hm)["metadata"]["annotations"]["helm.sh/resource-policy"], "keep");
  const json values = LoadYamlFile(ChartDir() + "/ci/instance-production-values.yaml");
  json want = values["instance"]["spec"];
  want["database"].erase("managed");  // null in values deletes the chart's default
  EXPECT_EQ((*hm)["spec"], want);
}

TEST(ChartInstanceTest, StatusHookUsesTheInstancesServicesAndOnlyTheCliCertificate) {
  auto objects = Render({"--set", "instance.enabled=true"});
  auto pod = FindObject(objects, "Pod", "rel-holomush-test-status");
  ASSERT_TRUE(pod);
  EXPECT_EQ((*pod)["metadata"]["annotations"]["helm.sh/hook"], "test");
  const json& c = (*pod)["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "ghcr.io/holomush/holomush:0.1.0");
  EXPECT_EQ(c["args"], json::array({"status", "--core-addr=rel-core.holomush.svc:9000",
                                    "--gateway-addr=rel-gateway-internal.holomush.svc:9002",
                                    "--tls-dir=/etc/holomush/tls"}));
  const json& secret = (*pod)["spec"]["volumes"][0]["secret"];
  EXPECT_EQ(secret["secretName"], "rel-tls");
  std::vector<std::string> keys;
  for (const json& item : secret["items"]) keys.push_back(item["key"]);
  EXPECT_EQ(keys, (std::vector<std::string>{"ca.crt", "cli.crt", "cli.key"}));
  EXPECT_EQ(c["volumeMounts"][0]["mountPath"], "/etc/holomush/tls");

  // A user-provided TLS Secret, another name, and a test image of its own.
  objects = Render({"-f", ChartDir() + "/ci/instance-production-values.yaml", "--set",
                    "instance.test.image=busybox-with-holomush:1"});
  pod = FindObject(objects, "Pod", "rel-holomush-test-status");
  ASSERT_TRUE(pod);
  EXPECT_EQ((*pod)["spec"]["volumes"][0]["secret"]["secretName"], "prod-holomush-certs");
  EXPECT_EQ((*pod)["spec"]["containers"][0]["args"][1], "--core-addr=prod-core.holomush.svc:9000");
  EXPECT_EQ((*pod)["spec"]["containers"][0]["image"], "busybox-with-holomush:1");
  EXPECT_EQ((*pod)["spec"]["imagePullSecrets"][0]["name"], "registry-credentials");

  objects = Render({"--set", "instance.enabled=true", "--set", "instance.test.enabled=false"});
  EXPECT_FALSE(FindObject(objects, "Pod", "rel-holomush-test-status"));
}

// The hook's command line, run by the real CLI with the three files the Pod mounts: it must
// get past its flags (2 would be a usage error) and TLS set-up, and dial the Services by
// name. Only name resolution fails here, outside the cluster.
TEST(ChartInstanceTest, StatusHookArgumentsAreTheClisAndTheMountedFilesSuffice) {
  const auto objects = Render({"--set", "instance.enabled=true"});
  const auto pod = FindObject(objects, "Pod", "rel-holomush-test-status");
  ASSERT_TRUE(pod);
  const fs::path dir = fs::temp_directory_path() / ("holomush-hook-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const CommandResult certs =
      RunCommand({HOLOMUSH_BINARY, "certs", "init", "--dir", (dir / "all").string()});
  ASSERT_TRUE(certs.Ok()) << certs.err;
  fs::create_directories(dir / "mount");
  for (const json& item : (*pod)["spec"]["volumes"][0]["secret"]["items"]) {
    fs::copy_file(dir / "all" / item["key"].get<std::string>(),
                  dir / "mount" / item["path"].get<std::string>());
  }
  const std::string mount = (*pod)["spec"]["containers"][0]["volumeMounts"][0]["mountPath"];
  std::vector<std::string> argv = {HOLOMUSH_BINARY};
  for (const json& arg : (*pod)["spec"]["containers"][0]["args"]) {
    std::string a = arg;
    if (a == "--tls-dir=" + mount) a = "--tls-dir=" + (dir / "mount").string();
    argv.push_back(a);
  }
  const CommandResult status = RunCommand(argv);
  fs::remove_all(dir);
  EXPECT_EQ(status.exit_code, 1) << status.out << status.err;
  EXPECT_EQ(status.out.find("TLS_FAILURE"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("cannot resolve rel-core.holomush.svc"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("cannot resolve rel-gateway-internal.holomush.svc"), std::string::npos)
      << status.out;
}

TEST(ChartInstanceTest, ReleaseNameTooLongForAnInstanceNameIsRefused) {
  const std::string release(41, 'g');
  const CommandResult r = Template({"--set", "instance.enabled=true"}, true, release);
  EXPECT_FALSE(r.Ok());
  EXPECT_NE(r.err.find("longer than 40 characters"), std::string::npos) << r.err;
  EXPECT_TRUE(
      Template({"--set", "instance.enabled=true", "--set", "instance.name=game"}, true, release)
          .Ok());
}

// ---- values: schema and documentation -------------------------------------------------

struct BadValue {
  std::vector<std::string> args;
  std::string message;  // part of helm's error
};

TEST(ChartValuesTest, SchemaRejectsBadValues) {
  const std::vector<BadValue> cases = {
      {{"--set", "replicas=2"}, "additional properties 'replicas' not allowed"},
      {{"--set", "operator.replicas=-1"}, "/operator/replicas"},
      {{"--set-string", "operator.replicas=two"}, "/operator/replicas"},
      {{"--set", "operator.leaderElection=false"}, "/operator/leaderElection"},
      {{"--set", "operator.image.repository="}, "/operator/image/repository"},
      {{"--set", "operator.image.digest=sha256:abc"}, "/operator/image/digest"},
      {{"--set", "operator.image.pullPolicy=Sometimes"}, "/operator/image/pullPolicy"},
      {{"--set", "operator.logLevel=loud"}, "/operator/logLevel"},
      {{"--set", "operator.logFormat=xml"}, "/operator/logFormat"},
      {{"--set", "operator.workers=0"}, "/operator/workers"},
      {{"--set", "operator.resources.requests.cpu=lots"}, "/operator/resources/requests/cpu"},
      {{"--set", "operator.watchNamespace=Games_1"}, "/operator/watchNamespace"},
      {{"--set", "operator.podLabels.team=a b"}, "/operator/podLabels/team"},
      {{"--set", "serviceAccount.create=false"}, "/serviceAccount/name"},
      {{"--set", "monitoring.service.port=70000"}, "/monitoring/service/port"},
      {{"--set", "monitoring.service.enabled=false"}, "/monitoring/serviceMonitor/enabled"},
      {{"--set", "monitoring.serviceMonitor.interval=30"}, "/monitoring/serviceMonitor/interval"},
      {{"--set", "monitoring.prometheusRule.runbookBaseURL=https://example.com/runbooks"},
       "/monitoring/prometheusRule/runbookBaseURL"},
      {{"--set", "monitoring.prometheusRule.disabledAlerts={CoreDown}"},
       "/monitoring/prometheusRule/disabledAlerts/0"},
      {{"--set", "instance.name=Game"}, "/instance/name"},
      {{"--set", "instance.name=" + std::string(41, 'g')}, "/instance/name"},
      {{"--set", "instance.spec.image=null"}, "missing property 'image'"},
      {{"--set", "instance.spec.core.replica=2"}, "additional properties 'replica' not allowed"},
      {{"--set", "instance.spec.core.replicas=99"}, "/instance/spec/core/replicas"},
      {{"--set", "instance.spec.gateway.service.type=External"},
       "/instance/spec/gateway/service/type"},
      {{"--set", "instance.spec.backup.schedule=soon"}, "/instance/spec/backup/schedule"},
      {{"--set", "instance.spec.core.logLevel=loud"}, "/instance/spec/core/logLevel"},
      {{"--set", "instance.test.enabled=yes"}, "/instance/test/enabled"},
  };
  for (const BadValue& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    const CommandResult r = Template(c.args);
    EXPECT_FALSE(r.Ok()) << "accepted";
    EXPECT_NE(r.err.find("values don't meet the specifications of the schema"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(ChartValuesTest, InstanceSpecSchemaIsDerivedFromTheCrd) {
  const std::string path = ChartDir() + "/values.schema.json";
  nlohmann::ordered_json schema = nlohmann::ordered_json::parse(ReadFile(path));
  const json derived = SpecSchemaFromCrd(
      LoadYamlFile(SourceDir() + "/k8s-operator/config/crd/holomush.io_holomushes.yaml"));
  if (const char* update = std::getenv("HOLOMUSH_UPDATE_CHART_SCHEMA"); update && *update == '1') {
    schema["$defs"]["holomushSpec"] = nlohmann::ordered_json::parse(derived.dump());
    std::ofstream(path) << schema.dump(2) << "\n";
  }
  EXPECT_EQ(json::parse(schema["$defs"]["holomushSpec"].dump()), derived)
      << "values.schema.json's $defs.holomushSpec is stale: run this test with "
         "HOLOMUSH_UPDATE_CHART_SCHEMA=1";
}

struct ValuesKey {
  int indent = 0;
  std::string path;
  bool documented = false;  // a `# --` comment block right above it
  std::vector<ValuesKey> children;
};

// values.yaml's keys as a tree by indentation, each marked documented or not.
std::vector<ValuesKey> ValuesKeys(const std::string& text) {
  static const std::regex kKey(R"(^( *)([A-Za-z0-9_.-]+):(.*)$)");
  static const std::regex kComment(R"(^ *#(.*)$)");
  ValuesKey root{-1, "", true, {}};
  std::vector<ValuesKey*> stack = {&root};
  bool doc_block = false;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, kComment)) {
      if (m[1].str().rfind(" --", 0) == 0) doc_block = true;
      continue;
    }
    if (!std::regex_match(line, m, kKey)) {
      doc_block = false;
      continue;
    }
    const int indent = static_cast<int>(m[1].length());
    while (stack.back()->indent >= indent) stack.pop_back();
    ValuesKey* parent = stack.back();
    parent->children.push_back(
        {indent, (parent->path.empty() ? "" : parent->path + ".") + m[2].str(), doc_block, {}});
    stack.push_back(&parent->children.back());
    doc_block = false;
  }
  return root.children;
}

// A documented key covers what is under it; an undocumented one must be a section whose
// keys are all documented.
void CollectUndocumented(const std::vector<ValuesKey>& keys, std::vector<std::string>* out) {
  for (const ValuesKey& key : keys) {
    if (key.documented) continue;
    if (key.children.empty()) {
      out->push_back(key.path);
    } else {
      CollectUndocumented(key.children, out);
    }
  }
}

TEST(ChartValuesTest, EveryValueHasADocComment) {
  const auto keys = ValuesKeys(ReadFile(ChartDir() + "/values.yaml"));
  ASSERT_GE(keys.size(), 5U);
  std::vector<std::string> undocumented;
  CollectUndocumented(keys, &undocumented);
  EXPECT_EQ(undocumented, std::vector<std::string>{});
  // The check itself: a key without its comment is reported.
  std::vector<std::string> caught;
  CollectUndocumented(ValuesKeys("a:\n  # -- yes\n  b: 1\n  c: 2\n"), &caught);
  EXPECT_EQ(caught, std::vector<std::string>{"a.c"});
}

}  // namespace
}  // namespace holomush::testing
