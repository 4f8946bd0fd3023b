// Leader election on a coordination.k8s.io/v1 Lease, the way client-go does it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/operator/kube_client.hpp"

namespace holomush::op {

struct LeaderElectionOptions {
  std::string ns;
  std::string name = "holomush-operator";
  std::string identity;
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
};

// Runs on the calling thread (RunOperator gives it one). A Lease held by someone else counts
// as expired only when it has not changed for lease_duration by *our* clock, so clock skew
// between replicas cannot make two leaders. Writes use the Lease's resourceVersion
// (compare-and-swap): of two candidates, one wins.
class LeaderElector {
 public:
  LeaderElector(KubeClient& client, LeaderElectionOptions options, common::Logger log);

  // Blocks: acquires the lease, calls on_started, renews every retry_period until Stop() or
  // a renewal fails for renew_deadline; then calls on_stopped(released_cleanly). Leading
  // ends at most renew_deadline + one attempt (two requests) after the start of the last
  // renewal that succeeded; with the client's requests bounded so that this is under
  // lease_duration, no other replica can lead before it has stopped. With Stop()
  // the lease is released (holder cleared) so a standby takes over at once.
  void Run(const std::function<void()>& on_started, const std::function<void(bool)>& on_stopped);
  void Stop();
  bool Leading() const { return leading_.load(); }
  // Beaten at every attempt (each retry_period) while Run runs; retired when it returns.
  void SetHeartbeat(common::Heartbeat* heartbeat) { heartbeat_ = heartbeat; }

 private:
  enum class Attempt { kAcquired, kHeldByOther, kError };
  Attempt TryAcquireOrRenew();
  Attempt TryAcquireOrRenewOnce();
  void Release();
  void ReleaseOnce();
  bool Sleep(std::chrono::milliseconds duration);

  KubeClient& client_;
  LeaderElectionOptions options_;
  common::Logger log_;
  std::atomic<bool> leading_{false};
  common::Heartbeat* heartbeat_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;

  // What we last saw of the Lease and when (by our monotonic clock).
  nlohmann::json observed_;
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace holomush::op
