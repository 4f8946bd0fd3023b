#include "game/alias_cache.hpp"

#include <mutex>
#include <regex>
#include <set>

#include "game/command_parser.hpp"

namespace holomush::core {

bool ValidAliasName(const std::string& name) {
  static const std::regex kPattern("^[a-z0-9_.+-]{1,32}$");
  return std::regex_match(name, kPattern);
}

namespace {

using common::Error;
using common::ErrorKind;

std::pair<std::string, std::string> FirstWord(const std::string& line) {
  std::string text = Trim(line);
  auto space = text.find_first_of(" \t");
  if (space == std::string::npos) return {Lower(text), ""};
  return {Lower(text.substr(0, space)), Trim(text.substr(space + 1))};
}

}  // namespace

common::Result<std::string> AliasCache::ExpandWith(const Table* player, const Table& system,
                                                   const std::string& line) const {
  std::string current = line;
  std::set<std::string> seen;
  for (int depth = 0;; ++depth) {
    auto [word, rest] = FirstWord(current);
    if (word.empty() || is_command_(word)) return current;
    const std::string* command = nullptr;
    if (player != nullptr) {
      if (auto it = player->find(word); it != player->end()) command = &it->second;
    }
    if (command == nullptr) {
      if (auto it = system.find(word); it != system.end()) command = &it->second;
    }
    if (command == nullptr) return current;  // not an alias: the command layer says unknown
    if (!seen.insert(word).second) {
      return Error{ErrorKind::kInvalid, "Alias '" + word + "' refers back to itself."};
    }
    if (depth >= kMaxAliasDepth) {
      return Error{ErrorKind::kInvalid,
                   "Alias expansion is deeper than " + std::to_string(kMaxAliasDepth) + " levels."};
    }
    current = rest.empty() ? *command : *command + " " + rest;
  }
}

common::Result<std::string> AliasCache::Expand(const std::string& player_id,
                                               const std::string& line) const {
  std::shared_lock lock(mu_);
  auto it = player_.find(player_id);
  return ExpandWith(it == player_.end() ? nullptr : &it->second, system_, line);
}

common::Status AliasCache::Check(const Table* player, const Table& system,
                                 const std::string& alias) const {
  auto r = ExpandWith(player, system, alias);
  if (!r) {
    return Error{ErrorKind::kInvalid,
                 "Alias '" + alias + "' would loop or nest too deeply: " + r.error().message};
  }
  return common::Ok{};
}

common::Status AliasCache::SetPlayer(const std::string& player_id, const std::string& alias,
                                     const std::string& command) {
  std::unique_lock lock(mu_);
  Table proposed = player_[player_id];
  proposed[alias] = command;
  if (auto s = Check(&proposed, system_, alias); !s) return s;
  player_[player_id] = std::move(proposed);
  return common::Ok{};
}

common::Status AliasCache::SetSystem(const std::string& alias, const std::string& command) {
  std::unique_lock lock(mu_);
  Table proposed = system_;
  proposed[alias] = command;
  if (auto s = Check(nullptr, proposed, alias); !s) return s;
  system_ = std::move(proposed);
  return common::Ok{};
}

void AliasCache::RemovePlayer(const std::string& player_id, const std::string& alias) {
  std::unique_lock lock(mu_);
  if (auto it = player_.find(player_id); it != player_.end()) it->second.erase(alias);
}

void AliasCache::RemoveSystem(const std::string& alias) {
  std::unique_lock lock(mu_);
  system_.erase(alias);
}

common::Status AliasCache::Apply(const std::string& player_id, const std::string& alias,
                                 const std::optional<std::string>& command) {
  common::Status result = common::Ok{};
  if (command) {
    result = player_id.empty() ? SetSystem(alias, *command) : SetPlayer(player_id, alias, *command);
    if (result) return result;
    // The database holds a value the cache refuses: the alias leaves the cache (never an
    // older value the database no longer has).
  }
  if (player_id.empty()) {
    RemoveSystem(alias);
  } else {
    RemovePlayer(player_id, alias);
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> AliasCache::ListPlayer(
    const std::string& player_id) const {
  std::shared_lock lock(mu_);
  auto it = player_.find(player_id);
  if (it == player_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::pair<std::string, std::string>> AliasCache::ListSystem() const {
  std::shared_lock lock(mu_);
  return {system_.begin(), system_.end()};
}

std::optional<std::string> AliasCache::GetPlayer(const std::string& player_id,
                                                 const std::string& alias) const {
  std::shared_lock lock(mu_);
  auto it = player_.find(player_id);
  if (it == player_.end()) return std::nullopt;
  auto a = it->second.find(alias);
  if (a == it->second.end()) return std::nullopt;
  return a->second;
}

void AliasCache::ReplaceWith(AliasCache&& loaded) {
  std::scoped_lock lock(mu_, loaded.mu_);
  player_ = std::move(loaded.player_);
  system_ = std::move(loaded.system_);
}

}  // namespace holomush::core
