// Aliases: alias, unalias, aliases and their system-wide forms (SPEC §5). The database is
// written first, then the cache; when the cache refuses, the database write is undone.
#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"

namespace holomush::core::commands {
namespace {

constexpr size_t kMaxAliasCommand = 1000;

// The alias name in `name`, or a refusal already sent to the player.
std::optional<std::string> CheckName(CoreSession& s, const std::string& typed) {
  const std::string name = Lower(typed);
  if (!ValidAliasName(name)) {
    s.Output("Alias names are one word of up to 32 letters, digits or _.+-.");
    return std::nullopt;
  }
  if (Game::IsCommand(name)) {
    s.Output("'" + name + "' is a command; an alias cannot replace it.");
    return std::nullopt;
  }
  return name;
}

// The cache refused what the database now holds: put the database back as it was, and say
// so loudly if that fails too (the guide's AliasRollbackFailure).
void RollBack(Game& game, CoreSession& s, const std::string& name, const std::string& player_id,
              const common::Error& cache_error, const std::function<common::Status()>& undo) {
  if (auto rollback = undo(); !rollback) {
    // The database keeps the refused value; the cache must not keep the one it replaced.
    if (player_id.empty()) {
      game.aliases().RemoveSystem(name);
    } else {
      game.aliases().RemovePlayer(player_id, name);
    }
    common::LogFields fields{{"severity", "critical"},
                             {"alias", name},
                             {"cache_error", cache_error.message},
                             {"rollback_error", rollback.error().message}};
    if (!player_id.empty()) fields.insert(fields.begin() + 2, {"player_id", player_id});
    game.log().Error("alias rollback failed - database-cache inconsistency", fields);
    game.metrics().AliasRollbackFailed();
  }
  s.Output(cache_error.message + " Alias not set.");
}

template <typename T>
common::Status StatusOf(const Result<T>& r) {
  if (!r) return r.error();
  return common::Ok{};
}

}  // namespace

void Alias(Game& game, CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: alias <name>=<command>");
  auto name = CheckName(s, parts->first);
  if (!name) return;
  if (parts->second.size() > kMaxAliasCommand) return s.Output("That alias is too long.");
  const std::string player_id = s.player().id;
  auto& store = game.stores().aliases;
  auto previous = store.PutPlayerAlias(player_id, *name, parts->second);
  if (!previous) return s.Output(kUnavailable);
  auto cached = game.aliases().SetPlayer(player_id, *name, parts->second);
  if (cached) return s.Output("Alias '" + *name + "' set: " + parts->second);
  RollBack(game, s, *name, player_id, cached.error(), [&]() -> common::Status {
    if (*previous) return StatusOf(store.PutPlayerAlias(player_id, *name, **previous));
    return StatusOf(store.DeletePlayerAlias(player_id, *name));
  });
}

void Unalias(Game& game, CoreSession& s, const std::string& args) {
  const std::string name = Lower(Trim(args));
  if (name.empty()) return s.Output("Usage: unalias <name>");
  auto removed = game.stores().aliases.DeletePlayerAlias(s.player().id, name);
  if (!removed) return s.Output(kUnavailable);
  game.aliases().RemovePlayer(s.player().id, name);
  s.Output(*removed ? "Alias '" + name + "' removed." : "You have no alias '" + name + "'.");
}

void Aliases(Game& game, CoreSession& s, const std::string&) {
  auto list = game.aliases().ListPlayer(s.player().id);
  if (list.empty()) return s.Output("You have no aliases.");
  std::string out = "Your aliases:";
  for (const auto& [name, command] : list) out += "\n  " + name + " = " + command;
  s.Output(out);
}

void SysAlias(Game& game, CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: sysalias <name>=<command>");
  auto name = CheckName(s, parts->first);
  if (!name) return;
  auto& store = game.stores().aliases;
  auto previous = store.PutSystemAlias(*name, parts->second, s.player().id);
  if (!previous) return s.Output(kUnavailable);
  auto cached = game.aliases().SetSystem(*name, parts->second);
  if (cached) return s.Output("System alias '" + *name + "' set: " + parts->second);
  RollBack(game, s, *name, "", cached.error(), [&]() -> common::Status {
    if (*previous) return StatusOf(store.PutSystemAlias(*name, **previous, s.player().id));
    return StatusOf(store.DeleteSystemAlias(*name));
  });
}

void SysUnalias(Game& game, CoreSession& s, const std::string& args) {
  const std::string name = Lower(Trim(args));
  if (name.empty()) return s.Output("Usage: sysunalias <name>");
  auto removed = game.stores().aliases.DeleteSystemAlias(name);
  if (!removed) return s.Output(kUnavailable);
  game.aliases().RemoveSystem(name);
  s.Output(*removed ? "System alias '" + name + "' removed."
                    : "There is no system alias '" + name + "'.");
}

void SysAliases(Game& game, CoreSession& s, const std::string&) {
  auto list = game.aliases().ListSystem();
  if (list.empty()) return s.Output("There are no system aliases.");
  std::string out = "System aliases:";
  for (const auto& [name, command] : list) out += "\n  " + name + " = " + command;
  s.Output(out);
}

}  // namespace holomush::core::commands
