// The last few event ids a session has passed on, so a replay that overlaps live delivery
// never shows an event twice.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace holomush::common {

// A fixed ring of raw ULIDs (26 bytes each, no allocation per id): at most capacity × 26
// bytes however long the session lives. ULIDs sort by time, and live events mostly come
// newest last: an id after the newest ever recorded cannot be in the ring, which one
// comparison tells; only older ones (a replay overlapping live delivery) scan the ring.
// Not thread-safe.
class RecentIds {
 public:
  explicit RecentIds(size_t capacity = 128) : capacity_(capacity) {}

  // Returns false when `id` was already recorded.
  bool Insert(std::string_view id);
  bool Contains(std::string_view id) const;
  void Clear();

 private:
  using Id = std::array<char, 26>;
  static Id Pack(std::string_view id);
  size_t capacity_;
  std::vector<Id> ring_;  // grows to capacity_, then wraps
  size_t next_ = 0;
  Id newest_{};  // the greatest id ever recorded (all zero: none yet)
};

}  // namespace holomush::common
