// Per-address limits on logins and account creations, checked before anything reaches core.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "holomush/common/token_bucket.hpp"

namespace holomush::gateway {

// Thread-safe (one mutex; one call per login attempt). Memory stays bounded: an address is
// forgotten once both its buckets are full again, swept whenever the table grows past
// `kSweepAt` addresses.
class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // Attempts per minute from one address (0: no limit), each also the burst.
  LoginThrottle(double logins_per_minute, double creates_per_minute)
      : logins_per_minute_(logins_per_minute), creates_per_minute_(creates_per_minute) {}

  enum class Kind { kLogin, kCreate };
  // Whether one more attempt of `kind` from `address` may go to core now.
  bool Admit(const std::string& address, Kind kind, Clock::time_point now);
  size_t addresses() const;

  static constexpr size_t kSweepAt = 10000;

 private:
  struct Entry {
    common::TokenBucket logins;
    common::TokenBucket creates;
  };

  double logins_per_minute_;
  double creates_per_minute_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> by_address_;
};

}  // namespace holomush::gateway
