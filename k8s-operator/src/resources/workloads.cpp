// Core and gateway: ConfigMap, Deployments, Services and PodDisruptionBudgets.
#include <string>
#include <vector>

#include "holomush/operator/resources.hpp"

namespace holomush::op::resources {
namespace {

// Our uid in the image (the Dockerfile's `holomush` user).
constexpr int kRunAsUser = 10001;

Json Port(const std::string& name, int port) {
  return Json{{"name", name}, {"containerPort", port}, {"protocol", "TCP"}};
}

Json HttpProbe(const std::string& path, int period, int failures, int timeout = 2) {
  return Json{{"httpGet", {{"path", path}, {"port", "ops"}}},
              {"periodSeconds", period},
              {"timeoutSeconds", timeout},
              {"failureThreshold", failures}};
}

Json ContainerSecurity() {
  return Json{{"allowPrivilegeEscalation", false},
              {"readOnlyRootFilesystem", true},
              {"runAsNonRoot", true},
              {"capabilities", {{"drop", Json::array({"ALL"})}}}};
}

Json DatabaseEnv(const HoloMush& hm) {
  const std::string key = hm.spec.database.existing_secret ? hm.spec.database.existing_secret_key
                                                           : std::string("DATABASE_URL");
  return Json{{"name", "DATABASE_URL"},
              {"valueFrom", {{"secretKeyRef", {{"name", DatabaseSecretName(hm)}, {"key", key}}}}}};
}

// A component mounts its own key and the certificates of those it accepts calls from (their
// subjects are what it checks callers by), never another component's key: core accepts the
// gateway and the CLI, the gateway's control port only the CLI.
Json TlsItems(const std::string& component) {
  std::vector<std::string> files = {"ca.crt", component + ".crt", component + ".key"};
  if (component == "core") files.emplace_back("gateway.crt");
  files.emplace_back("cli.crt");
  Json items = Json::array();
  for (const std::string& f : files) items.push_back({{"key", f}, {"path", f}});
  return items;
}

Json CommonVolumes(const HoloMush& hm, const std::string& component) {
  return Json::array({{{"name", "tls"},
                       {"secret",
                        {{"secretName", TlsSecretName(hm)},
                         {"defaultMode", 0440},
                         {"items", TlsItems(component)}}}},
                      {{"name", "config"}, {"configMap", {{"name", ChildName(hm, "config")}}}},
                      {{"name", "tmp"}, {"emptyDir", Json::object()}}});
}

Json CommonMounts() {
  return Json::array({{{"name", "tls"}, {"mountPath", kTlsMountPath}, {"readOnly", true}},
                      {{"name", "config"}, {"mountPath", kConfigMountPath}, {"readOnly", true}},
                      {{"name", "tmp"}, {"mountPath", "/tmp"}}});
}

// The pod template both components share; `container` is the main container.
Json PodTemplate(const RenderInput& in, const ComponentSpec& c, const std::string& component,
                 Json container, const std::string& config_hash) {
  const HoloMush& hm = *in.hm;
  Json labels = c.pod_labels.is_object() ? c.pod_labels : Json::object();
  labels.update(Labels(hm, component));  // ours win: they select the Pods
  Json annotations = c.pod_annotations.is_object() ? c.pod_annotations : Json::object();
  annotations[kConfigHashAnnotation] = config_hash;
  if (!in.tls_hash.empty()) annotations[kTlsHashAnnotation] = in.tls_hash;

  container["image"] = hm.spec.image;
  container["imagePullPolicy"] = hm.spec.image_pull_policy;
  container["securityContext"] = ContainerSecurity();
  container["resources"] = ContainerResources(c.resources, component);
  container["volumeMounts"] = CommonMounts();

  Json spec = {{"containers", Json::array({container})},
               {"volumes", CommonVolumes(hm, component)},
               {"enableServiceLinks", false},
               // Neither component calls the Kubernetes API.
               {"automountServiceAccountToken", false},
               {"terminationGracePeriodSeconds", 60},
               {"securityContext",
                {{"runAsNonRoot", true},
                 {"runAsUser", kRunAsUser},
                 {"runAsGroup", kRunAsUser},
                 {"fsGroup", kRunAsUser},
                 {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
  if (!hm.spec.image_pull_secrets.empty()) spec["imagePullSecrets"] = hm.spec.image_pull_secrets;
  if (!c.node_selector.empty()) spec["nodeSelector"] = c.node_selector;
  if (!c.tolerations.empty()) spec["tolerations"] = c.tolerations;
  if (!c.affinity.empty()) {
    spec["affinity"] = c.affinity;
  } else {
    // Replicas on different nodes where the scheduler can: one node's loss is not the game's.
    // Set at any count, so `kubectl scale` changes the count only and rolls no Pod.
    spec["affinity"] = {
        {"podAntiAffinity",
         {{"preferredDuringSchedulingIgnoredDuringExecution",
           Json::array(
               {{{"weight", 100},
                 {"podAffinityTerm",
                  {{"topologyKey", "kubernetes.io/hostname"},
                   {"labelSelector", {{"matchLabels", SelectorLabels(hm, component)}}}}}}})}}}};
  }
  if (!c.topology_spread_constraints.empty()) {
    spec["topologySpreadConstraints"] = c.topology_spread_constraints;
  }
  return Json{{"metadata", {{"labels", labels}, {"annotations", annotations}}}, {"spec", spec}};
}

Json Deployment(const RenderInput& in, const ComponentSpec& c, const std::string& component,
                Json pod_template) {
  const HoloMush& hm = *in.hm;
  Json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", ChildMetadata(hm, ChildName(hm, component), component)}};
  d["spec"] = {
      {"replicas", c.replicas},
      {"revisionHistoryLimit", 5},
      {"selector", {{"matchLabels", SelectorLabels(hm, component)}}},
      // Surge before removing anything: players on the old Pod stay connected until the
      // new one is ready.
      {"strategy",
       {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", 1}}}}},
      {"template", std::move(pod_template)}};
  return d;
}

}  // namespace

Json ConfigMap(const HoloMush& hm) {
  // Listen addresses only: log settings and peers are flags, visible in `kubectl describe`.
  const std::string core = "grpc-addr: 0.0.0.0:" + std::to_string(kCoreGrpcPort) +
                           "\nops-addr: 0.0.0.0:" + std::to_string(kCoreOpsPort) + "\n";
  const std::string gateway = "telnet-addr: 0.0.0.0:" + std::to_string(kGatewayTelnetPort) +
                              "\nweb-addr: 0.0.0.0:" + std::to_string(kGatewayWebPort) +
                              "\ncontrol-addr: 0.0.0.0:" + std::to_string(kGatewayControlPort) +
                              "\nops-addr: 0.0.0.0:" + std::to_string(kGatewayOpsPort) + "\n";
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", ChildMetadata(hm, ChildName(hm, "config"), "config")},
              {"data", {{"core.yaml", core}, {"gateway.yaml", gateway}}}};
}

Json CoreDeployment(const RenderInput& in, const std::string& config_hash) {
  const HoloMush& hm = *in.hm;
  const ComponentSpec& c = hm.spec.core;
  Json container = {
      {"name", "core"},
      {"args",
       {"core", std::string("--config=") + kConfigMountPath + "/core.yaml",
        std::string("--tls-dir=") + kTlsMountPath, "--log-level=" + c.log_level,
        "--log-format=" + c.log_format}},
      {"env", Json::array({DatabaseEnv(hm)})},
      {"ports", Json::array({Port("grpc", kCoreGrpcPort), Port("ops", kCoreOpsPort)})},
      {"livenessProbe", HttpProbe("/healthz/liveness", 10, 3)},
      {"readinessProbe", HttpProbe("/healthz/readiness", 5, 2)},
      // Migrations and the first PostgreSQL connection may take a while: up to 5 minutes
      // before liveness starts counting.
      {"startupProbe", HttpProbe("/healthz/liveness", 5, 60)}};
  Json tmpl = PodTemplate(in, c, "core", container, config_hash);
  auto init = [&](const char* name, Json args, Json env) {
    return Json{{"name", name},
                {"image", hm.spec.image},
                {"imagePullPolicy", hm.spec.image_pull_policy},
                {"args", std::move(args)},
                {"env", std::move(env)},
                {"securityContext", ContainerSecurity()},
                // Init containers run one at a time before core: core's share suits them.
                {"resources", ContainerResources(c.resources, "core")},
                {"volumeMounts", Json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  };
  // Migrations run before core starts; concurrent runs are serialised by an advisory lock.
  // `migrate` prints plain lines and takes no --log-* flags; it waits for a database that is
  // still starting instead of failing into the kubelet's restart backoff (10 s, 20 s, ...).
  Json inits = Json::array(
      {init("migrate", {"migrate", "up", "--wait=5m"}, Json::array({DatabaseEnv(hm)}))});
  if (!hm.spec.admin.secret_name.empty()) {
    // The first admin, from the user's Secret: made once (an existing admin is left as it
    // is), never by promoting a player who took the name first.
    auto from_secret = [&](const char* env, const char* key) {
      return Json{
          {"name", env},
          {"valueFrom", {{"secretKeyRef", {{"name", hm.spec.admin.secret_name}, {"key", key}}}}}};
    };
    inits.push_back(
        init("admin", {"admin", "create", "$(HOLOMUSH_ADMIN_NAME)"},
             Json::array({DatabaseEnv(hm), from_secret("HOLOMUSH_ADMIN_NAME", "username"),
                          from_secret("HOLOMUSH_ADMIN_PASSWORD", "password")})));
  }
  tmpl["spec"]["initContainers"] = std::move(inits);
  return Deployment(in, c, "core", std::move(tmpl));
}

Json GatewayDeployment(const RenderInput& in, const std::string& config_hash) {
  const HoloMush& hm = *in.hm;
  const ComponentSpec& c = hm.spec.gateway;
  Json container = {
      {"name", "gateway"},
      {"args",
       {"gateway", std::string("--config=") + kConfigMountPath + "/gateway.yaml",
        std::string("--tls-dir=") + kTlsMountPath, "--core-addr=" + CoreAddress(hm),
        "--log-level=" + c.log_level, "--log-format=" + c.log_format}},
      {"ports", Json::array({Port("telnet", kGatewayTelnetPort), Port("web", kGatewayWebPort),
                             Port("control", kGatewayControlPort), Port("ops", kGatewayOpsPort)})},
      {"livenessProbe", HttpProbe("/healthz/liveness", 10, 3)},
      {"readinessProbe", HttpProbe("/healthz/readiness", 5, 2)},
      {"startupProbe", HttpProbe("/healthz/liveness", 2, 30)}};
  return Deployment(in, c, "gateway", PodTemplate(in, c, "gateway", container, config_hash));
}

Json CoreService(const HoloMush& hm) {
  Json meta = ChildMetadata(hm, ChildName(hm, "core"), "core");
  meta["labels"][kJobLabel] = "holomush-core";
  return Json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", meta},
              {"spec",
               {{"type", "ClusterIP"},
                {"selector", SelectorLabels(hm, "core")},
                {"ports", Json::array({{{"name", "grpc"},
                                        {"port", kCoreGrpcPort},
                                        {"targetPort", "grpc"},
                                        {"protocol", "TCP"}},
                                       {{"name", "ops"},
                                        {"port", kCoreOpsPort},
                                        {"targetPort", "ops"},
                                        {"protocol", "TCP"}}})}}}};
}

Json GatewayService(const HoloMush& hm) {
  const GatewayServiceSpec& s = hm.spec.gateway_service;
  Json meta = ChildMetadata(hm, ChildName(hm, "gateway"), "gateway");
  if (!s.annotations.empty()) meta["annotations"] = s.annotations;
  Json telnet = {
      {"name", "telnet"}, {"port", s.telnet_port}, {"targetPort", "telnet"}, {"protocol", "TCP"}};
  Json web = {{"name", "web"}, {"port", s.web_port}, {"targetPort", "web"}, {"protocol", "TCP"}};
  if (s.type != "ClusterIP") {
    if (s.telnet_node_port) telnet["nodePort"] = *s.telnet_node_port;
    if (s.web_node_port) web["nodePort"] = *s.web_node_port;
  }
  // Players' ports only: control and ops are on the internal Service.
  Json spec = {{"type", s.type},
               {"selector", SelectorLabels(hm, "gateway")},
               {"ports", Json::array({telnet, web})}};
  // Players' own addresses reach the gateway (not a node's, after SNAT): its per-address
  // limits and core's per-address login backoff depend on them.
  if (s.type != "ClusterIP") spec["externalTrafficPolicy"] = "Local";
  return Json{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", meta}, {"spec", spec}};
}

Json GatewayInternalService(const HoloMush& hm) {
  // Always ClusterIP, whatever the players' Service is: control (gRPC, mTLS) and ops
  // (/metrics and probes, no authentication) never leave the cluster. Its job label makes
  // it the one the gateway ServiceMonitor selects.
  Json meta = ChildMetadata(hm, ChildName(hm, "gateway-internal"), "gateway");
  meta["labels"][kJobLabel] = "holomush-gateway";
  return Json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", meta},
              {"spec",
               {{"type", "ClusterIP"},
                {"selector", SelectorLabels(hm, "gateway")},
                {"ports", Json::array({{{"name", "control"},
                                        {"port", kGatewayControlPort},
                                        {"targetPort", "control"},
                                        {"protocol", "TCP"}},
                                       {{"name", "ops"},
                                        {"port", kGatewayOpsPort},
                                        {"targetPort", "ops"},
                                        {"protocol", "TCP"}}})}}}};
}

Json PodDisruptionBudget(const HoloMush& hm, const std::string& component) {
  return Json{
      {"apiVersion", "policy/v1"},
      {"kind", "PodDisruptionBudget"},
      {"metadata", ChildMetadata(hm, ChildName(hm, component), component)},
      {"spec",
       {{"maxUnavailable", 1}, {"selector", {{"matchLabels", SelectorLabels(hm, component)}}}}}};
}

}  // namespace holomush::op::resources
