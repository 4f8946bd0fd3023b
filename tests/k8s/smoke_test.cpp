// Smoke tests proving the test control plane is the real thing: the API server, the
// controllers HoloMUSH's operator relies on, the monitoring CRDs, and helm against it.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <ctime>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "kube_env.hpp"

namespace holomush::testing {
namespace {

using std::chrono::seconds;

// Controllers react in well under a second here; the margin is for a loaded CI box.
constexpr seconds kControllerDeadline{60};

// Lines of a command's stdout, without empty ones.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// `kubectl get ... -o jsonpath=TEMPLATE` in `ns`; empty when the get fails.
std::string JsonPath(const std::string& ns, const std::vector<std::string>& what,
                     const std::string& jsonpath) {
  std::vector<std::string> args = {"get", "-n", ns};
  args.insert(args.end(), what.begin(), what.end());
  args.push_back("-o=jsonpath=" + jsonpath);
  const CommandResult result = Kubectl(args);
  return result.Ok() ? result.out : std::string();
}

CommandResult Apply(const std::string& ns, const std::string& manifest) {
  return Kubectl({"apply", "-n", ns, "-f", "-"}, manifest);
}

// A ConfigMap that ConfigMap `owner` (by uid) owns, labelled smoke=dependent.
std::string DependentConfigMap(const std::string& name, const std::string& owner_uid) {
  std::string manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ";
  manifest += name;
  manifest += "\n  labels: {smoke: dependent}\n  ownerReferences:\n";
  manifest += "    - {apiVersion: v1, kind: ConfigMap, name: owner, uid: ";
  manifest += owner_uid;
  manifest += "}\n";
  return manifest;
}

TEST(ControlPlaneTest, ServerReportsKubernetes136) {
  const CommandResult version = Kubectl({"get", "--raw", "/version"});
  ASSERT_TRUE(version.Ok()) << version.err;

  EXPECT_TRUE(std::regex_search(version.out, std::regex(R"("gitVersion":\s*"v1\.36\.\d+")")))
      << version.out;
  EXPECT_TRUE(std::regex_search(version.out, std::regex(R"("minor":\s*"36")"))) << version.out;
}

TEST(ControlPlaneTest, MonitoringCrdsAreEstablished) {
  for (const std::string crd :
       {"prometheusrules.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com",
        "podmonitors.monitoring.coreos.com"}) {
    const CommandResult established =
        Kubectl({"get", "crd", crd,
                 R"(-o=jsonpath={.status.conditions[?(@.type=="Established")].status})"});
    ASSERT_TRUE(established.Ok()) << crd << ": " << established.err;
    EXPECT_EQ(established.out, "True") << crd;
  }
}

TEST(ControlPlaneTest, AuthorizesWithRbac) {
  // A service account with no bindings must be refused: proves RBAC is on rather
  // than AlwaysAllow.
  const CommandResult can_i = Kubectl({"auth", "can-i", "list", "secrets", "-n", "kube-system",
                                       "--as=system:serviceaccount:default:default"});
  EXPECT_EQ(Lines(can_i.out), std::vector<std::string>{"no"}) << can_i.err;
}

TEST(ControllerManagerTest, DeploymentGetsReplicaSetAndPendingPods) {
  const ScopedNamespace ns("deployment");
  const CommandResult applied = Apply(ns.Name(), R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.invalid/holomush/smoke:0.1.0
)");
  ASSERT_TRUE(applied.Ok()) << applied.err;

  std::string replica_set;
  ASSERT_TRUE(WaitFor(
      [&] {
        replica_set = JsonPath(ns.Name(), {"replicasets", "-l", "app=web"},
                               R"({range .items[?(@.metadata.ownerReferences[0].name=="web")]})"
                               R"({.metadata.name}{end})");
        return !replica_set.empty();
      },
      kControllerDeadline))
      << "no ReplicaSet owned by Deployment web";

  // No scheduler and no kubelet: the pods exist, owned by the ReplicaSet, and stay Pending.
  const std::string want = "ReplicaSet/" + replica_set + "/Pending";
  std::vector<std::string> pods;
  EXPECT_TRUE(WaitFor(
      [&] {
        pods = Lines(JsonPath(ns.Name(), {"pods", "-l", "app=web"},
                              R"({range .items[*]}{.metadata.ownerReferences[0].kind}/)"
                              R"({.metadata.ownerReferences[0].name}/{.status.phase}{"\n"}{end})"));
        return pods == std::vector<std::string>{want, want};
      },
      kControllerDeadline))
      << "pods: " << ::testing::PrintToString(pods);

  // The deployment controller writes status back once it has counted them.
  EXPECT_TRUE(WaitFor(
      [&] {
        return JsonPath(ns.Name(), {"deployment", "web"}, "{.status.replicas}") == "2";
      },
      kControllerDeadline));
}

TEST(ControllerManagerTest, CronJobCreatesJobAndJobCreatesPod) {
  const ScopedNamespace ns("cronjob");
  const CommandResult applied = Apply(ns.Name(), R"(
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: tick
              image: registry.invalid/holomush/smoke:0.1.0
)");
  ASSERT_TRUE(applied.Ok()) << applied.err;

  // Claim the last run was five minutes ago: the cronjob controller then sees a missed
  // schedule and starts a Job at once instead of at the next minute boundary. Without
  // the patch the test still passes, just up to a minute later.
  const auto five_minutes_ago = std::chrono::system_clock::now() - std::chrono::minutes(5);
  const std::time_t then = std::chrono::system_clock::to_time_t(five_minutes_ago);
  std::array<char, 32> stamp{};
  std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&then));
  const CommandResult patched =
      Kubectl({"patch", "cronjob", "tick", "-n", ns.Name(), "--subresource=status", "--type=merge",
               std::string(R"(-p={"status":{"lastScheduleTime":")") + stamp.data() + R"("}})"});
  ASSERT_TRUE(patched.Ok()) << patched.err;

  std::string job;
  ASSERT_TRUE(WaitFor(
      [&] {
        job = JsonPath(ns.Name(), {"jobs"},
                       R"({range .items[?(@.metadata.ownerReferences[0].kind=="CronJob")]})"
                       R"({.metadata.ownerReferences[0].name}/{.metadata.name}{"\n"}{end})");
        return !job.empty();
      },
      seconds{90}))
      << "no Job created from CronJob tick";
  const std::string job_name = Lines(job).front().substr(std::string("tick/").size());
  EXPECT_EQ(Lines(job).front().rfind("tick/tick-", 0), 0U) << job;

  // The job controller takes it from there and creates the pod.
  EXPECT_TRUE(WaitFor(
      [&] {
        return JsonPath(ns.Name(), {"pods", "-l", "batch.kubernetes.io/job-name=" + job_name},
                        "{.items[*].metadata.ownerReferences[0].name}") == job_name;
      },
      kControllerDeadline))
      << "no pod for Job " << job_name;
}

TEST(GarbageCollectorTest, DeletingOwnerDeletesOnlyItsDependents) {
  const ScopedNamespace ns("gc");
  ASSERT_TRUE(Kubectl({"create", "configmap", "owner", "-n", ns.Name()}).Ok());
  ASSERT_TRUE(Kubectl({"create", "configmap", "bystander", "-n", ns.Name()}).Ok());
  const std::string uid = JsonPath(ns.Name(), {"configmap", "owner"}, "{.metadata.uid}");
  ASSERT_FALSE(uid.empty());

  for (const std::string child : {"child-a", "child-b"}) {
    const CommandResult created = Apply(ns.Name(), DependentConfigMap(child, uid));
    ASSERT_TRUE(created.Ok()) << created.err;
  }
  ASSERT_EQ(Lines(JsonPath(ns.Name(), {"configmaps", "-l", "smoke=dependent"},
                           R"({range .items[*]}{.metadata.name}{"\n"}{end})"))
                .size(),
            2U);

  ASSERT_TRUE(
      Kubectl({"delete", "configmap", "owner", "-n", ns.Name(), "--cascade=background"}).Ok());

  EXPECT_TRUE(WaitFor(
      [&] {
        const CommandResult left =
            Kubectl({"get", "configmaps", "-n", ns.Name(), "-l", "smoke=dependent", "-o=name"});
        return left.Ok() && left.out.empty();
      },
      kControllerDeadline))
      << "dependents of the deleted owner were not collected";
  EXPECT_EQ(JsonPath(ns.Name(), {"configmap", "bystander"}, "{.metadata.name}"), "bystander");
}

class HelmTest : public ::testing::Test {
 protected:
  std::string ChartDir() const { return Kube().source_dir + "/tests/k8s/testdata/smoke-chart"; }
};

TEST_F(HelmTest, VersionIs322) {
  const CommandResult version = Helm({"version", "--short"});
  ASSERT_TRUE(version.Ok()) << version.err;
  EXPECT_EQ(version.out.rfind("v3.22.", 0), 0U) << version.out;
}

TEST_F(HelmTest, TemplatedChartPassesServerDryRunAndCreatesNothing) {
  const ScopedNamespace ns("helm-dry-run");
  const CommandResult rendered =
      Helm({"template", "demo", ChartDir(), "--namespace", ns.Name(), "--kube-version", "1.36"});
  ASSERT_TRUE(rendered.Ok()) << rendered.err;

  const CommandResult applied =
      Kubectl({"apply", "--dry-run=server", "-n", ns.Name(), "-f", "-"}, rendered.out);
  ASSERT_TRUE(applied.Ok()) << applied.err;
  EXPECT_EQ(Lines(applied.out), (std::vector<std::string>{
                                    "configmap/demo-smoke created (server dry run)",
                                    "deployment.apps/demo-smoke created (server dry run)",
                                    "prometheusrule.monitoring.coreos.com/demo-smoke created "
                                    "(server dry run)",
                                }));

  const CommandResult persisted =
      Kubectl({"get", "configmaps,deployments,prometheusrules", "-n", ns.Name(), "-l",
               "app.kubernetes.io/instance=demo", "-o=name"});
  ASSERT_TRUE(persisted.Ok()) << persisted.err;
  EXPECT_EQ(persisted.out, "");
}

TEST_F(HelmTest, ServerDryRunRejectsInvalidChartValues) {
  // Shows the dry run reaches the API server's validation instead of passing anything.
  const ScopedNamespace ns("helm-invalid");
  const CommandResult rendered = Helm({"template", "demo", ChartDir(), "--namespace", ns.Name(),
                                       "--kube-version", "1.36", "--set", "replicas=-1"});
  ASSERT_TRUE(rendered.Ok()) << rendered.err;

  const CommandResult applied =
      Kubectl({"apply", "--dry-run=server", "-n", ns.Name(), "-f", "-"}, rendered.out);
  EXPECT_FALSE(applied.Ok());
  EXPECT_NE(applied.err.find("spec.replicas"), std::string::npos) << applied.err;
}

}  // namespace
}  // namespace holomush::testing
