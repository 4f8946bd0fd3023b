// RenderChildren: which children a HoloMUSH has, in apply order.
#include "holomush/operator/resources.hpp"

namespace holomush::op::resources {

std::vector<Json> RenderChildren(const RenderInput& in) {
  const HoloMush& hm = *in.hm;
  std::vector<Json> out;
  if (hm.spec.paused) return out;
  // Secrets and configuration first, so the Pods that mount them start cleanly.
  if (hm.spec.tls.secret_name.empty() && !in.ca_files.empty()) {
    out.push_back(CaSecret(hm, in.ca_files));
  }
  if (hm.spec.tls.secret_name.empty() && !in.tls_files.empty()) {
    out.push_back(TlsSecret(hm, in.tls_files));
  }
  if (hm.spec.database.managed) {
    out.push_back(PostgresSecret(hm, in.postgres_password));
    out.push_back(PostgresService(hm));
    out.push_back(PostgresStatefulSet(hm));
  }
  Json config = ConfigMap(hm);
  const std::string config_hash = Hash(config["data"]).substr(0, 16);
  out.push_back(std::move(config));
  out.push_back(CoreService(hm));
  out.push_back(GatewayService(hm));
  out.push_back(GatewayInternalService(hm));
  out.push_back(CoreDeployment(in, config_hash));
  out.push_back(GatewayDeployment(in, config_hash));
  if (hm.spec.pod_disruption_budget) {
    out.push_back(PodDisruptionBudget(hm, "core"));
    out.push_back(PodDisruptionBudget(hm, "gateway"));
  }
  if (hm.spec.network_policy.enabled) {
    for (Json& policy : NetworkPolicies(hm)) out.push_back(std::move(policy));
  }
  if (hm.spec.backup.enabled) {
    if (hm.spec.backup.existing_claim.empty()) out.push_back(BackupClaim(hm));
    out.push_back(BackupCronJob(hm));
  }
  if (in.monitoring_available) {
    if (hm.spec.monitoring.service_monitors) {
      out.push_back(ServiceMonitor(hm, "core"));
      out.push_back(ServiceMonitor(hm, "gateway"));
    }
    if (hm.spec.monitoring.prometheus_rule && in.alert_rules != nullptr) {
      out.push_back(PrometheusRule(hm, *in.alert_rules));
    }
  }
  for (Json& object : out) {
    const std::string hash = Hash(object);
    object["metadata"]["annotations"][kAppliedHashAnnotation] = hash;
  }
  return out;
}

}  // namespace holomush::op::resources
