// What a platform team runs before installing: kubeconform (strict, with schemas made offline
// from this control plane's OpenAPI, our CRD and the monitoring CRDs included) and kube-score
// over the chart and over the children `holomush-operator render` prints for each sample.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "chart_support.hpp"
#include "kube_env.hpp"

namespace holomush::testing {
namespace {

namespace fs = std::filesystem;

// kube-score checks we do not follow, each for a reason docs/design/operator.md gives.
const std::vector<std::string> kIgnoredScoreChecks = {
    // No registry exists where the tests run, and an operator pins images by tag: the chart
    // and the CRD default to IfNotPresent.
    "container-image-pull-policy",
    // Ephemeral storage is /tmp only (an emptyDir of a few kB); a limit would only add an
    // eviction reason.
    "container-ephemeral-storage-request-and-limit",
};

void Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// The definitions `root` needs, followed through every $ref.
void Closure(const json& definitions, const std::string& name, std::set<std::string>& seen) {
  if (!seen.insert(name).second || !definitions.contains(name)) return;
  std::vector<const json*> stack = {&definitions.at(name)};
  while (!stack.empty()) {
    const json* node = stack.back();
    stack.pop_back();
    if (node->is_object()) {
      if (auto ref = node->find("$ref"); ref != node->end() && ref->is_string()) {
        Closure(definitions, ref->get<std::string>().substr(std::string("#/definitions/").size()),
                seen);
      }
      for (const auto& [key, value] : node->items()) stack.push_back(&value);
    } else if (node->is_array()) {
      for (const json& value : *node) stack.push_back(&value);
    }
  }
}

// OpenAPI v2 to what kubeconform's validator reads, as the published strict schemas do:
// objects with properties refuse unknown fields; int-or-string takes both. Walks schemas
// by their keywords only, so a property that happens to be named "format" is left alone.
void Strict(json& schema) {
  if (!schema.is_object()) return;
  const auto format = schema.find("format");
  const auto int_or_string = schema.find("x-kubernetes-int-or-string");
  if ((format != schema.end() && *format == "int-or-string") ||
      (int_or_string != schema.end() && *int_or_string == true)) {
    schema = json{{"oneOf", json::array({{{"type", "string"}}, {{"type", "integer"}}})}};
    return;
  }
  const auto preserve = schema.find("x-kubernetes-preserve-unknown-fields");
  const bool open = preserve != schema.end() && *preserve == true;
  if (auto properties = schema.find("properties");
      properties != schema.end() && properties->is_object()) {
    for (auto& [name, property] : properties->items()) Strict(property);
    if (!open && !schema.contains("additionalProperties")) schema["additionalProperties"] = false;
  }
  for (const char* key : {"items", "additionalProperties", "not"}) {
    if (auto it = schema.find(key); it != schema.end()) Strict(*it);
  }
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    if (auto it = schema.find(key); it != schema.end() && it->is_array()) {
      for (json& each : *it) Strict(each);
    }
  }
}

class LintTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("holomush-lint-" + std::to_string(getpid())));
    fs::create_directories(*dir_ / "schemas");
    const CommandResult crd =
        Kubectl({"apply", "--server-side", "-f", SourceDir() + "/k8s-operator/config/crd/"});
    ASSERT_TRUE(crd.Ok()) << crd.err;
    ASSERT_TRUE(Kubectl({"wait", "--for=condition=Established", "crd/holomushes.holomush.io",
                         "--timeout=60s"})
                    .Ok());
    // Published CRD schemas reach /openapi/v2 a moment after Established.
    json openapi;
    ASSERT_TRUE(WaitFor(
        [&] {
          const CommandResult raw = Kubectl({"get", "--raw", "/openapi/v2"});
          if (!raw.Ok()) return false;
          openapi = json::parse(raw.out);
          return openapi["definitions"].contains("io.holomush.v1alpha1.HoloMUSH");
        },
        std::chrono::seconds(60)));
    const json& definitions = openapi["definitions"];
    for (const auto& [name, definition] : definitions.items()) {
      const json gvks = definition.value("x-kubernetes-group-version-kind", json::array());
      for (const json& gvk : gvks) {
        std::set<std::string> needed;
        Closure(definitions, name, needed);
        json schema = {{"$ref", "#/definitions/" + name}, {"definitions", json::object()}};
        for (const std::string& n : needed) {
          if (definitions.contains(n)) schema["definitions"][n] = definitions.at(n);
        }
        for (auto& [n, each] : schema["definitions"].items()) Strict(each);
        // kubeconform's {{ .Group }} is the apiVersion's first part: "v1" for the core group.
        std::string group = gvk.value("group", "");
        const std::string version = gvk.value("version", "");
        if (group.empty()) group = version;
        std::string kind = gvk.value("kind", "");
        std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
        std::ofstream(*dir_ / "schemas" / (kind + "-" + group + "-" + version + ".json"))
            << schema.dump();
      }
    }
    const CommandResult tools = RunCommand({SourceDir() + "/scripts/build-go-tools"});
    ASSERT_TRUE(tools.Ok()) << tools.err;
    bin_ = new std::string(tools.out.substr(0, tools.out.find('\n')) + "/bin");
    manifests_ = new std::vector<fs::path>(RenderManifests());
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }

  // The manifests under test, one file each: every sample rendered by the operator, and the
  // chart with each of its ci/ values files.
  static std::vector<fs::path> RenderManifests() {
    std::vector<fs::path> out;
    for (const auto& sample :
         fs::directory_iterator(SourceDir() + "/k8s-operator/config/samples")) {
      const CommandResult r = RunCommand(
          {HOLOMUSH_OPERATOR_BINARY, "render", "-f", sample.path().string(), "--namespace=lint"});
      EXPECT_TRUE(r.Ok()) << sample.path() << ": " << r.err;
      const fs::path file = *dir_ / ("render-" + sample.path().filename().string());
      std::ofstream(file) << r.out;
      out.push_back(file);
    }
    for (const auto& values : fs::directory_iterator(ChartDir() + "/ci")) {
      const CommandResult r = RunCommand({HelmBinary(), "template", "lint", ChartDir(),
                                          "--namespace=lint", "-f", values.path().string()});
      EXPECT_TRUE(r.Ok()) << values.path() << ": " << r.err;
      const fs::path file = *dir_ / ("chart-" + values.path().filename().string());
      std::ofstream(file) << r.out;
      out.push_back(file);
    }
    return out;
  }

  static fs::path* dir_;
  static std::string* bin_;
  static std::vector<fs::path>* manifests_;  // rendered once, read by both linters
};

