// The HoloMUSH controller: caches of HoloMUSH and its children, a work queue, and the
// reconcile that renders, applies, prunes and reports status.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/common/result.hpp"
#include "holomush/operator/api.hpp"
#include "holomush/operator/informer.hpp"
#include "holomush/operator/kube_client.hpp"
#include "holomush/operator/metrics.hpp"
#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/work_queue.hpp"

namespace holomush::op {

struct ControllerOptions {
  std::string watch_namespace;  // empty: every namespace
  int workers = 2;
  std::string identity = "holomush-operator";  // reportingInstance of events
  Json alert_rules;                            // {"groups": [...]}; null ships no rules
  std::chrono::milliseconds discovery_interval{std::chrono::seconds(30)};
  // Wall clock in Unix seconds (injected by tests).
  std::function<int64_t()> now;
  // Where each informer's heartbeat goes ("informer <resource>"); null: none.
  common::Health* health = nullptr;
  std::chrono::milliseconds informer_allowance{std::chrono::seconds(30)};
};

// What one reconcile decided beyond success.
struct ReconcileOutcome {
  std::optional<std::chrono::milliseconds> requeue_after;
  int applied = 0;  // children written
  int skipped = 0;  // children unchanged
};

// Owned by RunOperator. Informers run on their own threads from StartCaches (on every
// replica, so a standby is warm); workers run only on the leader from StartWorkers. Each key
// is reconciled by one worker at a time (the WorkQueue guarantees it), so per-key state
// needs no lock beyond the one guarding the maps that hold it.
class Controller {
 public:
  Controller(KubeClient& client, OperatorMetrics& metrics, ControllerOptions options,
             common::Logger log);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Discovers the monitoring CRDs, starts every informer and the discovery loop.
  void StartCaches();
  bool CachesSynced() const;
  void StartWorkers();
  void Stop();

  common::Result<ReconcileOutcome> Reconcile(const std::string& key);
  bool MonitoringAvailable() const { return monitoring_available_.load(); }
  size_t QueueLength() const { return queue_.Len(); }

 private:
  void Enqueue(const Json& object, bool is_holomush);
  void Worker();
  void DiscoveryLoop();
  bool Discover();
  void StartMonitoringInformers();
  std::unique_ptr<Informer> MakeInformer(const ResourceType& type, const std::string& selector,
                                         bool is_holomush);
  Informer* InformerFor(const std::string& kind) const;
  // The phases that read the caches or the API; the pure ones are in reconcile_phases.hpp.
  Observed Observe(const HoloMush& hm) const;
  // The last line a failed Job's newest pod left as its termination message, if any.
  std::optional<std::string> FailedPodMessage(const std::string& ns, const std::string& job) const;
  TlsState PrepareTls(const HoloMush& hm, int64_t now);
  std::string PostgresPassword(const HoloMush& hm);
  common::Result<bool> ApplyChild(const Json& want);
  std::string Prune(const HoloMush& hm, const std::vector<Json>& rendered);
  // Applies `status` to the HoloMUSH's /status and keeps the cache current; false when the
  // HoloMUSH was deleted meanwhile.
  common::Result<bool> WriteStatus(Informer& cache, const std::string& ns, const std::string& name,
                                   const Json& status);
  void RecordBackupMetrics(const HoloMush& hm, const Json& status);
  int64_t Now() const;

  KubeClient& client_;
  OperatorMetrics& metrics_;
  ControllerOptions options_;
  common::Logger log_;
  WorkQueue queue_;

  mutable std::mutex mu_;  // guards informers_ (monitoring informers start late)
  std::map<std::string, std::unique_ptr<Informer>> informers_;  // by kind
  std::atomic<bool> monitoring_available_{false};
  std::atomic<bool> stopping_{false};
  std::condition_variable stop_cv_;
  std::mutex stop_mu_;
  std::thread discovery_;
  std::vector<std::thread> workers_;
};

}  // namespace holomush::op
