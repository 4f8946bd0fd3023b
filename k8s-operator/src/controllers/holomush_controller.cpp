// Reconcile of one HoloMUSH: gather, render, apply what changed, prune, report status.
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/operator/controller.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {

namespace r = resources;
using common::ErrorKind;
using common::MakeError;
using std::chrono::milliseconds;

namespace {

constexpr const char* kController = "holomush";
// Kinds the operator writes and may delete when a toggle turns them off. Secrets (database
// password, TLS) and PersistentVolumeClaims (backups) are never pruned: they hold data.
const std::vector<std::string> kPrunable = {"Deployment",          "Service",       "ConfigMap",
                                            "PodDisruptionBudget", "CronJob",       "StatefulSet",
                                            "ServiceMonitor",      "PrometheusRule"};

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

// object[key] when it is an object, else an empty object: never the assertion that a
// const operator[] on a missing key is (objects fresh from an apply may lack status).
const Json& Field(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

bool OwnedBy(const Json& object, const std::string& uid) {
  for (const Json& ref : Field(object, "metadata").value("ownerReferences", Json::array())) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

std::string Annotation(const Json& object, const char* key) {
  return Field(Field(object, "metadata"), "annotations").value(key, "");
}

bool HasCondition(const Json& object, const std::string& type, const std::string& status,
                  const std::string& reason = "") {
  for (const Json& c : Field(object, "status").value("conditions", Json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == status &&
        (reason.empty() || c.value("reason", "") == reason)) {
      return true;
    }
  }
  return false;
}

struct Rollout {
  bool exists = false;
  bool complete = false;  // current generation observed, all replicas updated and ready
  bool stuck = false;
  int desired = 0;
  int ready = 0;
  int updated = 0;
  Json status;
};

Rollout ReadRollout(const std::optional<Json>& deployment, int desired) {
  Rollout r;
  r.desired = desired;
  if (!deployment) return r;
  r.exists = true;
  const Json& d = *deployment;
  const Json& st = d.value("status", Json::object());
  r.ready = st.value("readyReplicas", 0);
  r.updated = st.value("updatedReplicas", 0);
  const int64_t generation = Field(d, "metadata").value("generation", int64_t{0});
  const bool observed = st.value("observedGeneration", int64_t{0}) >= generation;
  r.complete = observed && r.updated >= desired && r.ready >= desired &&
               st.value("replicas", 0) <= desired + 0;
  r.stuck = HasCondition(d, "Progressing", "False", "ProgressDeadlineExceeded") ||
            HasCondition(d, "ReplicaFailure", "True");
  r.status = {{"replicas", desired},
              {"readyReplicas", r.ready},
              {"updatedReplicas", r.updated},
              {"ready", std::to_string(r.ready) + "/" + std::to_string(desired)}};
  return r;
}

// notAfter of the earliest of the server certificates in `files`.
std::optional<int64_t> EarliestNotAfter(const std::map<std::string, std::string>& files) {
  std::optional<int64_t> earliest;
  for (const char* name : {"core.crt", "gateway.crt", "cli.crt", "ca.crt"}) {
    auto it = files.find(name);
    if (it == files.end()) continue;
    auto t = common::CertificateNotAfter(it->second);
    if (t && (!earliest || *t < *earliest)) earliest = t;
  }
  return earliest;
}

// Whether the core and gateway certificates both carry every name in `names`.
bool CoversNames(const std::map<std::string, std::string>& files,
                 const std::vector<std::string>& names) {
  for (const char* leaf : {"core.crt", "gateway.crt"}) {
    auto it = files.find(leaf);
    if (it == files.end()) return false;
    const std::vector<std::string> have = common::CertificateDnsNames(it->second);
    for (const std::string& name : names) {
      if (std::find(have.begin(), have.end(), name) == have.end()) return false;
    }
  }
  return true;
}

std::string CertificateHash(const std::map<std::string, std::string>& files) {
  Json certs = Json::object();
  for (const auto& [name, pem] : files) {
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".crt") == 0) certs[name] = pem;
  }
  return r::Hash(certs).substr(0, 16);
}

}  // namespace

Controller::Controller(KubeClient& client, OperatorMetrics& metrics, ControllerOptions options,
                       common::Logger log)
    : client_(client), metrics_(metrics), options_(std::move(options)), log_(std::move(log)) {
  if (!options_.now) {
    options_.now = [] {
      return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    };
  }
  queue_.OnDepth(
      [this](size_t depth, size_t waiting) { metrics_.QueueDepth(kController, depth, waiting); });
}

Controller::~Controller() { Stop(); }

int64_t Controller::Now() const { return options_.now(); }

Informer* Controller::InformerFor(const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = informers_.find(kind);
  return it == informers_.end() ? nullptr : it->second.get();
}

void Controller::Enqueue(const Json& object, bool is_holomush) {
  const Json& meta = Field(object, "metadata");
  const std::string ns = meta.value("namespace", "");
  if (is_holomush) {
    queue_.Add(ns + "/" + meta.value("name", ""));
    return;
  }
  const Json labels = meta.value("labels", Json::object());
  const std::string instance = labels.value(r::kInstanceLabel, "");
  if (!instance.empty()) queue_.Add(ns + "/" + instance);
}

void Controller::StartCaches() {
  const std::vector<const ResourceType*> children = {&kinds::kDeployment,
                                                     &kinds::kStatefulSet,
                                                     &kinds::kService,
                                                     &kinds::kSecret,
                                                     &kinds::kConfigMap,
                                                     &kinds::kPersistentVolumeClaim,
                                                     &kinds::kPodDisruptionBudget,
                                                     &kinds::kCronJob,
                                                     &kinds::kJob};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto hm =
        std::make_unique<Informer>(client_, kinds::kHoloMush, options_.watch_namespace, "", log_);
    hm->OnChange([this](const Json& o) { Enqueue(o, true); });
    informers_[kinds::kHoloMush.kind] = std::move(hm);
    for (const ResourceType* type : children) {
      auto inf = std::make_unique<Informer>(client_, *type, options_.watch_namespace,
                                            r::kChildSelector, log_);
      inf->OnChange([this](const Json& o) { Enqueue(o, false); });
      informers_[type->kind] = std::move(inf);
    }
    for (auto& [kind, inf] : informers_) inf->Start();
  }
  if (Discover()) StartMonitoringInformers();
  discovery_ = std::thread([this] { DiscoveryLoop(); });
}

