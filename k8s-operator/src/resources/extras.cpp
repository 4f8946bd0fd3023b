// Monitoring (ServiceMonitors, PrometheusRule), backups (CronJob, PVC), the managed
// PostgreSQL and the TLS Secret.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "holomush/operator/resources.hpp"

namespace holomush::op::resources {
namespace {

constexpr int kPostgresUser = 999;  // the postgres user in the official image

// A plain scalar as YAML 1.2's core schema reads it: booleans, null, integers, floats;
// anything else (and every quoted scalar) is a string.
Json CoreSchemaScalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "Null" || text == "NULL" || text == "~") return nullptr;
  if (std::regex_match(text, kInt)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

// `typed`: scalars by the core schema (a resource has integers and booleans); otherwise
// every leaf is a string (a Prometheus rules file: durations, expressions, labels).
Json YamlToJson(const YAML::Node& node, bool typed) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second, typed);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item, typed));
      return out;
    }
    case YAML::NodeType::Scalar:
      return typed ? CoreSchemaScalar(node) : Json(node.as<std::string>());
    default:
      return nullptr;
  }
}

// Metadata of data and its credentials: owned by the HoloMUSH (and so removed with it by
// the garbage collector) only when spec.deletionPolicy is Delete. Retained, they carry our
// labels, so a HoloMUSH of the same name made later finds them and uses them again.
Json DataMetadata(const HoloMush& hm, const std::string& name, const std::string& component) {
  Json meta = ChildMetadata(hm, name, component);
  if (hm.spec.deletion_policy != deletion_policies::kDelete) meta.erase("ownerReferences");
  return meta;
}

Json WithMonitoringLabels(const HoloMush& hm, Json meta) {
  if (hm.spec.monitoring.labels.is_object()) {
    for (auto it = hm.spec.monitoring.labels.begin(); it != hm.spec.monitoring.labels.end(); ++it) {
      if (!meta["labels"].contains(it.key())) meta["labels"][it.key()] = *it;
    }
  }
  return meta;
}

}  // namespace

Json ParseAlertRules(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("alert rules: ") + e.what());
  }
  Json rules = YamlToJson(root, false);
  if (!rules.is_object() || !rules.contains("groups") || !rules["groups"].is_array()) {
    throw std::runtime_error("alert rules: no `groups` list");
  }
  return rules;
}

std::vector<Json> ParseYamlDocuments(std::istream& in) {
  std::vector<Json> out;
  try {
    for (const YAML::Node& document : YAML::LoadAll(in)) out.push_back(YamlToJson(document, true));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(e.what());
  }
  return out;
}

Json ServiceMonitor(const HoloMush& hm, const std::string& component) {
  Json meta = WithMonitoringLabels(hm, ChildMetadata(hm, ChildName(hm, component), component));
  Json selector = SelectorLabels(hm, component);
  selector[kJobLabel] = "holomush-" + component;
  return Json{{"apiVersion", "monitoring.coreos.com/v1"},
              {"kind", "ServiceMonitor"},
              {"metadata", meta},
              {"spec",
               {// The Service's holomush.io/job label names the scrape job, so the guide's
                // job names (holomush-core, holomush-gateway) hold in Kubernetes too.
                {"jobLabel", kJobLabel},
                // The Service carrying the job label: for the gateway, the internal one
                // (the players' Service has no ops port).
                {"selector", {{"matchLabels", selector}}},
                {"endpoints", Json::array({{{"port", "ops"},
                                            {"path", "/metrics"},
                                            {"interval", hm.spec.monitoring.interval}}})}}}};
}

