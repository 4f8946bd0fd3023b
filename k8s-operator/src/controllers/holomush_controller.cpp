// The controller's life (caches, discovery, workers) and the flow of one reconcile: observe,
// TLS, render, apply and prune, status. The phases live beside it: tls.cpp, apply.cpp,
// status.cpp.
#include <algorithm>
#include <chrono>

#include "holomush/common/thread_name.hpp"
#include "holomush/operator/controller.hpp"
#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/resources.hpp"
#include "support.hpp"

namespace holomush::op {

namespace r = resources;
using common::ErrorKind;
using common::MakeError;
using controller_support::Field;
using controller_support::JobFailedAt;
using controller_support::RandomHex;
using controller_support::TerminationReason;
using std::chrono::milliseconds;

namespace {

constexpr const char* kController = "holomush";

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
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

std::unique_ptr<Informer> Controller::MakeInformer(const ResourceType& type,
                                                   const std::string& selector, bool is_holomush) {
  auto inf = std::make_unique<Informer>(client_, type, options_.watch_namespace, selector, log_);
  inf->OnChange([this, is_holomush](const Json& o) { Enqueue(o, is_holomush); });
  if (options_.health != nullptr) {
    inf->SetHeartbeat(
        options_.health->AddHeartbeat("informer " + type.resource, options_.informer_allowance));
  }
  return inf;
}

void Controller::StartCaches() {
  const std::vector<const ResourceType*> children = {&kinds::kDeployment,
                                                     &kinds::kStatefulSet,
                                                     &kinds::kService,
                                                     &kinds::kSecret,
                                                     &kinds::kConfigMap,
                                                     &kinds::kPersistentVolumeClaim,
                                                     &kinds::kPodDisruptionBudget,
                                                     &kinds::kNetworkPolicy,
                                                     &kinds::kCronJob,
                                                     &kinds::kJob};
  {
    std::lock_guard<std::mutex> lock(mu_);
    informers_[kinds::kHoloMush.kind] = MakeInformer(kinds::kHoloMush, "", true);
    for (const ResourceType* type : children) {
      informers_[type->kind] = MakeInformer(*type, r::kChildSelector, false);
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
    auto inf = MakeInformer(*type, r::kChildSelector, false);
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
    workers_.emplace_back([this] {
      common::NameThisThread("holomush-recon");
      Worker();
    });
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

TlsState Controller::PrepareTls(const HoloMush& hm, int64_t now) {
  if (!hm.spec.tls.secret_name.empty()) {
    return TlsFromUserSecret(hm.spec.tls.secret_name,
                             client_.Get(kinds::kSecret, hm.ns, hm.spec.tls.secret_name));
  }
  std::optional<Json> live_tls;
  std::optional<Json> live_ca;
  if (Informer* secrets = InformerFor(kinds::kSecret.kind)) {
    live_tls = secrets->Get(hm.ns, r::TlsSecretName(hm));
    live_ca = secrets->Get(hm.ns, r::ChildName(hm, "ca"));
  }
  TlsState tls = PlanGeneratedTls(hm, live_tls, live_ca, now);
  if (tls.generated) log_.Info("generated certificates", {{"holomush", hm.ns + "/" + hm.name}});
  return tls;
}

Observed Controller::Observe(const HoloMush& hm) const {
  Observed seen;
  auto get = [&](const ResourceType& type, const std::string& child) -> std::optional<Json> {
    Informer* cache = InformerFor(type.kind);
    return cache != nullptr ? cache->Get(hm.ns, r::ChildName(hm, child)) : std::nullopt;
  };
  seen.core_deployment = get(kinds::kDeployment, "core");
  seen.gateway_deployment = get(kinds::kDeployment, "gateway");
  seen.gateway_service = get(kinds::kService, "gateway");
  seen.backup_cronjob = get(kinds::kCronJob, "backup");
  if (Informer* jobs = InformerFor(kinds::kJob.kind)) {
    seen.jobs = jobs->ListByLabel(hm.ns, r::kInstanceLabel, hm.name);
  }
  // A failed backup's reason is in its pod, not its Job: read it once, for a failure newer
  // than any outcome the status holds (no Pod informer: failures are rare, pods many).
  const Json backup = hm.status.value("backup", Json::object());
  const int64_t recorded = std::max(ParseTime(backup.value("lastSuccessTime", "")).value_or(0),
                                    ParseTime(backup.value("lastFailureTime", "")).value_or(0));
  for (const Json& job : seen.jobs) {
    const std::string name = Field(job, "metadata").value("name", "");
    const auto failed_at = JobFailedAt(job);
    if (name.empty() || !failed_at || *failed_at <= recorded) continue;
    if (auto said = FailedPodMessage(hm.ns, name)) seen.job_failures[name] = *said;
  }
  return seen;
}

std::optional<std::string> Controller::FailedPodMessage(const std::string& ns,
                                                        const std::string& job) const {
  auto pods = client_.List(kinds::kPod, ns, "batch.kubernetes.io/job-name=" + job);
  if (!pods.ok()) {
    log_.Warn("reading a failed backup's pod",
              {{"job", ns + "/" + job}, {"error", pods.error().message}});
    return std::nullopt;
  }
  // The newest pod's last words: the outcome `holomush backup run` wrote, or its log's tail.
  std::optional<std::string> said;
  std::string newest;
  for (const Json& pod : pods->items) {
    const std::string created = Field(pod, "metadata").value("creationTimestamp", "");
    if (said && created < newest) continue;
    for (const Json& c : Field(pod, "status").value("containerStatuses", Json::array())) {
      for (const char* state : {"state", "lastState"}) {
        const Json terminated = c.value(state, Json::object()).value("terminated", Json::object());
        const std::string text = TerminationReason(terminated.value("message", ""));
        if (!text.empty()) {
          said = text;
          newest = created;
          break;
        }
      }
    }
  }
  return said;
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

common::Result<bool> Controller::WriteStatus(Informer& cache, const std::string& ns,
                                             const std::string& name, const Json& status) {
  const Json patch = {{"apiVersion", kApiVersion},
                      {"kind", kKind},
                      {"metadata", {{"name", name}, {"namespace", ns}}},
                      {"status", status}};
  auto written = client_.Apply(kinds::kHoloMush, patch, /*status=*/true);
  if (!written.ok()) {
    if (written.error().kind == ErrorKind::kNotFound) return false;
    return written.error();
  }
  cache.Upsert(written.value());
  return true;
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
    // The CRD schema should have refused it. Apply nothing; say why where users look.
    log_.Warn("invalid HoloMUSH", {{"holomush", key}, {"error", parsed.error().message}});
    const Json status = InvalidSpecStatus(*object, parsed.error().message, Now());
    if (status == object->value("status", Json::object())) return outcome;
    auto written = WriteStatus(*hm_cache, ns, name, status);
    if (!written.ok()) return written.error();
    return outcome;
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
    input.ca_files = tls.ca_files;
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

  StatusInput observed{.hm = &hm,
                       .observed = Observe(hm),
                       .tls = &tls,
                       .apply_error = apply_error,
                       .monitoring_available = monitoring_available_.load(),
                       .monitoring_applied = monitoring_applied,
                       .now = now};
  Json status = BuildStatus(observed);
  if (status != hm.status) {
    auto written = WriteStatus(*hm_cache, hm.ns, hm.name, status);
    if (!written.ok()) return written.error();
    if (!written.value()) return outcome;  // deleted meanwhile
    for (const Json& event : ConditionEvents(hm, hm.status, status, options_.identity, now)) {
      auto created = client_.Create(kinds::kEvent, hm.ns, event);
      if (!created.ok()) {
        log_.Warn("recording an event failed", {{"error", created.error().message}});
      }
    }
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