bool Controller::Discover() {
  try {
    auto monitors = client_.Serves("monitoring.coreos.com/v1", "servicemonitors");
    auto rules = client_.Serves("monitoring.coreos.com/v1", "prometheusrules");
    if (!monitors.ok() || !rules.ok()) return monitoring_available_.load();  // keep what we knew
    const bool available = monitors.value() && rules.value();
    monitoring_available_ = available;
    return available;
  } catch (const std::exception& e) {
    // A discovery document we cannot read: keep what we knew, look again next interval.
    log_.Warn("discovery failed", {{"error", e.what()}});
    return monitoring_available_.load();
  }
}

void Controller::StartMonitoringInformers() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const ResourceType* type : {&kinds::kServiceMonitor, &kinds::kPrometheusRule}) {
    if (informers_.count(type->kind)) continue;
    auto inf = std::make_unique<Informer>(client_, *type, options_.watch_namespace,
                                          r::kChildSelector, log_);
    inf->OnChange([this](const Json& o) { Enqueue(o, false); });
    inf->Start();
    informers_[type->kind] = std::move(inf);
  }
}

void Controller::DiscoveryLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(stop_mu_);
      if (stop_cv_.wait_for(lock, options_.discovery_interval,
                            [this] { return stopping_.load(); })) {
        return;
      }
    }
    const bool before = monitoring_available_.load();
    const bool now = Discover();
    if (before == now) continue;
    log_.Info(now ? "monitoring CRDs appeared" : "monitoring CRDs disappeared", {});
    if (now) StartMonitoringInformers();
    // Every HoloMUSH's MonitoringAvailable (and its monitors) follow.
    if (Informer* hm = InformerFor(kinds::kHoloMush.kind)) {
      for (const Json& o : hm->All()) Enqueue(o, true);
    }
  }
}

