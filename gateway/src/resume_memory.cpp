#include "resume_memory.hpp"

namespace holomush::gateway {

ResumeMemory::ResumeMemory(size_t capacity, std::chrono::seconds max_age)
    : capacity_(capacity), max_age_(max_age) {}

void ResumeMemory::Remember(const std::string& session_id, const std::string& last_event_id) {
  if (session_id.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  entries_[session_id] = Entry{last_event_id, now};
  order_.emplace_back(now, session_id);
  // order_ may hold stale pairs for ids remembered again; an entry is dropped only when its
  // own (latest) time is the one leaving the queue.
  while (!order_.empty() && (entries_.size() > capacity_ || now - order_.front().first > max_age_ ||
                             order_.size() > 2 * capacity_)) {
    auto [at, id] = order_.front();
    order_.pop_front();
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.at == at) entries_.erase(it);
  }
}

std::string ResumeMemory::Recall(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(session_id);
  if (it == entries_.end()) return {};
  if (std::chrono::steady_clock::now() - it->second.at > max_age_) return {};
  return it->second.last_event_id;
}

size_t ResumeMemory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace holomush::gateway
