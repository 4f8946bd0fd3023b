// Pure builders: a HoloMUSH in, the Kubernetes objects it owns out. No I/O; unit-tested.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/certs.hpp"
#include "holomush/operator/api.hpp"

namespace holomush::op::resources {

inline constexpr const char* kAppliedHashAnnotation = "holomush.io/applied-hash";
inline constexpr const char* kConfigHashAnnotation = "holomush.io/config-hash";
inline constexpr const char* kTlsHashAnnotation = "holomush.io/tls-hash";
inline constexpr const char* kJobLabel = "holomush.io/job";
inline constexpr const char* kNameLabel = "app.kubernetes.io/name";
inline constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";
inline constexpr const char* kComponentLabel = "app.kubernetes.io/component";
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
// On a user's Pod, "<game name>": the game's NetworkPolicies let it reach core's gRPC and the
// gateway's control port (what `holomush status` dials). The certificate check still applies.
inline constexpr const char* kClientLabel = "holomush.io/client";
inline constexpr const char* kManagedBy = "holomush-operator";
// What every watch of children selects on: only objects this operator made.
inline constexpr const char* kChildSelector = "app.kubernetes.io/managed-by=holomush-operator";
inline constexpr const char* kDefaultRunbookBase =
    "https://github.com/holomush/holomush/blob/main/alerts/runbooks/";
// The rule group that watches the operator itself: the chart ships it, not each game.
inline constexpr const char* kOperatorRuleGroup = "holomush.operator";

inline constexpr int kCoreGrpcPort = 9000;
inline constexpr int kCoreOpsPort = 9100;
inline constexpr int kGatewayTelnetPort = 4201;
inline constexpr int kGatewayWebPort = 8080;
inline constexpr int kGatewayControlPort = 9002;
inline constexpr int kGatewayOpsPort = 9101;
inline constexpr int kPostgresPort = 5432;
inline constexpr const char* kTlsMountPath = "/etc/holomush/tls";
inline constexpr const char* kConfigMountPath = "/etc/holomush/config";
inline constexpr const char* kBackupMountPath = "/backups";

// Everything a render needs beyond the HoloMUSH itself; the controller gathers it.
struct RenderInput {
  const HoloMush* hm = nullptr;
  // The operator-generated certificate files ("ca.crt", "core.key", ...); empty when the
  // user brings spec.tls.secretName.
  std::map<std::string, std::string> tls_files;
  // The signing CA for <name>-ca ("ca.crt", "ca.key", "next.crt", "next.key"): the Pods
  // never mount it. Empty when the user brings spec.tls.secretName.
  std::map<std::string, std::string> ca_files;
  // A hash of the certificates in use: stamped on the pod templates so a rotation rolls
  // the Pods and nothing else does.
  std::string tls_hash;
  std::string postgres_password;      // managed database only
  bool monitoring_available = false;  // the monitoring.coreos.com CRDs exist
  const Json* alert_rules = nullptr;  // alerts/holomush.rules.yaml as JSON ({"groups": [...]})
};

// Every child, in apply order, each carrying kAppliedHashAnnotation (the hash of the object
// without it). Paused resources render nothing.
std::vector<Json> RenderChildren(const RenderInput& input);

std::string ChildName(const HoloMush& hm, const std::string& suffix);
std::string TlsSecretName(const HoloMush& hm);
std::string DatabaseSecretName(const HoloMush& hm);
// "<name>-core.<ns>.svc:9000": what the gateway dials.
std::string CoreAddress(const HoloMush& hm);

// Requests and limits for a container of `component` (core, gateway, backup, database):
// `given` when the spec sets any, else our measured defaults (docs/design/operator.md).
Json ContainerResources(const Json& given, const std::string& component);

Json Labels(const HoloMush& hm, const std::string& component);
Json SelectorLabels(const HoloMush& hm, const std::string& component);
// The same labels as a label selector string ("k=v,k=v"), as the scale subresource gives it.
std::string SelectorString(const HoloMush& hm, const std::string& component);
Json OwnerReference(const HoloMush& hm);
// name, namespace, our labels and the controller ownerReference.
Json ChildMetadata(const HoloMush& hm, const std::string& name, const std::string& component);

Json ConfigMap(const HoloMush& hm);
Json CoreDeployment(const RenderInput& input, const std::string& config_hash);
Json GatewayDeployment(const RenderInput& input, const std::string& config_hash);
Json CoreService(const HoloMush& hm);
// Telnet and WebSocket only, of spec.gateway.service's type.
Json GatewayService(const HoloMush& hm);
// `<name>-gateway-internal`, ClusterIP: control (9002) and ops (9101, scraped).
Json GatewayInternalService(const HoloMush& hm);
Json PodDisruptionBudget(const HoloMush& hm, const std::string& component);
// Ingress rules for core, the gateway and the managed PostgreSQL (spec.networkPolicy).
std::vector<Json> NetworkPolicies(const HoloMush& hm);
Json ServiceMonitor(const HoloMush& hm, const std::string& component);
Json PrometheusRule(const HoloMush& hm, const Json& alert_rules);
Json BackupClaim(const HoloMush& hm);
Json BackupCronJob(const HoloMush& hm);
Json PostgresSecret(const HoloMush& hm, const std::string& password);
Json PostgresService(const HoloMush& hm);
Json PostgresStatefulSet(const HoloMush& hm);
Json TlsSecret(const HoloMush& hm, const std::map<std::string, std::string>& files);
// <name>-ca: the key that signs the leaves, kept so a renewal keeps the CA every Pod trusts.
Json CaSecret(const HoloMush& hm, const std::map<std::string, std::string>& files);

// DNS names each server certificate must carry, and the other must not (short, namespaced
// and FQDN forms): "core" its Service's, "gateway" the gateway and gateway-internal ones.
std::map<std::string, std::vector<std::string>> CertificateSans(const HoloMush& hm);
// ca.crt, core.crt, core.key, gateway.crt, gateway.key, cli.crt, cli.key.
std::map<std::string, std::string> CertificateFiles(const common::CertificateSet& set);
// The file names a usable TLS Secret holds.
const std::vector<std::string>& TlsFileNames();

// alerts/holomush.rules.yaml to JSON; throws std::runtime_error on malformed YAML.
Json ParseAlertRules(const std::string& yaml_text);
// Every document of a YAML stream as JSON, plain scalars typed by YAML 1.2's core schema
// (quoted ones stay strings); throws std::runtime_error on malformed YAML.
std::vector<Json> ParseYamlDocuments(std::istream& in);

// SHA-256 (hex) of the canonical JSON of `object`.
std::string Hash(const Json& object);
// True when every field `want` sets has the same value in `live` (fields the API server
// adds or defaults are ignored; an empty map or list in `want` matches an absent one).
bool Covers(const Json& live, const Json& want);

std::string Base64Encode(const std::string& bytes);
std::string Base64Decode(const std::string& text);

// The longest time any three consecutive runs of a cron schedule (five fields or an
// @descriptor) span, that is two intervals back to back; nullopt when it cannot be read or
// runs fewer than three times in nine years. Computed on the schedule's own clock.
std::optional<int64_t> ScheduleTwoRunSpanSeconds(const std::string& schedule);
// How old the newest successful backup may be before BackupTooOld: one missed run is
// tolerated, wherever in the schedule it falls (a weekday-only schedule's weekend gap
// included). Two days when the schedule cannot be read.
int64_t BackupMaxAgeSeconds(const std::string& schedule);

}  // namespace holomush::op::resources
