// The HoloMUSH resource (holomush.io/v1alpha1): spec and status types and their JSON mapping.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::op {

using Json = nlohmann::json;

inline constexpr const char* kGroup = "holomush.io";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "holomush.io/v1alpha1";
inline constexpr const char* kKind = "HoloMUSH";
inline constexpr const char* kPlural = "holomushes";
inline constexpr const char* kFieldManager = "holomush-operator";

// Settings shared by core and gateway. Opaque Kubernetes structures (affinity, tolerations,
// spread constraints) are passed through as JSON: the CRD schema bounds them and the API
// server validates them when the Deployment is applied.
struct ComponentSpec {
  int replicas = 1;
  Json resources = Json::object();
  Json node_selector = Json::object();
  Json tolerations = Json::array();
  Json affinity = Json::object();
  Json topology_spread_constraints = Json::array();
  Json pod_annotations = Json::object();
  Json pod_labels = Json::object();
  std::string log_level = "info";
  std::string log_format = "json";
};

struct GatewayServiceSpec {
  std::string type = "ClusterIP";
  int telnet_port = 4201;
  int web_port = 8080;
  std::optional<int> telnet_node_port;
  std::optional<int> web_node_port;
  Json annotations = Json::object();
};

struct DatabaseSpec {
  // Exactly one of these (the CRD's CEL rule enforces it).
  std::optional<std::string> existing_secret;
  std::string existing_secret_key = "DATABASE_URL";
  bool managed = false;
  std::string managed_image = "postgres:15-bookworm";
  std::string managed_storage_size = "1Gi";
  std::string managed_storage_class;
  Json managed_resources = Json::object();
};

struct TlsSpec {
  std::string secret_name;  // empty: the operator generates and rotates <name>-tls
  int validity_days = 365;
};

// The first admin, made explicitly: a Secret of the user's with `username` and `password`
// (the keys of a kubernetes.io/basic-auth Secret). Empty: none is made.
struct AdminSpec {
  std::string secret_name;
};

struct MonitoringSpec {
  bool service_monitors = true;
  bool prometheus_rule = true;
  Json labels = Json::object();
  std::vector<std::string> disabled_alerts;
  std::string runbook_base_url;  // empty: the URLs in alerts/holomush.rules.yaml
  std::string interval = "30s";
};

// Ingress NetworkPolicies for the game's Pods. `metrics_from`: NetworkPolicyPeers that may
// scrape the ops ports (default: the namespace named "monitoring").
struct NetworkPolicySpec {
  bool enabled = true;
  Json metrics_from =
      Json::array({{{"namespaceSelector",
                     {{"matchLabels", {{"kubernetes.io/metadata.name", "monitoring"}}}}}}});
};

struct BackupSpec {
  bool enabled = true;
  std::string schedule = "0 3 * * *";
  std::string time_zone;
  bool suspend = false;
  int keep_last = 7;
  int max_age_days = 30;
  std::string storage_size;  // empty: 5Gi
  std::string storage_class;
  std::string existing_claim;
  Json resources = Json::object();
};

struct HoloMushSpec {
  std::string image;
  std::string image_pull_policy = "IfNotPresent";
  Json image_pull_secrets = Json::array();
  bool paused = false;
  DatabaseSpec database;
  ComponentSpec core;
  ComponentSpec gateway;
  GatewayServiceSpec gateway_service;
  TlsSpec tls;
  AdminSpec admin;
  MonitoringSpec monitoring;
  BackupSpec backup;
  bool pod_disruption_budget = true;
  NetworkPolicySpec network_policy;
  // kRetain: the game's data and its credentials (database Secret and volume, backup
  // claim) outlive the HoloMUSH; kDelete: they go with it.
  std::string deletion_policy = "Retain";
};

struct HoloMush {
  std::string name;
  std::string ns;
  std::string uid;
  int64_t generation = 0;
  bool deleting = false;
  HoloMushSpec spec;
  Json status = Json::object();
};

// Reads a HoloMUSH object as the API server returns it. Fields the API server defaults are
// defaulted here too, so objects written before a default existed read the same.
common::Result<HoloMush> ParseHoloMush(const Json& object);

// Condition types, reasons and phases: the words users see in `kubectl get` and events.
namespace conditions {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kDegraded = "Degraded";
inline constexpr const char* kBackupHealthy = "BackupHealthy";
inline constexpr const char* kMonitoringAvailable = "MonitoringAvailable";
}  // namespace conditions

namespace deletion_policies {
inline constexpr const char* kRetain = "Retain";
inline constexpr const char* kDelete = "Delete";
}  // namespace deletion_policies

namespace reasons {
inline constexpr const char* kAllReplicasReady = "AllReplicasReady";
inline constexpr const char* kReplicasNotReady = "ReplicasNotReady";
inline constexpr const char* kRollingOut = "RollingOut";
inline constexpr const char* kRolloutComplete = "RolloutComplete";
inline constexpr const char* kApplyFailed = "ApplyFailed";
inline constexpr const char* kRolloutStuck = "RolloutStuck";
inline constexpr const char* kTlsUnavailable = "TLSSecretUnavailable";
inline constexpr const char* kInvalidSpec = "InvalidSpec";
inline constexpr const char* kReconciled = "Reconciled";
inline constexpr const char* kPaused = "Paused";
inline constexpr const char* kBackupDisabled = "BackupDisabled";
inline constexpr const char* kNoBackupYet = "NoBackupYet";
inline constexpr const char* kBackupSucceeded = "BackupSucceeded";
inline constexpr const char* kBackupFailed = "BackupFailed";
inline constexpr const char* kMonitoringDisabled = "MonitoringDisabled";
inline constexpr const char* kMonitoringCrdsMissing = "MonitoringCRDsMissing";
inline constexpr const char* kMonitoringApplied = "MonitoringApplied";
}  // namespace reasons

namespace phases {
inline constexpr const char* kPending = "Pending";
inline constexpr const char* kProgressing = "Progressing";
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kDegraded = "Degraded";
inline constexpr const char* kPaused = "Paused";
}  // namespace phases

// One status condition in the standard Kubernetes shape.
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339
};

Json ConditionToJson(const Condition& condition);
std::optional<Condition> FindCondition(const Json& status, const std::string& type);

// `next` with lastTransitionTime carried over from `previous` when the status did not
// change (so an unchanged condition renders byte-identical), or `now` when it did.
Condition CarryTransitionTime(Condition next, const std::optional<Condition>& previous,
                              const std::string& now);

// RFC 3339 UTC, second precision, as Kubernetes writes metav1.Time.
std::string FormatTime(int64_t unix_seconds);
// Parses "2026-01-02T03:04:05Z" (fractions and offsets accepted); nullopt when malformed.
std::optional<int64_t> ParseTime(const std::string& text);

}  // namespace holomush::op
