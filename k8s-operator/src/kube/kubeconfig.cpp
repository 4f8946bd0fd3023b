// Kubeconfig files and in-cluster service account configuration.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "holomush/operator/kube_client.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {
namespace {

using common::ErrorKind;
using common::MakeError;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[field];
  }
  return YAML::Node();
}

std::string Str(const YAML::Node& node, const char* key) {
  return node && node[key] ? node[key].as<std::string>() : std::string();
}

// Inline base64 data, or a file (relative to the kubeconfig's directory).
common::Result<std::string> DataOrFile(const YAML::Node& node, const std::string& data_key,
                                       const std::string& file_key, const std::string& dir,
                                       const std::string& what) {
  const std::string data = Str(node, data_key.c_str());
  if (!data.empty()) return resources::Base64Decode(data);
  std::string file = Str(node, file_key.c_str());
  if (file.empty()) return std::string();
  if (file[0] != '/') file = dir + "/" + file;
  auto text = ReadFile(file);
  if (!text) return MakeError(ErrorKind::kInvalid, what + ": cannot read " + file);
  return *text;
}

}  // namespace

common::Result<KubeConfig> LoadKubeConfig(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorKind::kInvalid, "kubeconfig " + path + ": " + e.what());
  }
  const std::string dir = path.find('/') == std::string::npos
                              ? std::string(".")
                              : path.substr(0, path.find_last_of('/'));
  try {
    const std::string ctx_name = context.empty() ? Str(root, "current-context") : context;
    if (ctx_name.empty()) {
      return MakeError(ErrorKind::kInvalid, "kubeconfig " + path + ": no current-context");
    }
    YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
    if (!ctx) {
      return MakeError(ErrorKind::kInvalid,
                       "kubeconfig " + path + ": context " + ctx_name + " not found");
    }
    YAML::Node cluster = Named(root["clusters"], Str(ctx, "cluster"), "cluster");
    YAML::Node user = Named(root["users"], Str(ctx, "user"), "user");
    if (!cluster) {
      return MakeError(ErrorKind::kInvalid,
                       "kubeconfig " + path + ": cluster of context " + ctx_name + " not found");
    }
    KubeConfig config;
    config.server = Str(cluster, "server");
    if (config.server.empty()) {
      return MakeError(ErrorKind::kInvalid, "kubeconfig " + path + ": cluster has no server");
    }
    config.insecure_skip_verify =
        cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    auto ca = DataOrFile(cluster, "certificate-authority-data", "certificate-authority", dir,
                         "kubeconfig " + path);
    if (!ca.ok()) return ca.error();
    config.ca_pem = ca.value();
    if (user) {
      auto cert = DataOrFile(user, "client-certificate-data", "client-certificate", dir,
                             "kubeconfig " + path);
      if (!cert.ok()) return cert.error();
      auto key = DataOrFile(user, "client-key-data", "client-key", dir, "kubeconfig " + path);
      if (!key.ok()) return key.error();
      config.client_cert_pem = cert.value();
      config.client_key_pem = key.value();
      config.token = Str(user, "token");
      config.token_file = Str(user, "tokenFile");
      if (!config.token_file.empty() && config.token_file[0] != '/') {
        config.token_file = dir + "/" + config.token_file;
      }
    }
    config.ns = Str(ctx, "namespace");
    if (config.ns.empty()) config.ns = "default";
    return config;
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorKind::kInvalid, "kubeconfig " + path + ": " + e.what());
  }
}

common::Result<KubeConfig> InClusterConfig(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr) {
    return MakeError(ErrorKind::kInvalid,
                     "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are unset (use --kubeconfig)");
  }
  KubeConfig config;
  const std::string h = host;
  config.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  auto ca = ReadFile(root + "/ca.crt");
  if (!ca) return MakeError(ErrorKind::kInvalid, "in-cluster: cannot read " + root + "/ca.crt");
  config.ca_pem = *ca;
  config.token_file = root + "/token";
  if (!ReadFile(config.token_file)) {
    return MakeError(ErrorKind::kInvalid, "in-cluster: cannot read " + config.token_file);
  }
  auto ns = ReadFile(root + "/namespace");
  config.ns = ns ? *ns : "default";
  return config;
}

}  // namespace holomush::op
