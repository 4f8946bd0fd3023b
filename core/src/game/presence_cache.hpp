// Who is present in a location, kept in core's memory so that `look` and every arrival do
// not ask PostgreSQL while nobody has come or gone there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// Thread-safe. Presence changes with the arrive, leave, connect and disconnect events that
// every replica hears (Forget for their location), with this process's own moves, logins and
// quits at once (before their event is committed), and with what no event tells of (a row
// changed by hand, a session of a dead replica expired elsewhere): for that, nothing is kept
// longer than `max_age`. A query that was running when its location was forgotten is
// answered but not kept, since it may predate the change. At most `capacity` locations are
// kept; past that, everything is forgotten.
class PresenceCache {
 public:
  using Names = std::vector<std::string>;
  using Query = std::function<Result<Names>(const std::string& location_id)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  PresenceCache(Query query, std::chrono::milliseconds max_age, size_t capacity = 10000,
                Clock clock = {});

  // Failures are passed on, never kept.
  Result<std::shared_ptr<const Names>> Get(const std::string& location_id);
  void Forget(const std::string& location_id);
  void ForgetAll();
  // Forgets the location of an arrive, leave, connect or disconnect event; others change
  // nobody's presence.
  void OnEvent(const EventRecord& event);

 private:
  struct Entry {
    std::shared_ptr<const Names> names;  // null: not kept
    std::chrono::steady_clock::time_point kept_at;
    uint64_t forgotten_at = 0;  // generation_ at its last Forget
  };

  Query query_;
  std::chrono::milliseconds max_age_;
  size_t capacity_;
  Clock clock_;
  std::mutex mu_;  // guards what follows
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;        // bumped by every Forget and ForgetAll
  uint64_t all_forgotten_at_ = 0;  // generation_ at the last ForgetAll
};

}  // namespace holomush::core
