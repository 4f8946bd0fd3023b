// Brings up (or finds) the control plane the k8s tests run against.
#include "kube_env.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#ifndef HOLOMUSH_SOURCE_DIR
#error "HOLOMUSH_SOURCE_DIR must name the repository root"
#endif

namespace holomush::testing {
namespace {

KubeEnvironment* g_environment = nullptr;

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// Applies the `export NAME='value'` lines scripts/testenv prints, so this process
// and every child it starts see the cluster the same way a shell would after
// `eval "$(scripts/testenv env)"`.
void ExportEnvLines(const std::string& lines) {
  std::istringstream stream(lines);
  std::string line;
  while (std::getline(stream, line)) {
    constexpr std::string_view kPrefix = "export ";
    if (line.rfind(kPrefix, 0) != 0) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = line.substr(kPrefix.size(), eq - kPrefix.size());
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    ::setenv(name.c_str(), value.c_str(), 1);
  }
}

// A tool for an existing cluster: the named variable, else the pinned build if
// scripts/build-test-tools has made one, else PATH.
std::string ExistingTool(const char* variable, const std::string& name,
                         const std::string& pinned_bin) {
  std::string tool = EnvOr(variable, "");
  if (!tool.empty()) return tool;
  if (!pinned_bin.empty() && std::filesystem::exists(pinned_bin + "/" + name)) {
    return pinned_bin + "/" + name;
  }
  return name;
}

}  // namespace

void KubeEnvironment::SetUp() {
  tools_.source_dir = HOLOMUSH_SOURCE_DIR;
  const std::string scripts = tools_.source_dir + "/scripts";

  const std::string existing = EnvOr("KUBECONFIG", "");
  if (!existing.empty()) {
    // Someone already runs a cluster (scripts/testenv up by hand, or CI sharing
    // one): use it and leave it running.
    std::string pinned_bin;
    const CommandResult dir = RunCommand({scripts + "/build-test-tools", "--dir"});
    if (dir.Ok()) pinned_bin = Trim(dir.out) + "/bin";
    tools_.kubeconfig = existing;
    tools_.kubectl = ExistingTool("KUBECTL", "kubectl", pinned_bin);
    tools_.helm = ExistingTool("HELM", "helm", pinned_bin);
    std::cout << "[kube env] using the cluster in KUBECONFIG=" << existing << "\n";
    return;
  }

  const std::filesystem::path temp_root = EnvOr("TMPDIR", "/tmp");
  std::string pattern = (temp_root / "holomush-kube-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    FAIL() << "cannot create a directory under " << temp_root;
  }
  testenv_dir_ = pattern;

  const auto start = std::chrono::steady_clock::now();
  // --owner: if this binary crashes before TearDown, the control plane still stops.
  const CommandResult up =
      RunCommand({scripts + "/testenv", "up", testenv_dir_, "--owner", std::to_string(::getpid())});
  if (!up.Ok()) {
    FAIL() << "scripts/testenv up failed (exit " << up.exit_code << "):\n" << up.err << up.out;
  }
  ExportEnvLines(up.out);
  tools_.kubeconfig = EnvOr("KUBECONFIG", "");
  tools_.kubectl = EnvOr("KUBECTL", "");
  tools_.helm = EnvOr("HELM", "");
  if (tools_.kubeconfig.empty() || tools_.kubectl.empty() || tools_.helm.empty()) {
    FAIL() << "scripts/testenv up printed no KUBECONFIG/KUBECTL/HELM:\n" << up.out;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  std::cout << "[kube env] control plane up in " << seconds.count() << "s (" << testenv_dir_
            << ")\n";
}

void KubeEnvironment::TearDown() {
  if (testenv_dir_.empty()) return;
  // After a failure the control plane's logs are the first thing to read.
  const bool keep_logs = !::testing::UnitTest::GetInstance()->Passed();
  const CommandResult down =
      RunCommand({"env", std::string("HOLOMUSH_TESTENV_KEEP=") + (keep_logs ? "1" : "0"),
                  tools_.source_dir + "/scripts/testenv", "down", testenv_dir_});
  EXPECT_TRUE(down.Ok()) << "scripts/testenv down failed:\n" << down.err << down.out;
  if (keep_logs) {
    std::cout << "[kube env] tests failed; control plane logs kept in " << testenv_dir_
              << "/logs\n";
  }
  testenv_dir_.clear();
}

KubeEnvironment* RegisterKubeEnvironment() {
  if (g_environment == nullptr) {
    g_environment =
        static_cast<KubeEnvironment*>(::testing::AddGlobalTestEnvironment(new KubeEnvironment()));
  }
  return g_environment;
}

const KubeTools& Kube() {
  if (g_environment == nullptr) {
    std::cerr << "Kube() called without RegisterKubeEnvironment()\n";
    std::abort();
  }
  return g_environment->Tools();
}

bool OwnsControlPlane() {
  return !Kube().source_dir.empty() && !g_environment->TestenvDir().empty();
}

CommandResult StopApiServer() {
  return RunCommand(
      {Kube().source_dir + "/scripts/testenv", "stop-apiserver", g_environment->TestenvDir()});
}

CommandResult StartApiServer() {
  return RunCommand(
      {Kube().source_dir + "/scripts/testenv", "start-apiserver", g_environment->TestenvDir()});
}

CommandResult Kubectl(const std::vector<std::string>& args, std::string_view input) {
  std::vector<std::string> argv = {Kube().kubectl, "--kubeconfig=" + Kube().kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input);
}

CommandResult Helm(const std::vector<std::string>& args, std::string_view input) {
  std::vector<std::string> argv = {Kube().helm, "--kubeconfig=" + Kube().kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input);
}

ScopedNamespace::ScopedNamespace(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::string name;
  for (const char c : prefix) {
    const auto u = static_cast<unsigned char>(c);
    name += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  const std::string suffix = "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  // DNS-1123 labels stop at 63 characters; keep the unique suffix whole.
  name_ = name.substr(0, 63 - suffix.size()) + suffix;
  const CommandResult created = Kubectl({"create", "namespace", name_});
  EXPECT_TRUE(created.Ok()) << "create namespace " << name_ << ": " << created.err;
}

ScopedNamespace::~ScopedNamespace() {
  // The namespace controller finishes the deletion; nobody needs to wait for it.
  Kubectl({"delete", "namespace", name_, "--wait=false", "--ignore-not-found"});
}

}  // namespace holomush::testing