bool Controller::CachesSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (informers_.empty()) return false;
  for (const auto& [kind, inf] : informers_) {
    if (!inf->Synced()) return false;
  }
  return true;
}

void Controller::StartWorkers() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { Worker(); });
  }
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_.exchange(true)) return;
  }
  stop_cv_.notify_all();
  queue_.ShutDown();
  for (auto& w : workers_) w.join();
  workers_.clear();
  if (discovery_.joinable()) discovery_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [kind, inf] : informers_) inf->RequestStop();  // all at once, then wait
  for (auto& [kind, inf] : informers_) inf->Stop();
}

void Controller::Worker() {
  while (auto key = queue_.Get()) {
    const auto start = std::chrono::steady_clock::now();
    // A bug in one reconcile must not take the process (and every other game) down.
    common::Result<ReconcileOutcome> outcome = MakeError(ErrorKind::kInternal, "");
    try {
      outcome = Reconcile(*key);
    } catch (const std::exception& e) {
      outcome = MakeError(ErrorKind::kInternal, std::string("reconcile threw: ") + e.what());
    } catch (...) {
      outcome = MakeError(ErrorKind::kInternal, "reconcile threw");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.ok()) {
      queue_.Forget(*key);
      if (outcome->requeue_after) queue_.AddAfter(*key, *outcome->requeue_after);
      metrics_.Reconciled(kController, "success", seconds);
    } else if (outcome.error().kind == ErrorKind::kConflict) {
      // Someone wrote between our read and our write: read again soon.
      queue_.AddAfter(*key, milliseconds(500));
      metrics_.Reconciled(kController, "requeue", seconds);
    } else {
      const auto delay = queue_.AddRateLimited(*key);
      metrics_.Reconciled(kController, "error", seconds);
      log_.Warn(
          "reconcile failed",
          {{"key", *key}, {"error", outcome.error().message}, {"retry_in_ms", delay.count()}});
    }
    queue_.Done(*key);
  }
}

Controller::TlsState Controller::PrepareTls(const HoloMush& hm, int64_t now) {
  TlsState tls;
  std::map<std::string, std::string> files;
  if (!hm.spec.tls.secret_name.empty()) {
    auto secret = client_.Get(kinds::kSecret, hm.ns, hm.spec.tls.secret_name);
    if (!secret.ok()) {
      tls.error = "TLS Secret " + hm.spec.tls.secret_name + ": " + secret.error().message;
      return tls;
    }
    for (const std::string& name : r::TlsFileNames()) {
      const Json& data = secret.value().value("data", Json::object());
      if (!data.contains(name)) {
        tls.error = "TLS Secret " + hm.spec.tls.secret_name + " has no " + name;
        return tls;
      }
      files[name] = r::Base64Decode(data[name].get<std::string>());
    }
    tls.hash = CertificateHash(files);
    tls.not_after = EarliestNotAfter(files);
    return tls;
  }

  const int64_t validity = int64_t{hm.spec.tls.validity_days} * 86400;
  const int64_t renew_before = validity / 3;
  bool reuse = false;
  if (Informer* secrets = InformerFor(kinds::kSecret.kind)) {
    if (auto live = secrets->Get(hm.ns, r::TlsSecretName(hm)); live && OwnedBy(*live, hm.uid)) {
      const Json data = live->value("data", Json::object());
      reuse = true;
      for (const std::string& name : r::TlsFileNames()) {
        if (!data.contains(name)) {
          reuse = false;
          break;
        }
        files[name] = r::Base64Decode(data[name].get<std::string>());
      }
      const auto not_after = reuse ? EarliestNotAfter(files) : std::nullopt;
      if (!not_after || *not_after - renew_before <= now) reuse = false;
      // Certificates made before a Service was added lack its name: make new ones.
      if (reuse && !CoversNames(files, r::CertificateSans(hm))) reuse = false;
    }
  }
  if (!reuse) {
    try {
      common::CertificateOptions options;
      options.extra_sans = r::CertificateSans(hm);
      options.validity_days = hm.spec.tls.validity_days;
      options.ca_validity_days = std::max(hm.spec.tls.validity_days * 2, 3650);
      files = r::CertificateFiles(common::GenerateCertificateSet(options));
      log_.Info("generated certificates", {{"holomush", hm.ns + "/" + hm.name}});
    } catch (const std::exception& e) {
      tls.error = std::string("generating certificates: ") + e.what();
      return tls;
    }
  }
  tls.files = files;
  tls.hash = CertificateHash(files);
  tls.not_after = EarliestNotAfter(files);
  if (tls.not_after) tls.renew_at = *tls.not_after - renew_before;
  return tls;
}

