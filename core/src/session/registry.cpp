#include "session/registry.hpp"

namespace holomush::core {

std::shared_ptr<CoreSession> SessionRegistry::Find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

std::shared_ptr<CoreSession> SessionRegistry::FindOrAdd(
    const std::string& id, const std::function<std::shared_ptr<CoreSession>()>& make) {
  std::lock_guard lock(mu_);
  auto& slot = sessions_[id];
  if (!slot) slot = make();
  return slot;
}

void SessionRegistry::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::vector<std::shared_ptr<CoreSession>> SessionRegistry::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<CoreSession>> out;
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

size_t SessionRegistry::AttachedCount() const {
  size_t n = 0;
  for (const auto& s : All()) n += s->attached() ? 1 : 0;
  return n;
}

}  // namespace holomush::core
