// Movement and looking: look, go, and the bare exit name.
#include <map>

#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/exit_match.hpp"
#include "game/game.hpp"

namespace holomush::core::commands {
namespace {

// Moves the character through `exit`: leave and arrive events, then the new room.
void MoveThrough(Game& game, CoreSession& s, const Exit& exit) {
  const auto me = s.character();
  if (auto moved = game.stores().world.MoveCharacter(me.id, exit.to_location_id); !moved) {
    return s.Output(kUnavailable);
  }
  game.Append(s, LocationStream(me.location_id), "leave", {{"exit", exit.name}});
  s.SetLocation(exit.to_location_id);
  game.Append(s, LocationStream(exit.to_location_id), "arrive", {{"exit", exit.name}});
  s.Output(game.DescribeLocation(exit.to_location_id));
}

// The MUD conventions: "n" reaches an exit called north even without that alias.
std::optional<std::string> DirectionName(const std::string& typed) {
  static const std::map<std::string, std::string> kDirections = {
      {"n", "north"},      {"s", "south"},      {"e", "east"},       {"w", "west"},
      {"ne", "northeast"}, {"nw", "northwest"}, {"se", "southeast"}, {"sw", "southwest"},
      {"u", "up"},         {"d", "down"}};
  auto it = kDirections.find(Lower(Trim(typed)));
  if (it == kDirections.end()) return std::nullopt;
  return it->second;
}

// The exit here that `typed` names (exactly, by a direction's short form, or by pg_trgm
// similarity), if any. An exit whose name or alias is exactly what was typed wins over one
// a short form names.
Result<std::optional<Exit>> FindExit(Game& game, CoreSession& s, const std::string& typed) {
  if (auto direction = DirectionName(typed)) {
    auto& world = game.stores().world;
    auto exact = world.ExitCandidates(s.character().location_id, typed, {Lower(typed)});
    if (!exact) return exact.error();
    for (const auto& c : *exact) {
      if (c.exact) return std::optional<Exit>(c.exit);
    }
    auto named = world.ExitCandidates(s.character().location_id, *direction, {*direction});
    if (!named) return named.error();
    for (const auto& c : *named) {
      if (c.exact) return std::optional<Exit>(c.exit);
    }
  }
  auto candidates =
      game.stores().world.ExitCandidates(s.character().location_id, typed, TypoVariants(typed));
  if (!candidates) return candidates.error();
  return RankExits(*candidates, game.options().exit_match_threshold);
}

}  // namespace

void Look(Game& game, CoreSession& s, const std::string& args) {
  const auto me = s.character();
  if (args.empty() || Lower(args) == "here") {
    s.Output(game.DescribeLocation(me.location_id));
    return;
  }
  auto& world = game.stores().world;
  auto present = world.PresentAt(me.location_id);
  if (!present) return s.Output(kUnavailable);
  for (const auto& name : *present) {
    if (Lower(name) == Lower(args)) return s.Output("You see " + name + ", here with you.");
  }
  auto exits = world.ExitsFrom(me.location_id);
  if (!exits) return s.Output(kUnavailable);
  for (const auto& e : *exits) {
    bool match = Lower(e.name) == Lower(args);
    for (const auto& a : e.aliases) match = match || Lower(a) == Lower(args);
    if (match) {
      auto to = world.GetLocation(e.to_location_id);
      return s.Output("The exit " + e.name + " leads to " + (to ? to->name : "somewhere") + ".");
    }
  }
  s.Output("You don't see '" + args + "' here.");
}

void Go(Game& game, CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Go where?");
  auto exit = FindExit(game, s, args);
  if (!exit) return s.Output(kUnavailable);
  if (!*exit) return s.Output("You can't go '" + args + "' from here.");
  MoveThrough(game, s, **exit);
}

bool GoByExitName(Game& game, CoreSession& s, const std::string& typed) {
  auto exit = FindExit(game, s, typed);
  if (!exit) {
    s.Output(kUnavailable);
    return true;
  }
  if (!*exit) return false;
  game.metrics().Command("go");
  MoveThrough(game, s, **exit);
  return true;
}

}  // namespace holomush::core::commands