std::string Controller::PostgresPassword(const HoloMush& hm) {
  if (Informer* secrets = InformerFor(kinds::kSecret.kind)) {
    if (auto live = secrets->Get(hm.ns, r::ChildName(hm, "postgres"))) {
      const Json data = live->value("data", Json::object());
      if (data.contains("password")) return r::Base64Decode(data["password"].get<std::string>());
    }
  }
  return RandomHex(24);
}

common::Result<bool> Controller::ApplyChild(const Json& want) {
  const std::string kind = want.at("kind").get<std::string>();
  const ResourceType* type = kinds::ForKind(kind);
  if (type == nullptr) return MakeError(ErrorKind::kInternal, "no resource type for " + kind);
  const Json& meta = want["metadata"];
  Informer* cache = InformerFor(kind);
  if (cache != nullptr) {
    auto live = cache->Get(meta.value("namespace", ""), meta.value("name", ""));
    if (live &&
        Annotation(*live, r::kAppliedHashAnnotation) ==
            Annotation(want, r::kAppliedHashAnnotation) &&
        r::Covers(*live, want)) {
      return false;  // unchanged: write nothing
    }
  }
  auto applied = client_.Apply(*type, want);
  if (!applied.ok()) return applied.error();
  if (cache != nullptr) cache->Upsert(applied.value());
  return true;
}

