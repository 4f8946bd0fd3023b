#include "holomush/common/health.hpp"

namespace holomush::common {

Heartbeat::Heartbeat(std::string name, std::chrono::milliseconds allowance)
    : name_(std::move(name)), allowance_(allowance) {
  Beat();
}

void Heartbeat::Beat(Clock::time_point now) { last_ = now.time_since_epoch().count(); }

Heartbeat::Outside::Outside(Heartbeat* heartbeat) : heartbeat_(heartbeat) {
  if (heartbeat_ != nullptr) ++heartbeat_->outside_;
}

Heartbeat::Outside::~Outside() {
  if (heartbeat_ == nullptr) return;
  heartbeat_->Beat();  // the time outside is not the loop's
  --heartbeat_->outside_;
}

std::chrono::milliseconds Heartbeat::Overdue(Clock::time_point now) const {
  if (retired_ || outside_ > 0) return std::chrono::milliseconds(0);
  const auto silent = now - Clock::time_point(Clock::duration(last_.load()));
  return std::chrono::duration_cast<std::chrono::milliseconds>(silent) - allowance_;
}

bool Health::ReadyLocked() const {
  if (shutting_down_ || checks_.empty()) return false;
  for (const auto& [name, check] : checks_) {
    if (!check.ok) return false;
  }
  return true;
}

void Health::Notify(bool ready) {
  std::vector<std::function<void(bool)>> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = listeners_;
  }
  for (auto& l : listeners) l(ready);
}

void Health::Set(const std::string& name, bool ok, const std::string& detail) {
  bool changed = false;
  bool ready = false;
  {
    std::lock_guard lock(mu_);
    checks_[name] = Check{ok, detail};
    ready = ReadyLocked();
    changed = ready != last_ready_;
    last_ready_ = ready;
  }
  if (changed) Notify(ready);
}

void Health::SetShuttingDown() {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    changed = last_ready_;
    last_ready_ = false;
  }
  if (changed) Notify(false);
}

bool Health::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

Health::Report Health::Readiness() const {
  std::lock_guard lock(mu_);
  Report report;
  report.ready = ReadyLocked();
  if (shutting_down_) report.failing.emplace_back("shutdown: process is stopping");
  if (checks_.empty()) report.failing.emplace_back("startup: no checks registered yet");
  for (const auto& [name, check] : checks_) {
    if (!check.ok) {
      report.failing.push_back(name + ": " + (check.detail.empty() ? "failing" : check.detail));
    } else if (!check.detail.empty()) {
      report.notes.push_back(name + ": " + check.detail);
    }
  }
  return report;
}

void Health::OnChange(std::function<void(bool ready)> listener) {
  bool ready = false;
  {
    std::lock_guard lock(mu_);
    listeners_.push_back(listener);
    ready = last_ready_;
  }
  listener(ready);
}

}  // namespace holomush::common

namespace holomush::common {

Heartbeat* Health::AddHeartbeat(const std::string& name, std::chrono::milliseconds allowance) {
  std::lock_guard lock(mu_);
  heartbeats_.push_back(std::make_unique<Heartbeat>(name, allowance));
  return heartbeats_.back().get();
}

Health::Report Health::Liveness(Heartbeat::Clock::time_point now) const {
  std::lock_guard lock(mu_);
  Report report;
  for (const auto& h : heartbeats_) {
    if (h->retired()) continue;
    if (const auto late = h->Overdue(now); late.count() > 0) {
      report.failing.push_back(h->name() + ": no heartbeat for " + std::to_string(late.count()) +
                               " ms past its allowance");
    } else {
      report.notes.push_back(h->name() + ": on time");
    }
  }
  report.ready = report.failing.empty();
  return report;
}

ExecutorHeartbeat::ExecutorHeartbeat(Heartbeat* heartbeat, Post post,
                                     std::chrono::milliseconds interval)
    : heartbeat_(heartbeat) {
  thread_ = std::thread([this, post = std::move(post), interval] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      post([heartbeat = heartbeat_] { heartbeat->Beat(); });
      lock.lock();
      cv_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

ExecutorHeartbeat::~ExecutorHeartbeat() {
  heartbeat_->Retire();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace holomush::common
