// The in-memory alias tables and alias expansion (SPEC §5).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::core {

inline constexpr int kMaxAliasDepth = 10;

// One word of up to 32 of [a-z0-9_.+-] (pure).
bool ValidAliasName(const std::string& name);

// Shared by every session of a core process; thread-safe (readers share a lock). Follows
// the database: loaded at start, updated by the writer and by NOTIFY from other replicas.
class AliasCache {
 public:
  using IsCommand = std::function<bool(const std::string& word)>;

  explicit AliasCache(IsCommand is_command) : is_command_(std::move(is_command)) {}

  // Expands the first word: a real command wins, then the player's alias, then a system
  // alias; recursively up to kMaxAliasDepth; the rest of the line is kept. kInvalid when
  // the expansion is too deep or loops.
  common::Result<std::string> Expand(const std::string& player_id, const std::string& line) const;

  // Adds or replaces an alias unless that would make a cycle or a chain deeper than
  // kMaxAliasDepth; kInvalid with a player-facing message when refused.
  common::Status SetPlayer(const std::string& player_id, const std::string& alias,
                           const std::string& command);
  common::Status SetSystem(const std::string& alias, const std::string& command);
  void RemovePlayer(const std::string& player_id, const std::string& alias);
  void RemoveSystem(const std::string& alias);
  // Follows the database's value for one alias (start-up load, NOTIFY from any replica):
  // nullopt removes it; a value that would loop is refused like SetPlayer/SetSystem and the
  // alias leaves the cache, so a row left behind by a failed rollback never reaches it.
  common::Status Apply(const std::string& player_id, const std::string& alias,
                       const std::optional<std::string>& command);

  // Takes every alias of `loaded` in place of this cache's (a reload from the database:
  // what was deleted meanwhile goes too).
  void ReplaceWith(AliasCache&& loaded);

  std::vector<std::pair<std::string, std::string>> ListPlayer(const std::string& player_id) const;
  std::vector<std::pair<std::string, std::string>> ListSystem() const;
  std::optional<std::string> GetPlayer(const std::string& player_id,
                                       const std::string& alias) const;

 private:
  using Table = std::map<std::string, std::string>;
  // Expansion over explicit tables (so a proposed change can be checked before it is made).
  common::Result<std::string> ExpandWith(const Table* player, const Table& system,
                                         const std::string& line) const;
  common::Status Check(const Table* player, const Table& system, const std::string& alias) const;

  IsCommand is_command_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Table> player_;  // player_id -> alias -> command
  Table system_;
};

}  // namespace holomush::core
