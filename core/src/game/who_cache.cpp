#include "game/who_cache.hpp"

namespace holomush::core {

WhoCache::WhoCache(Query query, std::chrono::milliseconds max_age, Clock clock)
    : query_(std::move(query)),
      max_age_(max_age),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

std::optional<WhoCache::Rows> WhoCache::Kept() {
  std::lock_guard lock(mu_);
  if (kept_ && clock_() - kept_at_ < max_age_) return kept_;
  return std::nullopt;
}

Result<WhoCache::Rows> WhoCache::Get() {
  if (auto rows = Kept()) return std::move(*rows);
  std::lock_guard asking(asking_);
  if (auto rows = Kept()) return std::move(*rows);  // answered while this caller waited
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
  }
  auto rows = query_();
  if (!rows) return rows;
  std::lock_guard lock(mu_);
  if (generation == generation_) {
    kept_ = *rows;
    kept_at_ = clock_();
  }
  return rows;
}

void WhoCache::Forget() {
  std::lock_guard lock(mu_);
  kept_.reset();
  ++generation_;
}

}  // namespace holomush::core
