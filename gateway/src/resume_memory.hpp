// Where each dropped player left off, so reconnecting through this gateway resumes there.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace holomush::gateway {

// When a player's connection drops, their game session lives on in core for a while. The
// gateway remembers the last event id it delivered; when the same session is started again
// (the player logs in again), the stream is reopened from there and core replays exactly
// the missed events. Bounded by entries and age. Thread-safe (connections on any strand).
class ResumeMemory {
 public:
  explicit ResumeMemory(size_t capacity = 100000,
                        std::chrono::seconds max_age = std::chrono::hours(24));

  void Remember(const std::string& session_id, const std::string& last_event_id);
  // The remembered event id, or "" when the session is unknown or too old.
  std::string Recall(const std::string& session_id) const;
  size_t size() const;

 private:
  struct Entry {
    std::string last_event_id;
    std::chrono::steady_clock::time_point at;
  };
  size_t capacity_;
  std::chrono::seconds max_age_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_;
};

}  // namespace holomush::gateway
