// Informer: a list+watch cache of one kind, kept current on its own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/operator/kube_client.hpp"

namespace holomush::op {

// Owned by the Controller. Lists, then watches from the list's resourceVersion with
// bookmarks; on 410 Gone it lists again; on errors it reconnects with jittered exponential
// backoff. The store is read from any thread (under a mutex); handlers run on the informer's
// thread and must be quick (they only enqueue keys).
class Informer {
 public:
  using Handler = std::function<void(const nlohmann::json& object)>;

  Informer(KubeClient& client, ResourceType type, std::string ns, std::string label_selector,
           common::Logger log);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Called for every added, changed or deleted object (and each object of a relist that
  // differs from the store). Register before Start.
  void OnChange(Handler handler);
  // The loop beats `heartbeat` while it runs (about once a second while watching, from the
  // watch's own progress callback), so a handler or loop stuck in this process makes the
  // operator's liveness fail; time spent waiting on the API server (a list, a backoff)
  // never counts against it. Set before Start; it is retired when the informer stops.
  void SetHeartbeat(common::Heartbeat* heartbeat) { heartbeat_ = heartbeat; }
  void Start();
  // Asks the thread to finish (the watch notices within about a second); Stop also joins.
  void RequestStop();
  void Stop();
  bool Synced() const { return synced_.load(); }
  const ResourceType& type() const { return type_; }

  std::optional<nlohmann::json> Get(const std::string& ns, const std::string& name) const;
  // Objects in `ns` whose label `key` equals `value`.
  std::vector<nlohmann::json> ListByLabel(const std::string& ns, const std::string& key,
                                          const std::string& value) const;
  std::vector<nlohmann::json> All() const;
  // Read-your-writes: stores what a write returned, without calling handlers, so the next
  // reconcile does not write again before the watch event arrives. A write result older
  // than what the cache has seen is dropped: it never replaces a newer object, and never
  // brings back one whose deletion the watch has already delivered.
  void Upsert(const nlohmann::json& object);
  size_t Size() const;

 private:
  void Run();
  bool Relist(std::string& resource_version);
  void Put(const nlohmann::json& object, bool deleted);
  bool WaitStop(std::chrono::milliseconds delay);

  KubeClient& client_;
  ResourceType type_;
  std::string ns_;
  std::string selector_;
  common::Logger log_;
  std::vector<Handler> handlers_;
  common::Heartbeat* heartbeat_ = nullptr;

  mutable std::mutex mu_;  // guards store_ and wakes WaitStop
  std::condition_variable cv_;
  std::map<std::string, nlohmann::json> store_;  // "ns/name" -> object (managedFields dropped)
  // The newest resourceVersion the list or the watch has delivered. etcd's are increasing
  // integers in one sequence, and a watch delivers in that order: an object written at or
  // before this version that the store lacks has been deleted since.
  uint64_t seen_version_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> synced_{false};
  std::thread thread_;
};

}  // namespace holomush::op
