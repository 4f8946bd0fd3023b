#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "holomush/operator/kube_client.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kubeconfig-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

TEST_F(KubeConfigTest, ReadsInlineClientCertificatesOfTheCurrentContext) {
  const std::string path = Write("config", R"(
apiVersion: v1
kind: Config
current-context: test
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: test
  context: {cluster: c, user: u, namespace: games}
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: )" + resources::Base64Encode("CA PEM") +
                                               R"(
users:
- name: u
  user:
    client-certificate-data: )" + resources::Base64Encode("CERT") +
                                               R"(
    client-key-data: )" + resources::Base64Encode("KEY") +
                                               "\n");
  auto config = LoadKubeConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, "CA PEM");
  EXPECT_EQ(config->client_cert_pem, "CERT");
  EXPECT_EQ(config->client_key_pem, "KEY");
  EXPECT_EQ(config->ns, "games");
}

TEST_F(KubeConfigTest, ReadsFilesRelativeToTheKubeconfigAndTokens) {
  Write("ca.crt", "CA FILE");
  const std::string path = Write("config", R"(
current-context: t
contexts: [{name: t, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://k:443", certificate-authority: ca.crt}}]
users: [{name: u, user: {token: abc}}]
)");
  auto config = LoadKubeConfig(path);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->ca_pem, "CA FILE");
  EXPECT_EQ(config->token, "abc");
  EXPECT_EQ(config->ns, "default");
}

TEST_F(KubeConfigTest, NamesWhatIsMissing) {
  const std::string path = Write("config", R"(
current-context: t
contexts: [{name: t, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://k:443", certificate-authority: missing.crt}}]
)");
  auto config = LoadKubeConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("missing.crt"), std::string::npos);
  auto absent = LoadKubeConfig((dir_ / "nope").string());
  EXPECT_FALSE(absent.ok());
}

TEST_F(KubeConfigTest, InClusterNeedsTheServiceEnvironment) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  auto config = InClusterConfig(dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

TEST_F(KubeConfigTest, InClusterReadsTheServiceAccountFiles) {
  Write("ca.crt", "CA");
  Write("token", "tok\n");
  Write("namespace", "ops");
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = InClusterConfig(dir_.string());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->server, "https://10.0.0.1:443");
  EXPECT_EQ(config->ns, "ops");
  EXPECT_EQ(config->token_file, (dir_ / "token").string());
}

}  // namespace
}  // namespace holomush::op
