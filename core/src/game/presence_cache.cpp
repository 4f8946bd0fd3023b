#include "game/presence_cache.hpp"

namespace holomush::core {

PresenceCache::PresenceCache(Query query, std::chrono::milliseconds max_age, size_t capacity,
                             Clock clock)
    : query_(std::move(query)),
      max_age_(max_age),
      capacity_(capacity),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

Result<std::shared_ptr<const PresenceCache::Names>> PresenceCache::Get(
    const std::string& location_id) {
  uint64_t asked_at = 0;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(location_id);
    if (it != entries_.end() && it->second.names && clock_() - it->second.kept_at < max_age_) {
      return it->second.names;
    }
    asked_at = generation_;
  }
  auto rows = query_(location_id);
  if (!rows) return rows.error();
  auto names = std::make_shared<const Names>(std::move(*rows));
  std::lock_guard lock(mu_);
  if (all_forgotten_at_ > asked_at) return names;
  auto it = entries_.find(location_id);
  if (it != entries_.end() && it->second.forgotten_at > asked_at) return names;
  if (it == entries_.end() && entries_.size() >= capacity_) {
    // Dropping entries would drop the Forgets they hold: forget everything instead.
    entries_.clear();
    all_forgotten_at_ = ++generation_;
    return names;
  }
  auto& entry = entries_[location_id];
  entry.names = names;
  entry.kept_at = clock_();
  return names;
}

void PresenceCache::Forget(const std::string& location_id) {
  std::lock_guard lock(mu_);
  auto& entry = entries_[location_id];
  entry.names.reset();
  entry.forgotten_at = ++generation_;
}

void PresenceCache::ForgetAll() {
  std::lock_guard lock(mu_);
  entries_.clear();
  all_forgotten_at_ = ++generation_;
}

void PresenceCache::OnEvent(const EventRecord& event) {
  static constexpr std::string_view kLocation = "location:";
  if (!event.stream.starts_with(kLocation)) return;
  if (event.type != "arrive" && event.type != "leave" && event.type != "connect" &&
      event.type != "disconnect") {
    return;
  }
  Forget(event.stream.substr(kLocation.size()));
}

}  // namespace holomush::core
