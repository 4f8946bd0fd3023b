#include "login_throttle.hpp"

#include "connection.hpp"

namespace holomush::gateway {

bool LoginThrottle::Admit(const std::string& address, Kind kind, Clock::time_point now) {
  const double per_minute = kind == Kind::kLogin ? logins_per_minute_ : creates_per_minute_;
  if (per_minute <= 0 || IsLoopback(address)) return true;
  std::lock_guard lock(mu_);
  if (by_address_.size() >= kSweepAt) {
    std::erase_if(by_address_, [now](auto& entry) {
      return entry.second.logins.Full(now) && entry.second.creates.Full(now);
    });
  }
  auto it = by_address_.find(address);
  if (it == by_address_.end()) {
    it = by_address_
             .emplace(address, Entry{{logins_per_minute_ / 60.0, logins_per_minute_},
                                     {creates_per_minute_ / 60.0, creates_per_minute_}})
             .first;
  }
  auto& bucket = kind == Kind::kLogin ? it->second.logins : it->second.creates;
  return bucket.TryTake(now);
}

size_t LoginThrottle::addresses() const {
  std::lock_guard lock(mu_);
  return by_address_.size();
}

}  // namespace holomush::gateway
