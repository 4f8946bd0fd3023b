// Locating and reading the chart; YAML to JSON; RBAC and CRD schema helpers.
#include "chart_support.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "kube_env.hpp"

#ifndef HOLOMUSH_SOURCE_ROOT
#error "HOLOMUSH_SOURCE_ROOT must name the repository root"
#endif

namespace holomush::testing {
namespace {

std::string Trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// A plain (unquoted) scalar as YAML 1.2's core schema reads it.
json PlainScalar(const std::string& text) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (std::regex_match(text, kInt)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted and block scalars "!" and plain ones "?".
      return node.Tag() == "!" ? json(node.Scalar()) : PlainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = ToJson(entry.second);
      return out;
    }
  }
  return nullptr;
}

json ToJsonSchema(const json& openapi) {
  json out = json::object();
  for (const auto& [key, value] : openapi.items()) {
    // CEL rules, list/map types and int-or-string markers are for the API server; defaults
    // are applied there too, and `format` (int64, ...) is no JSON Schema assertion.
    if (key.rfind("x-kubernetes-", 0) == 0 || key == "default" || key == "format") continue;
    if (key == "properties") {
      json properties = json::object();
      for (const auto& [name, schema] : value.items()) properties[name] = ToJsonSchema(schema);
      out[key] = properties;
    } else if (key == "items" || key == "additionalProperties") {
      out[key] = value.is_object() ? ToJsonSchema(value) : value;
    } else if (key == "anyOf" || key == "allOf" || key == "oneOf") {
      json options = json::array();
      for (const json& option : value) options.push_back(ToJsonSchema(option));
      out[key] = options;
    } else {
      out[key] = value;
    }
  }
  // A `set` list holds each item once; JSON Schema can say so.
  if (openapi.value("x-kubernetes-list-type", "") == "set") out["uniqueItems"] = true;
  const bool preserves_unknown = openapi.value("x-kubernetes-preserve-unknown-fields", false);
  if (openapi.contains("properties") && !openapi.contains("additionalProperties") &&
      !preserves_unknown) {
    out["additionalProperties"] = false;
  }
  return out;
}

}  // namespace

std::string SourceDir() { return HOLOMUSH_SOURCE_ROOT; }
std::string ChartDir() { return SourceDir() + "/helm/holomush"; }

const std::string& HelmBinary() {
  static const std::string helm = [] {
    if (const char* env = std::getenv("HELM"); env != nullptr && *env != '\0') {
      return std::string(env);
    }
    const std::string script = SourceDir() + "/scripts/build-test-tools";
    // Does nothing once the tools are built; the first build takes minutes.
    const CommandResult built = RunCommand({script});
    if (!built.Ok()) {
      std::cerr << "scripts/build-test-tools failed:\n" << built.err << built.out;
      return std::string("helm");
    }
    return Trim(RunCommand({script, "--dir"}).out) + "/bin/helm";
  }();
  return helm;
}

std::vector<json> ParseYamlDocuments(const std::string& text) {
  std::vector<json> documents;
  for (const YAML::Node& node : YAML::LoadAll(text)) {
    json document = ToJson(node);
    if (!document.is_null()) documents.push_back(std::move(document));
  }
  return documents;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json LoadYamlFile(const std::string& path) { return ToJson(YAML::LoadFile(path)); }

std::optional<json> FindObject(const std::vector<json>& objects, const std::string& kind,
                               const std::string& name) {
  for (const json& object : objects) {
    if (object.value("kind", "") == kind && object["metadata"].value("name", "") == name) {
      return object;
    }
  }
  return std::nullopt;
}

std::vector<json> ObjectsOfKind(const std::vector<json>& objects, const std::string& kind) {
  std::vector<json> out;
  for (const json& object : objects) {
    if (object.value("kind", "") == kind) out.push_back(object);
  }
  return out;
}

std::set<std::string> Permissions(const json& rules) {
  std::set<std::string> out;
  for (const json& rule : rules) {
    const json verbs = rule.value("verbs", json::array());
    for (const json& url : rule.value("nonResourceURLs", json::array())) {
      for (const json& verb : verbs) {
        out.insert("url " + url.get<std::string>() + ":" + verb.get<std::string>());
      }
    }
    std::string names;
    for (const json& name : rule.value("resourceNames", json::array())) {
      names += (names.empty() ? "[" : ",") + name.get<std::string>();
    }
    if (!names.empty()) names += "]";
    for (const json& group : rule.value("apiGroups", json::array())) {
      for (const json& resource : rule.value("resources", json::array())) {
        for (const json& verb : verbs) {
          out.insert(group.get<std::string>() + "/" + resource.get<std::string>() + names + ":" +
                     verb.get<std::string>());
        }
      }
    }
  }
  return out;
}

json SpecSchemaFromCrd(const json& crd) {
  const json& version = crd["spec"]["versions"][0];
  return ToJsonSchema(version["schema"]["openAPIV3Schema"]["properties"]["spec"]);
}

}  // namespace holomush::testing
