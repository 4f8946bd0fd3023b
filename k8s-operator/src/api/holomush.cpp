#include <ctime>

#include "holomush/operator/api.hpp"

namespace holomush::op {
namespace {

using common::ErrorKind;
using common::MakeError;

template <typename T>
void Read(const Json& object, const char* key, T& out) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null()) out = it->get<T>();
}

void ReadJson(const Json& object, const char* key, Json& out) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null()) out = *it;
}

const Json& Child(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

ComponentSpec ReadComponent(const Json& j) {
  ComponentSpec c;
  Read(j, "replicas", c.replicas);
  ReadJson(j, "resources", c.resources);
  ReadJson(j, "nodeSelector", c.node_selector);
  ReadJson(j, "tolerations", c.tolerations);
  ReadJson(j, "affinity", c.affinity);
  ReadJson(j, "topologySpreadConstraints", c.topology_spread_constraints);
  ReadJson(j, "podAnnotations", c.pod_annotations);
  ReadJson(j, "podLabels", c.pod_labels);
  Read(j, "logLevel", c.log_level);
  Read(j, "logFormat", c.log_format);
  return c;
}

}  // namespace

common::Result<HoloMush> ParseHoloMush(const Json& object) {
  try {
    HoloMush hm;
    const Json& meta = Child(object, "metadata");
    Read(meta, "name", hm.name);
    Read(meta, "namespace", hm.ns);
    Read(meta, "uid", hm.uid);
    Read(meta, "generation", hm.generation);
    hm.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
    if (hm.name.empty()) return MakeError(ErrorKind::kInvalid, "metadata.name is empty");
    ReadJson(object, "status", hm.status);
    if (!hm.status.is_object()) hm.status = Json::object();

    const Json& spec = Child(object, "spec");
    HoloMushSpec& s = hm.spec;
    Read(spec, "image", s.image);
    if (s.image.empty()) return MakeError(ErrorKind::kInvalid, "spec.image is empty");
    Read(spec, "imagePullPolicy", s.image_pull_policy);
    ReadJson(spec, "imagePullSecrets", s.image_pull_secrets);
    Read(spec, "paused", s.paused);
    Read(spec, "deletionPolicy", s.deletion_policy);

    const Json& db = Child(spec, "database");
    if (db.contains("existingSecret")) {
      const Json& existing = Child(db, "existingSecret");
      std::string name;
      Read(existing, "name", name);
      s.database.existing_secret = name;
      Read(existing, "key", s.database.existing_secret_key);
    }
    if (db.contains("managed")) {
      const Json& managed = Child(db, "managed");
      s.database.managed = true;
      Read(managed, "image", s.database.managed_image);
      Read(managed, "storageSize", s.database.managed_storage_size);
      Read(managed, "storageClassName", s.database.managed_storage_class);
      ReadJson(managed, "resources", s.database.managed_resources);
    }
    if (s.database.managed == s.database.existing_secret.has_value()) {
      return MakeError(ErrorKind::kInvalid,
                       "spec.database: set exactly one of existingSecret or managed");
    }

    s.core = ReadComponent(Child(spec, "core"));
    const Json& gateway = Child(spec, "gateway");
    s.gateway = ReadComponent(gateway);
    const Json& svc = Child(gateway, "service");
    Read(svc, "type", s.gateway_service.type);
    Read(svc, "telnetPort", s.gateway_service.telnet_port);
    Read(svc, "webPort", s.gateway_service.web_port);
    if (svc.contains("telnetNodePort")) s.gateway_service.telnet_node_port = svc["telnetNodePort"];
    if (svc.contains("webNodePort")) s.gateway_service.web_node_port = svc["webNodePort"];
    ReadJson(svc, "annotations", s.gateway_service.annotations);

    const Json& tls = Child(spec, "tls");
    Read(tls, "secretName", s.tls.secret_name);
    Read(tls, "validityDays", s.tls.validity_days);
    Read(Child(spec, "admin"), "secretName", s.admin.secret_name);

    const Json& mon = Child(spec, "monitoring");
    Read(mon, "serviceMonitors", s.monitoring.service_monitors);
    Read(mon, "prometheusRule", s.monitoring.prometheus_rule);
    ReadJson(mon, "labels", s.monitoring.labels);
    Read(mon, "disabledAlerts", s.monitoring.disabled_alerts);
    Read(mon, "runbookBaseURL", s.monitoring.runbook_base_url);
    Read(mon, "interval", s.monitoring.interval);

    const Json& backup = Child(spec, "backup");
    Read(backup, "enabled", s.backup.enabled);
    Read(backup, "schedule", s.backup.schedule);
    Read(backup, "timeZone", s.backup.time_zone);
    Read(backup, "suspend", s.backup.suspend);
    Read(backup, "keepLast", s.backup.keep_last);
    Read(backup, "maxAgeDays", s.backup.max_age_days);
    Read(backup, "storageSize", s.backup.storage_size);
    Read(backup, "storageClassName", s.backup.storage_class);
    Read(backup, "existingClaim", s.backup.existing_claim);
    ReadJson(backup, "resources", s.backup.resources);

    Read(Child(spec, "podDisruptionBudget"), "enabled", s.pod_disruption_budget);
    const Json& network = Child(spec, "networkPolicy");
    Read(network, "enabled", s.network_policy.enabled);
    ReadJson(network, "metricsFrom", s.network_policy.metrics_from);
    return hm;
  } catch (const Json::exception& e) {
    return MakeError(ErrorKind::kInvalid, std::string("malformed HoloMUSH: ") + e.what());
  }
}

Json ConditionToJson(const Condition& c) {
  return Json{{"type", c.type},
              {"status", c.status},
              {"reason", c.reason},
              {"message", c.message},
              {"observedGeneration", c.observed_generation},
              {"lastTransitionTime", c.last_transition_time}};
}

std::optional<Condition> FindCondition(const Json& status, const std::string& type) {
  auto it = status.find("conditions");
  if (it == status.end() || !it->is_array()) return std::nullopt;
  for (const Json& c : *it) {
    if (c.value("type", "") != type) continue;
    Condition out;
    out.type = type;
    out.status = c.value("status", "");
    out.reason = c.value("reason", "");
    out.message = c.value("message", "");
    out.observed_generation = c.value("observedGeneration", int64_t{0});
    out.last_transition_time = c.value("lastTransitionTime", "");
    return out;
  }
  return std::nullopt;
}

Condition CarryTransitionTime(Condition next, const std::optional<Condition>& previous,
                              const std::string& now) {
  if (previous && previous->status == next.status && !previous->last_transition_time.empty()) {
    next.last_transition_time = previous->last_transition_time;
  } else {
    next.last_transition_time = now;
  }
  return next;
}

std::string FormatTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<int64_t> ParseTime(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (*rest >= '0' && *rest <= '9') ++rest;
  }
  int64_t offset = 0;
  if (*rest == '+' || *rest == '-') {
    int hours = 0;
    int minutes = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset = (hours * 3600 + minutes * 60) * (*rest == '+' ? 1 : -1);
  } else if (*rest != 'Z' && *rest != '\0') {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) - offset;
}

}  // namespace holomush::op
