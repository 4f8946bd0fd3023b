// A token bucket: how often something may happen, with a burst. Pure; time is passed in.
#pragma once

#include <chrono>

namespace holomush::common {

// Not thread-safe: the owner serialises calls (a session's strand, a mutex).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` tokens per second, at most `burst` saved up; starts full.
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // Takes one token if there is one at `now`.
  bool TryTake(Clock::time_point now) {
    Refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  // How long from `now` until a token is there (zero when one is).
  Clock::duration UntilToken(Clock::time_point now) const {
    double tokens = tokens_;
    if (last_ != Clock::time_point{} && now > last_) {
      tokens += std::chrono::duration<double>(now - last_).count() * rate_;
    }
    if (tokens >= 1.0 || rate_ <= 0) return Clock::duration::zero();
    return std::chrono::ceil<Clock::duration>(
        std::chrono::duration<double>((1.0 - tokens) / rate_));
  }
  // Whether the bucket would be full at `now` (nothing to remember any more).
  bool Full(Clock::time_point now) const {
    double tokens = tokens_;
    if (last_ != Clock::time_point{} && now > last_) {
      tokens += std::chrono::duration<double>(now - last_).count() * rate_;
    }
    return tokens >= burst_;
  }

 private:
  void Refill(Clock::time_point now) {
    if (last_ != Clock::time_point{} && now > last_) {
      tokens_ += std::chrono::duration<double>(now - last_).count() * rate_;
      if (tokens_ > burst_) tokens_ = burst_;
    }
    if (now > last_) last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace holomush::common
