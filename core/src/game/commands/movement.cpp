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
  // Both rooms' presence changed now; the leave and arrive events tell other replicas.
  game.presence().Forget(me.location_id);
  game.presence().Forget(exit.to_location_id);
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

// The exit here that `typed` names (exactly, by a direction's short form, or by trigram
// similarity), if any. An exit whose name or alias is exactly what was typed wins over one
// a short form names.
Result<std::optional<Exit>> FindExit(Game& game, CoreSession& s, const std::string& typed) {
  auto here = game.world().Get(s.character().location_id);
  if (!here) return here.error();
  const auto& exits = (*here)->place.exits;
  if (auto direction = DirectionName(typed)) {
    for (const auto& text : {typed, *direction}) {
      for (const auto& c : ScoreExits(exits, text, {})) {
        if (c.exact) return std::optional<Exit>(*c.exit);
      }
    }
  }
  return RankExits(ScoreExits(exits, typed, TypoVariants(typed)),
                   game.options().exit_match_threshold);
}

}  // namespace

void Look(Game& game, CoreSession& s, const std::string& args) {
  const auto me = s.character();
  if (args.empty() || Lower(args) == "here") {
    s.Output(game.DescribeLocation(me.location_id));
    return;
  }
  auto present = game.presence().Get(me.location_id);
  if (!present) return s.Output(kUnavailable);
  for (const auto& name : **present) {
    if (Lower(name) == Lower(args)) return s.Output("You see " + name + ", here with you.");
  }
  auto here = game.world().Get(me.location_id);
  if (!here) return s.Output(kUnavailable);
  for (const auto& c : ScoreExits((*here)->place.exits, args, {})) {
    if (!c.exact) continue;
    auto to = game.world().Get(c.exit->to_location_id);
    return s.Output("The exit " + c.exit->name + " leads to " +
                    (to ? (*to)->place.location.name : "somewhere") + ".");
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