fs::path* LintTest::dir_ = nullptr;
std::string* LintTest::bin_ = nullptr;
std::vector<fs::path>* LintTest::manifests_ = nullptr;

TEST_F(LintTest, RenderNamesWhatIsWrongWithABadResource) {
  const fs::path bad = *dir_ / "bad.yaml";
  Write(
      bad,
      "apiVersion: holomush.io/v1alpha1\nkind: HoloMUSH\nmetadata: {name: g}\n"
      "spec:\n  image: holomush:1\n  database:\n    existingSecret: {name: db}\n    managed: {}\n");
  const CommandResult r = RunCommand({HOLOMUSH_OPERATOR_BINARY, "render", "-f", bad.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exactly one"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const CommandResult missing =
      RunCommand({HOLOMUSH_OPERATOR_BINARY, "render", "-f", "/nonexistent"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read /nonexistent"), std::string::npos) << missing.err;
}

TEST_F(LintTest, KubeconformStrictAcceptsEveryObject) {
  std::vector<std::string> argv = {
      *bin_ + "/kubeconform",
      "-strict",
      "-summary",
      "-output",
      "json",
      "-schema-location",
      (*dir_ / "schemas").string() +
          "/{{ .ResourceKind }}-{{ .Group }}-{{ .ResourceAPIVersion }}.json"};
  for (const fs::path& f : *manifests_) argv.push_back(f.string());
  const CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const json report = json::parse(r.out);
  const json& summary = report["summary"];
  EXPECT_EQ(summary["invalid"], 0) << r.out;
  EXPECT_EQ(summary["errors"], 0) << r.out;
  EXPECT_EQ(summary["skipped"], 0) << r.out;
  // Every kind we make, checked: a Deployment from each sample, the HoloMUSH of the chart.
  EXPECT_GE(summary["valid"].get<int>(), 60) << r.out;
}

TEST_F(LintTest, KubeScoreFindsNothingCritical) {
  // No CPU limits on purpose (docs/design/operator.md).
  std::vector<std::string> argv = {*bin_ + "/kube-score", "score", "--output-format", "ci",
                                   "--ignore-container-cpu-limit"};
  for (const std::string& check : kIgnoredScoreChecks) {
    argv.insert(argv.end(), {"--ignore-test", check});
  }
  for (const fs::path& f : *manifests_) argv.push_back(f.string());
  const CommandResult r = RunCommand(argv);
  std::istringstream lines(r.out);
  std::string critical;
  int checked = 0;
  for (std::string line; std::getline(lines, line);) {
    ++checked;
    if (line.rfind("[CRITICAL]", 0) == 0) critical += line + "\n";
  }
  EXPECT_EQ(critical, "") << "kube-score:\n" << r.out;
  EXPECT_GT(checked, 100) << r.out << r.err;
}

}  // namespace
}  // namespace holomush::testing
