// The Helm chart as the tests see it: where it is, helm rendering it, and its YAML as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace holomush::testing {

using nlohmann::json;

// The repository root and the chart in it.
std::string SourceDir();
std::string ChartDir();

// The pinned helm from scripts/build-test-tools (built on first use), or $HELM. For tests
// that need no cluster; cluster tests use Helm() from kube_env.hpp.
const std::string& HelmBinary();

// Every document of a YAML stream as JSON (empty documents dropped). Plain scalars become
// booleans, numbers or null where YAML 1.2's core schema says so; quoted ones stay strings.
std::vector<json> ParseYamlDocuments(const std::string& text);
json LoadYamlFile(const std::string& path);
std::string ReadFile(const std::string& path);

// The object of `kind` named `name` among rendered documents, if any.
std::optional<json> FindObject(const std::vector<json>& objects, const std::string& kind,
                               const std::string& name);
std::vector<json> ObjectsOfKind(const std::vector<json>& objects, const std::string& kind);

// What RBAC rules grant, one "group/resource:verb" (or "url:verb") string per permission,
// so two rule lists compare by meaning, not by how they are grouped or ordered.
std::set<std::string> Permissions(const json& rules);

// The JSON Schema (2020-12) for HoloMUSH's spec derived from the CRD's OpenAPI schema: the
// same bounds, with unknown fields refused (additionalProperties: false) where the API
// server would silently prune them; CEL rules and defaults stay with the API server.
json SpecSchemaFromCrd(const json& crd);

}  // namespace holomush::testing
