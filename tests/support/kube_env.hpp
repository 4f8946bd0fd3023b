// A real Kubernetes control plane for tests labelled k8s, shared by one test binary.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace holomush::testing {

// What a finished child process left behind.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;

  bool Ok() const { return exit_code == 0; }
};

// Runs argv (argv[0] looked up in PATH) without a shell, feeds `input` on stdin and
// collects stdout and stderr. Blocks the calling thread until the child exits.
CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input = {});

// Polls `condition` until it returns true or `timeout` passes; true if it held. Tests
// synchronise with the controllers through this, never through a fixed sleep. Unlike
// WaitUntil in wait.hpp it polls every `interval`, not every 5 ms: each check here
// usually starts a kubectl, which costs tens of milliseconds of CPU.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = std::chrono::milliseconds(200));

// Where the control plane is and which tools talk to it.
struct KubeTools {
  std::string kubeconfig;
  std::string kubectl;
  std::string helm;
  std::string source_dir;  // repository root, for testdata
};

// Brings the control plane up once per test binary with scripts/testenv (or uses the
// cluster KUBECONFIG already names) and tears down only what it started. gtest owns the
// instance after RegisterKubeEnvironment(); it runs on the main thread before and after
// all tests, and exports KUBECONFIG so child processes find the cluster.
class KubeEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  const KubeTools& Tools() const { return tools_; }
  // scripts/testenv's directory; empty when the tests use a cluster they did not start.
  const std::string& TestenvDir() const { return testenv_dir_; }

 private:
  KubeTools tools_;
  std::string testenv_dir_;  // empty when an existing cluster is used
};

// Adds the environment to gtest; call before RUN_ALL_TESTS (kube_test_main.cpp does).
KubeEnvironment* RegisterKubeEnvironment();

// The tools of the registered environment; valid once it is set up.
const KubeTools& Kube();

// kubectl and helm against the test cluster.
CommandResult Kubectl(const std::vector<std::string>& args, std::string_view input = {});
CommandResult Helm(const std::vector<std::string>& args, std::string_view input = {});

// Stop and start the kube-apiserver of the control plane this binary started (same port,
// same etcd), for clients that must outlive an apiserver restart. Only for a control plane
// of our own: OwnsControlPlane() is false on a shared cluster, which is not ours to stop.
bool OwnsControlPlane();
CommandResult StopApiServer();
CommandResult StartApiServer();

// A namespace of this test's own, deleted when it goes out of scope so tests against a
// shared cluster do not see each other's objects. The name is DNS-1123 safe and unique
// per process, so reruns against an existing cluster do not collide.
class ScopedNamespace {
 public:
  explicit ScopedNamespace(std::string_view prefix);
  ~ScopedNamespace();
  ScopedNamespace(const ScopedNamespace&) = delete;
  ScopedNamespace& operator=(const ScopedNamespace&) = delete;

  const std::string& Name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace holomush::testing
