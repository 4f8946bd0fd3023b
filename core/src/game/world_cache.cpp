#include "game/world_cache.hpp"

namespace holomush::core {
namespace {

std::string ExitsLine(const std::vector<Exit>& exits) {
  if (exits.empty()) return "Exits: none";
  std::string out = "Exits: ";
  for (size_t i = 0; i < exits.size(); ++i) {
    if (i > 0) out += ", ";
    out += exits[i].name;
    const auto& aliases = exits[i].aliases;
    if (aliases.empty()) continue;
    out += " (";
    for (size_t a = 0; a < aliases.size(); ++a) out += (a > 0 ? ", " : "") + aliases[a];
    out += ")";
  }
  return out;
}

}  // namespace

WorldCache::WorldCache(Load load, size_t capacity) : load_(std::move(load)), capacity_(capacity) {}

Result<std::shared_ptr<const KnownPlace>> WorldCache::Get(const std::string& location_id) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = places_.find(location_id); it != places_.end()) return it->second;
    generation = generation_;
  }
  auto loaded = load_(location_id);
  if (!loaded) return loaded.error();
  std::string line = ExitsLine(loaded->exits);
  auto known = std::make_shared<const KnownPlace>(KnownPlace{std::move(*loaded), std::move(line)});
  std::lock_guard lock(mu_);
  if (generation == generation_) {
    if (places_.size() >= capacity_ && !places_.empty()) places_.erase(places_.begin());
    places_[location_id] = known;
  }
  return known;
}

void WorldCache::Forget(const std::string& location_id) {
  std::lock_guard lock(mu_);
  places_.erase(location_id);
  ++generation_;
}

void WorldCache::ForgetAll() {
  std::lock_guard lock(mu_);
  places_.clear();
  ++generation_;
}

void WorldCache::OnNotify(const std::string& payload) {
  if (payload.empty()) {
    ForgetAll();
  } else {
    Forget(payload);
  }
}

size_t WorldCache::size() const {
  std::lock_guard lock(mu_);
  return places_.size();
}

}  // namespace holomush::core
