// The sessions living in this core process, by id.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "session/session.hpp"

namespace holomush::core {

// Thread-safe. Holds sessions while attached or lingering; the game removes them when they
// end or expire.
class SessionRegistry {
 public:
  std::shared_ptr<CoreSession> Find(const std::string& id) const;
  // Returns the existing session with that id, or inserts the one `make` builds.
  std::shared_ptr<CoreSession> FindOrAdd(const std::string& id,
                                         const std::function<std::shared_ptr<CoreSession>()>& make);
  void Remove(const std::string& id);
  std::vector<std::shared_ptr<CoreSession>> All() const;
  size_t AttachedCount() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<CoreSession>> sessions_;
};

}  // namespace holomush::core
