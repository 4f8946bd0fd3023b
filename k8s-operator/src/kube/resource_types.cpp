// The kinds the operator reads and writes, by API group, version and resource.
#include "holomush/operator/api.hpp"
#include "holomush/operator/kube_client.hpp"

namespace holomush::op {

namespace kinds {
const ResourceType kHoloMush{kGroup, kVersion, kPlural, kKind, true};
const ResourceType kDeployment{"apps", "v1", "deployments", "Deployment", true};
const ResourceType kStatefulSet{"apps", "v1", "statefulsets", "StatefulSet", true};
const ResourceType kService{"", "v1", "services", "Service", true};
const ResourceType kSecret{"", "v1", "secrets", "Secret", true};
const ResourceType kConfigMap{"", "v1", "configmaps", "ConfigMap", true};
const ResourceType kPersistentVolumeClaim{"", "v1", "persistentvolumeclaims",
                                          "PersistentVolumeClaim", true};
const ResourceType kPodDisruptionBudget{"policy", "v1", "poddisruptionbudgets",
                                        "PodDisruptionBudget", true};
const ResourceType kNetworkPolicy{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy",
                                  true};
const ResourceType kCronJob{"batch", "v1", "cronjobs", "CronJob", true};
const ResourceType kJob{"batch", "v1", "jobs", "Job", true};
const ResourceType kPod{"", "v1", "pods", "Pod", true};
const ResourceType kServiceMonitor{"monitoring.coreos.com", "v1", "servicemonitors",
                                   "ServiceMonitor", true};
const ResourceType kPrometheusRule{"monitoring.coreos.com", "v1", "prometheusrules",
                                   "PrometheusRule", true};
const ResourceType kLease{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceType kEvent{"events.k8s.io", "v1", "events", "Event", true};

const ResourceType* ForKind(const std::string& kind) {
  for (const ResourceType* t :
       {&kHoloMush, &kDeployment, &kStatefulSet, &kService, &kSecret, &kConfigMap,
        &kPersistentVolumeClaim, &kPodDisruptionBudget, &kNetworkPolicy, &kCronJob, &kJob, &kPod,
        &kServiceMonitor, &kPrometheusRule, &kLease, &kEvent}) {
    if (t->kind == kind) return t;
  }
  return nullptr;
}
}  // namespace kinds

}  // namespace holomush::op
