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

void WorkQueue::Add(const std::string& key) {
  size_t depth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    AddLocked(key);
    depth = queue_.size();
  }
  if (on_depth_) on_depth_(depth);
}

void WorkQueue::AddAfter(const std::string& key, milliseconds delay) {
  if (delay <= milliseconds(0)) return Add(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  delayed_.emplace(clock_() + delay, key);
  cv_.notify_all();
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
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    const std::string key = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::string key;
  size_t depth;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      MoveDueLocked();
      if (shutting_down_) return std::nullopt;
      if (!queue_.empty()) break;
      if (delayed_.empty()) {
        cv_.wait(lock);
      } else {
        // The clock may be injected: wake at least every 50 ms to re-read it.
        const auto wait =
            std::min<steady_clock::duration>(delayed_.begin()->first - clock_(), milliseconds(50));
        cv_.wait_for(lock, wait);
      }
    }
    key = queue_.front();
    queue_.pop_front();
    dirty_.erase(key);
    processing_.insert(key);
    depth = queue_.size();
  }
  if (on_depth_) on_depth_(depth);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
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

}  // namespace holomush::op