Json PrometheusRule(const HoloMush& hm, const Json& alert_rules) {
  const MonitoringSpec& m = hm.spec.monitoring;
  Json groups = Json::array();
  for (const Json& group : alert_rules.at("groups")) {
    if (group.value("name", "") == kOperatorRuleGroup) continue;
    Json out = group;
    Json rules = Json::array();
    for (Json rule : group.value("rules", Json::array())) {
      const std::string alert = rule.value("alert", "");
      if (!alert.empty() && std::find(m.disabled_alerts.begin(), m.disabled_alerts.end(), alert) !=
                                m.disabled_alerts.end()) {
        continue;
      }
      if (!m.runbook_base_url.empty() && rule.contains("annotations") &&
          rule["annotations"].contains("runbook_url")) {
        std::string url = rule["annotations"]["runbook_url"].get<std::string>();
        if (url.rfind(kDefaultRunbookBase, 0) == 0) {
          url = m.runbook_base_url + url.substr(std::string(kDefaultRunbookBase).size());
        }
        rule["annotations"]["runbook_url"] = url;
      }
      rules.push_back(std::move(rule));
    }
    if (rules.empty()) continue;
    out["rules"] = std::move(rules);
    groups.push_back(std::move(out));
  }
  Json meta = WithMonitoringLabels(hm, ChildMetadata(hm, hm.name, "monitoring"));
  return Json{{"apiVersion", "monitoring.coreos.com/v1"},
              {"kind", "PrometheusRule"},
              {"metadata", meta},
              {"spec", {{"groups", groups}}}};
}

Json BackupClaim(const HoloMush& hm) {
  const BackupSpec& b = hm.spec.backup;
  Json spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
               {"resources",
                {{"requests", {{"storage", b.storage_size.empty() ? "5Gi" : b.storage_size}}}}}};
  if (!b.storage_class.empty()) spec["storageClassName"] = b.storage_class;
  return Json{{"apiVersion", "v1"},
              {"kind", "PersistentVolumeClaim"},
              {"metadata", DataMetadata(hm, ChildName(hm, "backup"), "backup")},
              {"spec", spec}};
}

