#include "holomush/common/health.hpp"

namespace holomush::common {

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
