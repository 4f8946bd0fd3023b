// KubeClient: the slice of the Kubernetes API the operator uses, behind an interface of ours
// (the libcurl implementation lives in kube/curl_client.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::op {

class OperatorMetrics;

// One kind of object in the API: where it lives and what it is called.
struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lowercase
  std::string kind;
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

namespace kinds {
extern const ResourceType kHoloMush;
extern const ResourceType kDeployment;
extern const ResourceType kStatefulSet;
extern const ResourceType kService;
extern const ResourceType kSecret;
extern const ResourceType kConfigMap;
extern const ResourceType kPersistentVolumeClaim;
extern const ResourceType kPodDisruptionBudget;
extern const ResourceType kNetworkPolicy;
extern const ResourceType kCronJob;
extern const ResourceType kJob;
extern const ResourceType kPod;
extern const ResourceType kServiceMonitor;
extern const ResourceType kPrometheusRule;
extern const ResourceType kLease;
extern const ResourceType kEvent;
// The ResourceType whose `kind` is `kind` among the above; nullptr when none.
const ResourceType* ForKind(const std::string& kind);
}  // namespace kinds

struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  nlohmann::json object;
};

// How a watch ended. `gone` means the resourceVersion is too old: list again.
struct WatchEnd {
  bool gone = false;
  std::string resource_version;  // the newest one seen (bookmarks included)
  int events = 0;                // events received, bookmarks included
};

// Thread-safe: any thread may call any method; each call blocks its caller.
// Errors: 404 -> kNotFound, 409 -> kConflict, 403/401 -> kPermissionDenied,
// 400/422 -> kInvalid, 429/5xx/transport -> kUnavailable.
class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual common::Result<nlohmann::json> Get(const ResourceType& type, const std::string& ns,
                                             const std::string& name) = 0;
  // `ns` empty lists across namespaces; `label_selector` empty selects everything.
  virtual common::Result<ListResult> List(const ResourceType& type, const std::string& ns,
                                          const std::string& label_selector) = 0;
  // Streams events from `resource_version` (with bookmarks) until the server ends the watch,
  // `stop()` turns true (checked about once a second) or an error occurs. A refusal (403,
  // 429, 5xx) and a Status inside the stream (an ERROR event, or a bare Status line) are
  // errors, except 410, which ends the watch as `gone`. Never throws: an exception from
  // `on_event` ends the watch with a kInternal error.
  virtual common::Result<WatchEnd> Watch(const ResourceType& type, const std::string& ns,
                                         const std::string& label_selector,
                                         const std::string& resource_version,
                                         const std::function<void(const WatchEvent&)>& on_event,
                                         const std::function<bool()>& stop) = 0;
  // Server-side apply under kFieldManager with force; `status` applies to /status.
  virtual common::Result<nlohmann::json> Apply(const ResourceType& type,
                                               const nlohmann::json& object,
                                               bool status = false) = 0;
  virtual common::Result<nlohmann::json> Create(const ResourceType& type, const std::string& ns,
                                                const nlohmann::json& object) = 0;
  // PUT with the object's resourceVersion (compare-and-swap); used only for the Lease.
  virtual common::Result<nlohmann::json> Update(const ResourceType& type,
                                                const nlohmann::json& object) = 0;
  virtual common::Status Delete(const ResourceType& type, const std::string& ns,
                                const std::string& name) = 0;
  // Discovery: whether `group_version` (e.g. "monitoring.coreos.com/v1") serves `resource`.
  virtual common::Result<bool> Serves(const std::string& group_version,
                                      const std::string& resource) = 0;
};

// Where the API server is and how to authenticate.
struct KubeConfig {
  std::string server;  // https://host:port
  std::string ca_pem;  // empty: system trust store
  bool insecure_skip_verify = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
  std::string token_file;  // re-read at least every minute (projected tokens rotate)
  std::string ns;          // the context's namespace, or the pod's
  // Bound on one request (watches excepted). The leader elector's client uses a short one,
  // so a hung renewal cannot outlive the renew deadline by much.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // On 429 Too Many Requests, wait the server's Retry-After (1-10 s) and try again, three
  // tries in all. The leader elector's client answers at once instead: waiting out a
  // throttled renewal could outlast the lease.
  bool retry_throttled = true;
};

// Reads a kubeconfig file (current context, or `context`): client certificates or token, as
// files or inline data. Errors name the file and what is missing.
common::Result<KubeConfig> LoadKubeConfig(const std::string& path, const std::string& context = "");
// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account files under `root`
// (default /var/run/secrets/kubernetes.io/serviceaccount).
common::Result<KubeConfig> InClusterConfig(
    const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// The libcurl client; `metrics` (may be null) counts every request by verb and code.
std::unique_ptr<KubeClient> MakeCurlKubeClient(KubeConfig config, OperatorMetrics* metrics);

}  // namespace holomush::op