Json BackupCronJob(const HoloMush& hm) {
  const BackupSpec& b = hm.spec.backup;
  const std::string claim = b.existing_claim.empty() ? ChildName(hm, "backup") : b.existing_claim;
  Json container = {
      {"name", "backup"},
      {"image", hm.spec.image},
      {"imagePullPolicy", hm.spec.image_pull_policy},
      // The run's outcome (one JSON line: msg, step, error) is the pod's termination
      // message, which the operator reads into BackupHealthy (pg_dump refusing a newer
      // server, say); a crash before it is written leaves the log's tail instead.
      {"args",
       {"backup", "run", std::string("--dir=") + kBackupMountPath,
        "--status-file=/dev/termination-log"}},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
      {"env",
       Json::array(
           {{{"name", "DATABASE_URL"},
             {"valueFrom",
              {{"secretKeyRef",
                {{"name", DatabaseSecretName(hm)},
                 {"key", hm.spec.database.existing_secret ? hm.spec.database.existing_secret_key
                                                          : std::string("DATABASE_URL")}}}}}},
            // Retention, read by `holomush backup run` as its --keep-last and
            // --max-age settings.
            {{"name", "HOLOMUSH_BACKUP_KEEP_LAST"}, {"value", std::to_string(b.keep_last)}},
            {{"name", "HOLOMUSH_BACKUP_MAX_AGE"},
             {"value", std::to_string(b.max_age_days * 24) + "h"}}})},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"runAsNonRoot", true},
        {"capabilities", {{"drop", Json::array({"ALL"})}}}}},
      {"volumeMounts", Json::array({{{"name", "backups"}, {"mountPath", kBackupMountPath}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  container["resources"] = ContainerResources(b.resources, "backup");
  Json pod_spec = {
      {"restartPolicy", "Never"},
      {"enableServiceLinks", false},
      {"automountServiceAccountToken", false},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", 10001},
        {"runAsGroup", 10001},
        {"fsGroup", 10001},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", Json::array({container})},
      {"volumes",
       Json::array({{{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", claim}}}},
                    {{"name", "tmp"}, {"emptyDir", Json::object()}}})}};
  if (!hm.spec.image_pull_secrets.empty()) {
    pod_spec["imagePullSecrets"] = hm.spec.image_pull_secrets;
  }
  Json spec = {
      {"schedule", b.schedule},
      {"suspend", b.suspend},
      {"concurrencyPolicy", "Forbid"},
      {"startingDeadlineSeconds", 600},
      {"successfulJobsHistoryLimit", 3},
      {"failedJobsHistoryLimit", 3},
      {"jobTemplate",
       {{"metadata", {{"labels", Labels(hm, "backup")}}},
        {"spec",
         {{"backoffLimit", 2},
          {"activeDeadlineSeconds", 3600},
          // Long enough for the operator to read the outcome even if it was down a while.
          {"ttlSecondsAfterFinished", 7 * 24 * 3600},
          {"template", {{"metadata", {{"labels", Labels(hm, "backup")}}}, {"spec", pod_spec}}}}}}}};
  if (!b.time_zone.empty()) spec["timeZone"] = b.time_zone;
  return Json{{"apiVersion", "batch/v1"},
              {"kind", "CronJob"},
              {"metadata", ChildMetadata(hm, ChildName(hm, "backup"), "backup")},
              {"spec", spec}};
}

Json PostgresSecret(const HoloMush& hm, const std::string& password) {
  const std::string url = "postgres://holomush:" + password + "@" + ChildName(hm, "postgres") +
                          "." + hm.ns + ".svc:" + std::to_string(kPostgresPort) +
                          "/holomush?sslmode=disable";
  return Json{
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", DataMetadata(hm, ChildName(hm, "postgres"), "database")},
      {"type", "Opaque"},
      {"data", {{"password", Base64Encode(password)}, {"DATABASE_URL", Base64Encode(url)}}}};
}

Json PostgresService(const HoloMush& hm) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", ChildMetadata(hm, ChildName(hm, "postgres"), "database")},
              {"spec",
               {{"type", "ClusterIP"},
                {"selector", SelectorLabels(hm, "database")},
                {"ports", Json::array({{{"name", "postgres"},
                                        {"port", kPostgresPort},
                                        {"targetPort", "postgres"},
                                        {"protocol", "TCP"}}})}}}};
}

Json PostgresStatefulSet(const HoloMush& hm) {
  const DatabaseSpec& db = hm.spec.database;
  // Ready: the game's database takes connections on the local socket. Alive: the server
  // answers on TCP at all. Started: the readiness check, with up to 10 minutes of crash
  // recovery before liveness counts, so a long recovery is never cut short by a restart.
  const Json ready = {{"exec", {{"command", {"pg_isready", "-U", "holomush", "-d", "holomush"}}}},
                      {"periodSeconds", 5},
                      {"timeoutSeconds", 3},
                      {"failureThreshold", 3}};
  const Json live = {{"tcpSocket", {{"port", "postgres"}}},
                     {"periodSeconds", 10},
                     {"timeoutSeconds", 3},
                     {"failureThreshold", 6}};
  Json started = ready;
  started["periodSeconds"] = 10;
  started["failureThreshold"] = 60;
  Json container = {
      {"name", "postgres"},
      {"image", db.managed_image},
      {"imagePullPolicy", hm.spec.image_pull_policy},
      {"env",
       Json::array(
           {{{"name", "POSTGRES_USER"}, {"value", "holomush"}},
            {{"name", "POSTGRES_DB"}, {"value", "holomush"}},
            {{"name", "PGDATA"}, {"value", "/var/lib/postgresql/data/pgdata"}},
            {{"name", "POSTGRES_PASSWORD"},
             {"valueFrom",
              {{"secretKeyRef", {{"name", ChildName(hm, "postgres")}, {"key", "password"}}}}}}})},
      {"ports",
       Json::array(
           {{{"name", "postgres"}, {"containerPort", kPostgresPort}, {"protocol", "TCP"}}})},
      {"readinessProbe", ready},
      {"livenessProbe", live},
      {"startupProbe", started},
      // The image writes only its data directory, its socket directory and /tmp.
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", Json::array({"ALL"})}}}}},
      {"resources", ContainerResources(db.managed_resources, "database")},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", "/var/lib/postgresql/data"}},
                                    {{"name", "run"}, {"mountPath", "/var/run/postgresql"}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  Json claim_spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
                     {"resources", {{"requests", {{"storage", db.managed_storage_size}}}}}};
  if (!db.managed_storage_class.empty()) claim_spec["storageClassName"] = db.managed_storage_class;
  Json meta = ChildMetadata(hm, ChildName(hm, "postgres"), "database");
  // Two kube-score checks this StatefulSet does not follow, on purpose: the official
  // image's postgres user is uid 999 and owns every existing data directory; and a
  // StatefulSet's serviceName cannot change, so games made before stay on their Service.
  meta["annotations"]["kube-score/ignore"] =
      "container-security-context-user-group-id,statefulset-has-servicename";
  return Json{{"apiVersion", "apps/v1"},
              {"kind", "StatefulSet"},
              {"metadata", meta},
              {"spec",
               {{"replicas", 1},
                {"serviceName", ChildName(hm, "postgres")},
                {"selector", {{"matchLabels", SelectorLabels(hm, "database")}}},
                {"template",
                 {{"metadata", {{"labels", Labels(hm, "database")}}},
                  {"spec",
                   {{"enableServiceLinks", false},
                    {"automountServiceAccountToken", false},
                    {"securityContext",
                     {{"runAsNonRoot", true},
                      {"runAsUser", kPostgresUser},
                      {"runAsGroup", kPostgresUser},
                      {"fsGroup", kPostgresUser},
                      {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                    {"containers", Json::array({container})},
                    {"volumes", Json::array({{{"name", "run"}, {"emptyDir", Json::object()}},
                                             {{"name", "tmp"}, {"emptyDir", Json::object()}}})}}}}},
                // Its volume follows the deletion policy too (the StatefulSet controller
                // removes the claim only with Delete).
                {"persistentVolumeClaimRetentionPolicy",
                 {{"whenDeleted",
                   hm.spec.deletion_policy == deletion_policies::kDelete ? "Delete" : "Retain"},
                  {"whenScaled", "Retain"}}},
                {"volumeClaimTemplates",
                 Json::array({{{"metadata", {{"name", "data"}}}, {"spec", claim_spec}}})}}}};
}

const std::vector<std::string>& TlsFileNames() {
  static const std::vector<std::string> kNames = {
      "ca.crt", "core.crt", "core.key", "gateway.crt", "gateway.key", "cli.crt", "cli.key"};
  return kNames;
}

std::map<std::string, std::vector<std::string>> CertificateSans(const HoloMush& hm) {
  std::map<std::string, std::vector<std::string>> sans;
  auto add = [&](const std::string& leaf, const std::string& service) {
    const std::string svc = ChildName(hm, service);
    for (const std::string& name : {svc, svc + "." + hm.ns, svc + "." + hm.ns + ".svc",
                                    svc + "." + hm.ns + ".svc.cluster.local"}) {
      sans[leaf].push_back(name);
    }
  };
  add("core", "core");
  add("gateway", "gateway");
  add("gateway", "gateway-internal");
  return sans;
}

std::map<std::string, std::string> CertificateFiles(const common::CertificateSet& set) {
  std::map<std::string, std::string> files;
  files["ca.crt"] = set.ca.certificate_pem;
  for (const auto& [name, pair] : set.leaves) {
    files[name + ".crt"] = pair.certificate_pem;
    files[name + ".key"] = pair.private_key_pem;
  }
  return files;
}

Json TlsSecret(const HoloMush& hm, const std::map<std::string, std::string>& files) {
  Json data = Json::object();
  for (const std::string& name : TlsFileNames()) {
    auto it = files.find(name);
    if (it != files.end()) data[name] = Base64Encode(it->second);
  }
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", ChildMetadata(hm, ChildName(hm, "tls"), "tls")},
              {"type", "Opaque"},
              {"data", data}};
}

Json CaSecret(const HoloMush& hm, const std::map<std::string, std::string>& files) {
  Json data = Json::object();
  for (const char* name : {"ca.crt", "ca.key", "next.crt", "next.key"}) {
    auto it = files.find(name);
    if (it != files.end()) data[name] = Base64Encode(it->second);
  }
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", ChildMetadata(hm, ChildName(hm, "ca"), "tls")},
              {"type", "Opaque"},
              {"data", data}};
}

}  // namespace holomush::op::resources
