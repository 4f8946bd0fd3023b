// WorkQueue: keys to reconcile, deduplicated, one worker per key at a time, with per-key
// exponential backoff and a global rate limit for retries.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace holomush::op {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

// How long a key waits before its next retry: per-key exponential (base * 2^failures,
// capped) and a global token bucket, whichever is later. Not thread-safe on its own; the
// WorkQueue calls it under its lock.
class RetryLimiter {
 public:
  struct Options {
    std::chrono::milliseconds base{100};
    std::chrono::milliseconds max{std::chrono::minutes(5)};
    double qps = 10;
    int burst = 100;
  };
  RetryLimiter(Options options, Clock clock);

  std::chrono::milliseconds When(const std::string& key);
  void Forget(const std::string& key) { failures_.erase(key); }
  int Failures(const std::string& key) const;

 private:
  Options options_;
  Clock clock_;
  std::map<std::string, int> failures_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// Shared by the informer threads (Add) and the worker threads (Get/Done). A key added
// while it is being processed is processed again after Done, never concurrently. A key
// has at most one pending requeue (AddAfter): the earliest asked for wins, so timers never
// pile up however often a key is reconciled.
class WorkQueue {
 public:
  explicit WorkQueue(RetryLimiter::Options options = {}, Clock clock = nullptr);

  void Add(const std::string& key);
  // Adds `key` after `delay`, unless it already has an earlier requeue pending.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Requeues after the key's backoff; returns that delay.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  // Blocks until a key is ready or ShutDown; nullopt on shutdown. Sleeps until the next
  // requeue is due (by the clock), without polling.
  std::optional<std::string> Get();
  void Done(const std::string& key);
  void ShutDown();
  size_t Len() const;
  // Keys with a requeue pending (at most one each).
  size_t Waiting() const;
  // Called (under no lock) with Len() and Waiting() whenever they may have changed.
  void OnDepth(std::function<void(size_t queued, size_t waiting)> listener) {
    on_depth_ = std::move(listener);
  }

 private:
  using Time = std::chrono::steady_clock::time_point;
  void AddLocked(const std::string& key);
  void MoveDueLocked();
  void Report();

  Clock clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;                 // queued (or to be requeued after Done)
  std::set<std::string> processing_;            // handed to a worker
  std::map<std::string, Time> waiting_;         // key -> when its requeue is due
  std::set<std::pair<Time, std::string>> due_;  // the same entries, soonest first
  RetryLimiter limiter_;
  bool shutting_down_ = false;
  std::function<void(size_t, size_t)> on_depth_;
};

}  // namespace holomush::op
