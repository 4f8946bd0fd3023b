// Communication: say, pose, emit, page, wall.
#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"

namespace holomush::core::commands {

using common::ErrorKind;

void Say(Game& game, CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Say what?");
  if (args.size() > kMaxMessage) return s.Output("That is too long to say at once.");
  game.Append(s, LocationStream(s.character().location_id), "say", {{"message", args}});
}

void Pose(Game& game, CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Pose what?");
  if (args.size() > kMaxMessage) return s.Output("That pose is too long.");
  game.Append(s, LocationStream(s.character().location_id), "pose", {{"action", args}});
}

void SemiPose(Game& game, CoreSession& s, const std::string& args) {
  if (Trim(args).empty()) return s.Output("Pose what?");
  if (args.size() > kMaxMessage) return s.Output("That pose is too long.");
  game.Append(s, LocationStream(s.character().location_id), "pose",
              {{"action", args}, {"nospace", true}});
}

void Emit(Game& game, CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Emit what?");
  if (args.size() > kMaxMessage) return s.Output("That is too long to emit.");
  game.Append(s, LocationStream(s.character().location_id), "emit", {{"text", args}});
}

void Page(Game& game, CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: page <name>=<message>");
  if (parts->second.size() > kMaxMessage) return s.Output("That page is too long.");
  auto target = game.stores().world.FindCharacter(parts->first);
  if (!target) {
    if (target.error().kind == ErrorKind::kNotFound) {
      return s.Output("There is no character called '" + parts->first + "'.");
    }
    return s.Output(kUnavailable);
  }
  auto live = game.stores().sessions.SessionsOf(target->id);
  if (!live) return s.Output(kUnavailable);
  if (live->empty()) return s.Output(target->name + " is not connected.");
  game.Append(s, CharacterStream(target->id), "page",
              {{"message", parts->second}, {"to", target->name}});
  s.Output("You page " + target->name + ": " + parts->second);
}

void Wall(Game& game, CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Wall what?");
  game.Append(s, kSystemStream, "system", {{"text", args}});
}

}  // namespace holomush::core::commands
