// ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32, sortable as strings.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>

namespace holomush::common {

// Monotonic within one generator: ids made in the same millisecond (or if the clock steps
// back) increment the random part, so string order equals creation order. Thread-safe.
class UlidGenerator {
 public:
  std::string Next();
  // For tests: a chosen time in milliseconds since the epoch.
  std::string NextAt(uint64_t unix_millis);

 private:
  std::mutex mu_;
  uint64_t last_millis_ = 0;
  std::array<uint8_t, 10> last_random_{};
};

// The smallest ULID of a millisecond: every id made at or after `unix_millis` sorts above it.
std::string UlidFloor(uint64_t unix_millis);
// Milliseconds since the epoch encoded in a ULID, or 0 if `id` is not one.
uint64_t UlidMillis(const std::string& id);
bool IsUlid(const std::string& id);

}  // namespace holomush::common
