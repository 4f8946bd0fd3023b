// Where each dropped player left off, so logging in again through this gateway resumes there.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace holomush::gateway {

// A game session the player's connection left behind, and the last event shown to them.
struct ResumePoint {
  std::string session_id;
  std::string resume_token;
  std::string last_event_id;
};

// When a player's connection drops, their session lives on in core for a while (its linger
// time). The gateway keeps the session's resume token and the last event it delivered, keyed
// by account and character; when that player logs in again and embodies the same character,
// the old session is reopened from there and core replays exactly the missed events.
// Bounded by entries and age. Thread-safe (connections on any strand).
class ResumeMemory {
 public:
  explicit ResumeMemory(size_t capacity = 100000,
                        std::chrono::seconds max_age = std::chrono::hours(24));

  static std::string Key(const std::string& player_id, const std::string& character_id);
  void Remember(const std::string& key, ResumePoint point);
  // Removes and returns the point (one connection resumes a session, not two).
  std::optional<ResumePoint> Take(const std::string& key);
  size_t size() const;

 private:
  struct Entry {
    ResumePoint point;
    std::chrono::steady_clock::time_point at;
  };
  size_t capacity_;
  std::chrono::seconds max_age_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  // Insertion order for eviction; may hold stale pairs for keys remembered again or taken.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> order_;
};

}  // namespace holomush::gateway