std::string Controller::Prune(const HoloMush& hm, const std::vector<Json>& rendered) {
  std::set<std::string> wanted;
  for (const Json& o : rendered) {
    wanted.insert(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  }
  std::vector<std::pair<std::string, std::string>> doomed;  // kind, name
  for (const std::string& kind : kPrunable) {
    Informer* cache = InformerFor(kind);
    if (cache == nullptr) continue;
    for (const Json& o : cache->ListByLabel(hm.ns, r::kInstanceLabel, hm.name)) {
      const std::string name = Field(o, "metadata").value("name", "");
      if (OwnedBy(o, hm.uid) && !wanted.count(kind + "/" + name)) doomed.emplace_back(kind, name);
    }
  }
  // The generated TLS Secret goes when the user brings their own.
  if (!hm.spec.tls.secret_name.empty()) {
    if (Informer* secrets = InformerFor(kinds::kSecret.kind)) {
      if (auto s = secrets->Get(hm.ns, r::ChildName(hm, "tls")); s && OwnedBy(*s, hm.uid)) {
        doomed.emplace_back("Secret", r::ChildName(hm, "tls"));
      }
    }
  }
  for (const auto& [kind, name] : doomed) {
    auto st = client_.Delete(*kinds::ForKind(kind), hm.ns, name);
    if (!st.ok()) return st.error().message;
    log_.Info("deleted child",
              {{"holomush", hm.ns + "/" + hm.name}, {"kind", kind}, {"name", name}});
  }
  return "";
}

common::Result<ReconcileOutcome> Controller::Reconcile(const std::string& key) {
  ReconcileOutcome outcome;
  const auto [ns, name] = SplitKey(key);
  Informer* hm_cache = InformerFor(kinds::kHoloMush.kind);
  auto object = hm_cache ? hm_cache->Get(ns, name) : std::nullopt;
  if (!object) {
    metrics_.ForgetBackup(ns, name);
    return outcome;  // deleted: the garbage collector removes the children
  }
  auto parsed = ParseHoloMush(*object);
  if (!parsed.ok()) {
    log_.Warn("invalid HoloMUSH", {{"holomush", key}, {"error", parsed.error().message}});
    return outcome;  // the CRD schema should have refused it; nothing sensible to do
  }
  const HoloMush& hm = parsed.value();
  if (hm.deleting) return outcome;
  const int64_t now = Now();

  TlsState tls = PrepareTls(hm, now);
  std::string apply_error;
  bool conflict = false;
  bool monitoring_applied = monitoring_available_.load();
  if (!tls.error.empty()) {
    // Never apply what could not be fully rendered: without the certificates' hash the pod
    // templates would lose their tls-hash annotation and every Pod would roll, and roll
    // again once the Secret is readable. Report, and retry with backoff.
    log_.Warn("not applying: TLS unavailable", {{"holomush", key}, {"error", tls.error}});
  } else {
    r::RenderInput input;
    input.hm = &hm;
    input.tls_files = tls.files;
    input.tls_hash = tls.hash;
    input.monitoring_available = monitoring_applied;
    input.alert_rules = options_.alert_rules.is_object() ? &options_.alert_rules : nullptr;
    if (hm.spec.database.managed) input.postgres_password = PostgresPassword(hm);
    const std::vector<Json> children = r::RenderChildren(input);

    for (const Json& child : children) {
      auto applied = ApplyChild(child);
      if (applied.ok()) {
        (applied.value() ? outcome.applied : outcome.skipped)++;
        continue;
      }
      const std::string kind = child["kind"].get<std::string>();
      if (kind == "ServiceMonitor" || kind == "PrometheusRule") monitoring_applied = false;
      if (applied.error().kind == ErrorKind::kConflict) conflict = true;
      if (apply_error.empty()) {
        apply_error = kind + " " + child["metadata"]["name"].get<std::string>() + ": " +
                      applied.error().message;
      }
    }
    if (apply_error.empty() && !hm.spec.paused) apply_error = Prune(hm, children);
    if (!apply_error.empty()) {
      log_.Warn("applying children failed", {{"holomush", key}, {"error", apply_error}});
    }
  }

  Json status = BuildStatus(hm, tls, apply_error, monitoring_applied, now);
  if (status != hm.status) {
    Json patch = {{"apiVersion", kApiVersion},
                  {"kind", kKind},
                  {"metadata", {{"name", hm.name}, {"namespace", hm.ns}}},
                  {"status", status}};
    auto written = client_.Apply(kinds::kHoloMush, patch, /*status=*/true);
    if (!written.ok()) {
      if (written.error().kind == ErrorKind::kNotFound) return outcome;
      return written.error();
    }
    hm_cache->Upsert(written.value());
    EmitEvents(hm, hm.status, status);
  }
  RecordBackupMetrics(hm, status);

  if (conflict) return MakeError(ErrorKind::kConflict, apply_error);
  if (!apply_error.empty() || !tls.error.empty()) {
    return MakeError(ErrorKind::kUnavailable, apply_error.empty() ? tls.error : apply_error);
  }
  if (!hm.spec.tls.secret_name.empty()) {
    // The user's Secret is not labelled, so not watched: look again every few minutes (a
    // read; a rotation there then rolls the Pods through the tls-hash annotation).
    outcome.requeue_after = std::chrono::minutes(5);
  } else if (tls.renew_at) {
    // Wake up for the renewal (at most a day ahead, so a long sleep never drifts far).
    const int64_t wait = std::clamp<int64_t>(*tls.renew_at - now, 1, 86400);
    outcome.requeue_after = std::chrono::seconds(wait);
  }
  return outcome;
}

Json Controller::BuildStatus(const HoloMush& hm, const TlsState& tls,
                             const std::string& apply_error, bool monitoring_applied, int64_t now) {
  Informer* deployments = InformerFor(kinds::kDeployment.kind);
  const Rollout core =
      ReadRollout(deployments ? deployments->Get(hm.ns, r::ChildName(hm, "core")) : std::nullopt,
                  hm.spec.core.replicas);
  const Rollout gateway =
      ReadRollout(deployments ? deployments->Get(hm.ns, r::ChildName(hm, "gateway")) : std::nullopt,
                  hm.spec.gateway.replicas);

  Json status = Json::object();
  status["observedGeneration"] = hm.generation;
  if (core.exists) status["core"] = core.status;
  if (gateway.exists) status["gateway"] = gateway.status;

  // Endpoints players use.
  if (Informer* services = InformerFor(kinds::kService.kind)) {
    if (auto svc = services->Get(hm.ns, r::ChildName(hm, "gateway"))) {
      std::string host = r::ChildName(hm, "gateway") + "." + hm.ns + ".svc";
      const Json ingress = svc->value("status", Json::object())
                               .value("loadBalancer", Json::object())
                               .value("ingress", Json::array());
      if (!ingress.empty()) {
        host = ingress[0].value("ip", ingress[0].value("hostname", host));
      }
      const auto& s = hm.spec.gateway_service;
      status["endpoints"] = {{"telnet", host + ":" + std::to_string(s.telnet_port)},
                             {"web", "http://" + host + ":" + std::to_string(s.web_port) + "/ws"}};
    }
  }
  status["tls"] = {{"secretName", r::TlsSecretName(hm)}};
  if (tls.not_after) status["tls"]["notAfter"] = FormatTime(*tls.not_after);
  status["database"] = {{"secretName", r::DatabaseSecretName(hm)}};

  // Backups: the newest finished Jobs, remembered across Job TTLs in the status itself.
  const Json old_backup = hm.status.value("backup", Json::object());
  std::optional<int64_t> last_success = ParseTime(old_backup.value("lastSuccessTime", ""));
  std::optional<int64_t> last_failure = ParseTime(old_backup.value("lastFailureTime", ""));
  std::string last_job = old_backup.value("lastJob", "");
  std::string failure_message = old_backup.value("message", "");
  int64_t newest = std::max(last_success.value_or(0), last_failure.value_or(0));
  if (Informer* jobs = InformerFor(kinds::kJob.kind)) {
    for (const Json& job : jobs->ListByLabel(hm.ns, r::kInstanceLabel, hm.name)) {
      const Json st = job.value("status", Json::object());
      for (const Json& c : st.value("conditions", Json::array())) {
        if (c.value("status", "") != "True") continue;
        const std::string type = c.value("type", "");
        if (type != "Complete" && type != "Failed") continue;
        const auto when = ParseTime(
            type == "Complete" ? st.value("completionTime", c.value("lastTransitionTime", ""))
                               : c.value("lastTransitionTime", ""));
        if (!when) continue;
        auto& slot = type == "Complete" ? last_success : last_failure;
        if (!slot || *when > *slot) slot = when;
        if (*when >= newest) {
          newest = *when;
          last_job = Field(job, "metadata").value("name", "");
          failure_message = type == "Failed" ? c.value("message", c.value("reason", "")) : "";
        }
      }
    }
  }
  Json backup = Json::object();
  if (Informer* cronjobs = InformerFor(kinds::kCronJob.kind)) {
    if (auto cj = cronjobs->Get(hm.ns, r::ChildName(hm, "backup"))) {
      const std::string t = cj->value("status", Json::object()).value("lastScheduleTime", "");
      if (!t.empty()) backup["lastScheduleTime"] = t;
    }
  }
  if (last_success) backup["lastSuccessTime"] = FormatTime(*last_success);
  if (last_failure) backup["lastFailureTime"] = FormatTime(*last_failure);
  const bool failed_last = last_failure && (!last_success || *last_failure > *last_success);
  backup["lastResult"] = failed_last ? "Failed" : (last_success ? "Succeeded" : "None");
  if (!last_job.empty()) backup["lastJob"] = last_job;
  if (failed_last && !failure_message.empty()) backup["message"] = failure_message.substr(0, 1000);
  status["backup"] = backup;

  // Conditions.
  const std::string when = FormatTime(now);
  std::vector<Condition> conds;
  auto add = [&](const char* type, bool ok, const char* reason, const std::string& message,
                 const char* false_status = "False") {
    Condition c{type, ok ? "True" : false_status, reason, message.substr(0, 2000), hm.generation,
                ""};
    conds.push_back(CarryTransitionTime(c, FindCondition(hm.status, type), when));
  };
  const bool ready = core.exists && gateway.exists && core.complete && gateway.complete;
  const std::string replicas = "core " + std::to_string(core.ready) + "/" +
                               std::to_string(core.desired) + " ready, gateway " +
                               std::to_string(gateway.ready) + "/" +
                               std::to_string(gateway.desired) + " ready";
  add(conditions::kReady, ready, ready ? reasons::kAllReplicasReady : reasons::kReplicasNotReady,
      replicas);

  std::string degraded_reason;
  std::string degraded_message;
  if (!apply_error.empty()) {
    degraded_reason = reasons::kApplyFailed;
    degraded_message = apply_error;
  } else if (!tls.error.empty()) {
    degraded_reason = reasons::kTlsUnavailable;
    degraded_message = tls.error;
  } else if (core.stuck || gateway.stuck) {
    degraded_reason = reasons::kRolloutStuck;
    degraded_message = std::string(core.stuck ? "core" : "gateway") +
                       " Deployment is not progressing (ProgressDeadlineExceeded or "
                       "ReplicaFailure); see kubectl describe deployment";
  }
  const bool degraded = !degraded_reason.empty();
  add(conditions::kDegraded, degraded, degraded ? degraded_reason.c_str() : reasons::kReconciled,
      degraded ? degraded_message : "all children applied");

  if (hm.spec.paused) {
    add(conditions::kProgressing, false, reasons::kPaused,
        "spec.paused is true: children are left as they are");
  } else {
    add(conditions::kProgressing, !ready, ready ? reasons::kRolloutComplete : reasons::kRollingOut,
        ready ? "core and gateway are rolled out" : replicas);
  }

  if (!hm.spec.backup.enabled) {
    add(conditions::kBackupHealthy, false, reasons::kBackupDisabled,
        "spec.backup.enabled is false: no backups are made");
  } else if (failed_last) {
    add(conditions::kBackupHealthy, false, reasons::kBackupFailed,
        "backup Job " + last_job + " failed" +
            (failure_message.empty() ? "" : ": " + failure_message));
  } else if (last_success) {
    add(conditions::kBackupHealthy, true, reasons::kBackupSucceeded,
        "last backup succeeded at " + FormatTime(*last_success));
  } else {
    add(conditions::kBackupHealthy, false, reasons::kNoBackupYet,
        "no backup has finished yet (schedule \"" + hm.spec.backup.schedule + "\")", "Unknown");
  }

  const bool wants_monitoring =
      hm.spec.monitoring.service_monitors || hm.spec.monitoring.prometheus_rule;
  if (!wants_monitoring) {
    add(conditions::kMonitoringAvailable, false, reasons::kMonitoringDisabled,
        "spec.monitoring turns off both ServiceMonitors and the PrometheusRule");
  } else if (!monitoring_available_.load()) {
    add(conditions::kMonitoringAvailable, false, reasons::kMonitoringCrdsMissing,
        "the monitoring.coreos.com/v1 ServiceMonitor and PrometheusRule kinds are not installed "
        "(install prometheus-operator's CRDs; the operator adds the monitors within a minute); "
        "everything else works without them");
  } else if (!monitoring_applied) {
    add(conditions::kMonitoringAvailable, false, reasons::kApplyFailed,
        "applying the ServiceMonitors or PrometheusRule failed: " + apply_error);
  } else {
    add(conditions::kMonitoringAvailable, true, reasons::kMonitoringApplied,
        "ServiceMonitors and PrometheusRule are applied");
  }
  Json list = Json::array();
  for (const Condition& c : conds) list.push_back(ConditionToJson(c));
  status["conditions"] = list;

  const char* phase = phases::kPending;
  if (hm.spec.paused) {
    phase = phases::kPaused;
  } else if (degraded) {
    phase = phases::kDegraded;
  } else if (ready) {
    phase = phases::kReady;
  } else if (core.exists || gateway.exists) {
    phase = phases::kProgressing;
  }
  status["phase"] = phase;
  return status;
}

void Controller::EmitEvents(const HoloMush& hm, const Json& old_status, const Json& new_status) {
  for (const Json& c : new_status.value("conditions", Json::array())) {
    const std::string type = c.value("type", "");
    auto previous = FindCondition(old_status, type);
    if (previous && previous->status == c.value("status", "") &&
        previous->reason == c.value("reason", "")) {
      continue;
    }
    const bool bad = (type == conditions::kDegraded && c["status"] == "True") ||
                     (type != conditions::kDegraded && type != conditions::kProgressing &&
                      c["status"] == "False" && previous && previous->status == "True");
    const std::string micro = FormatTime(Now()).substr(0, 19) + ".000000Z";
    Json event = {
        {"apiVersion", "events.k8s.io/v1"},
        {"kind", "Event"},
        {"metadata", {{"name", hm.name + "." + RandomHex(8)}, {"namespace", hm.ns}}},
        {"eventTime", micro},
        {"reportingController", "holomush.io/holomush-operator"},
        {"reportingInstance", options_.identity.substr(0, 128)},
        {"action", "Reconcile"},
        {"reason", c.value("reason", type)},
        {"type", bad ? "Warning" : "Normal"},
        {"note",
         (type + " is " + c.value("status", "") + ": " + c.value("message", "")).substr(0, 1000)},
        {"regarding",
         {{"apiVersion", kApiVersion},
          {"kind", kKind},
          {"name", hm.name},
          {"namespace", hm.ns},
          {"uid", hm.uid}}}};
    auto created = client_.Create(kinds::kEvent, hm.ns, event);
    if (!created.ok()) {
      log_.Warn("recording an event failed", {{"error", created.error().message}});
    }
  }
}

void Controller::RecordBackupMetrics(const HoloMush& hm, const Json& status) {
  if (!hm.spec.backup.enabled) {
    metrics_.ForgetBackup(hm.ns, hm.name);
    return;
  }
  const Json backup = status.value("backup", Json::object());
  const double success =
      static_cast<double>(ParseTime(backup.value("lastSuccessTime", "")).value_or(0));
  const double failure =
      static_cast<double>(ParseTime(backup.value("lastFailureTime", "")).value_or(0));
  const double max_age =
      static_cast<double>(resources::BackupMaxAgeSeconds(hm.spec.backup.schedule));
  metrics_.Backup(hm.ns, hm.name, success, failure, max_age);
}

}  // namespace holomush::op
