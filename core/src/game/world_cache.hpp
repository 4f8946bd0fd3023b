// Locations and their exits kept in core's memory, so `look`, exit matching and moves do not
// read them from PostgreSQL on every command. Who is present is kept apart (PresenceCache).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/store.hpp"

namespace holomush::core {

// A location as the cache keeps it: its row, its exits, and the exits line `look` shows.
struct KnownPlace {
  Place place;
  std::string exits_line;  // "Exits: north (n), out" or "Exits: none"
};

// Thread-safe. Follows the database through the holomush_world notifications that every
// change to locations, exits or exit aliases sends (a trigger, so SQL by hand counts too):
// Forget(location id) for one, ForgetAll() when notifications may have been missed. A load
// that was running when anything was forgotten is answered but not kept, since it may
// predate the change. At most `capacity` places are kept; past that, an arbitrary one goes.
class WorldCache {
 public:
  using Load = std::function<Result<Place>(const std::string& location_id)>;
  explicit WorldCache(Load load, size_t capacity = 10000);

  // kNotFound when the location is gone; other errors from the load, never kept.
  Result<std::shared_ptr<const KnownPlace>> Get(const std::string& location_id);
  void Forget(const std::string& location_id);
  void ForgetAll();
  // A holomush_world payload: a location id, or empty for "everything".
  void OnNotify(const std::string& payload);
  size_t size() const;

 private:
  Load load_;
  size_t capacity_;
  mutable std::mutex mu_;  // guards what follows
  std::unordered_map<std::string, std::shared_ptr<const KnownPlace>> places_;
  uint64_t generation_ = 0;  // bumped by every Forget
};

}  // namespace holomush::core
