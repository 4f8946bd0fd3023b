#include "resume_memory.hpp"

namespace holomush::gateway {

ResumeMemory::ResumeMemory(size_t capacity, std::chrono::seconds max_age)
    : capacity_(capacity), max_age_(max_age) {}

std::string ResumeMemory::Key(const std::string& player_id, const std::string& character_id) {
  return player_id + "/" + character_id;
}

void ResumeMemory::Remember(const std::string& key, ResumePoint point) {
  if (point.session_id.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  entries_[key] = Entry{std::move(point), now};
  order_.emplace_back(now, key);
  // An entry leaves only when the pair leaving the queue carries its own (latest) time.
  while (!order_.empty() && (entries_.size() > capacity_ || now - order_.front().first > max_age_ ||
                             order_.size() > 2 * capacity_)) {
    auto [at, old_key] = order_.front();
    order_.pop_front();
    auto it = entries_.find(old_key);
    if (it != entries_.end() && it->second.at == at) entries_.erase(it);
  }
}

std::optional<ResumePoint> ResumeMemory::Take(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (std::chrono::steady_clock::now() - entry.at > max_age_) return std::nullopt;
  return std::move(entry.point);
}

size_t ResumeMemory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace holomush::gateway
