#include "holomush/operator/work_queue.hpp"

#include <algorithm>
#include <cmath>

namespace holomush::op {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

RetryLimiter::RetryLimiter(Options options, Clock clock)
    : options_(options), clock_(std::move(clock)), tokens_(options.burst), last_(clock_()) {}

milliseconds RetryLimiter::When(const std::string& key) {
  const int failures = failures_[key]++;
  const double exp = std::ldexp(static_cast<double>(options_.base.count()), std::min(failures, 30));
  const milliseconds per_key(
      static_cast<long>(std::min(exp, static_cast<double>(options_.max.count()))));

  // Token bucket: refill since the last call, then take one (possibly going into debt,
  // which is the wait).
  const auto now = clock_();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
  tokens_ -= 1;
  milliseconds global(0);
  if (tokens_ < 0) global = milliseconds(static_cast<long>(-tokens_ / options_.qps * 1000));
  return std::max(per_key, global);
}

int RetryLimiter::Failures(const std::string& key) const {
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

WorkQueue::WorkQueue(RetryLimiter::Options options, Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return steady_clock::now(); })),
      limiter_(options, clock_) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (!processing_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::Report() {
  if (!on_depth_) return;
  size_t queued;
  size_t waiting;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued = queue_.size();
    waiting = waiting_.size();
  }
  on_depth_(queued, waiting);
}

void WorkQueue::Add(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    AddLocked(key);
  }
  Report();
}

void WorkQueue::AddAfter(const std::string& key, milliseconds delay) {
  if (delay <= milliseconds(0)) return Add(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    const Time when = clock_() + delay;
    auto it = waiting_.find(key);
    if (it != waiting_.end()) {
      if (it->second <= when) return;  // an earlier requeue is pending: it covers this one
      due_.erase({it->second, key});
      it->second = when;
    } else {
      waiting_.emplace(key, when);
    }
    due_.emplace(when, key);
    cv_.notify_all();  // a sleeping Get may now have to wake earlier
  }
  Report();
}

milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    delay = limiter_.When(key);
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  limiter_.Forget(key);
}

void WorkQueue::MoveDueLocked() {
  const auto now = clock_();
  while (!due_.empty() && due_.begin()->first <= now) {
    const std::string key = due_.begin()->second;
    due_.erase(due_.begin());
    waiting_.erase(key);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::string key;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      MoveDueLocked();
      if (shutting_down_) return std::nullopt;
      if (!queue_.empty()) break;
      if (due_.empty()) {
        cv_.wait(lock);
      } else {
        // Until the soonest requeue, measured by the clock; Add, AddAfter and ShutDown
        // notify, so nothing else can need us sooner.
        cv_.wait_for(lock, due_.begin()->first - clock_());
      }
    }
    key = queue_.front();
    queue_.pop_front();
    dirty_.erase(key);
    processing_.insert(key);
  }
  Report();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    processing_.erase(key);
    if (dirty_.count(key)) {
      queue_.push_back(key);
      cv_.notify_one();
    }
  }
  Report();
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t WorkQueue::Waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_.size();
}

}  // namespace holomush::op
