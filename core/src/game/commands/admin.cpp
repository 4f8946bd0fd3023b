// Administration: boot, shutdown (wall is in communication.cpp).
#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"

namespace holomush::core::commands {

void Boot(Game& game, CoreSession& s, const std::string& args) {
  auto target = game.stores().world.FindCharacter(Trim(args));
  if (!target) return s.Output("There is no character called '" + Trim(args) + "'.");
  auto live = game.stores().sessions.SessionsOf(target->id);
  if (!live) return s.Output(kUnavailable);
  if (live->empty()) return s.Output(target->name + " is not connected.");
  // Whichever core process holds the target's session hears this and ends it.
  game.Append(s, CharacterStream(target->id), "boot", nlohmann::json::object());
  s.Output("You booted " + target->name + ".");
}

void Shutdown(Game& game, CoreSession& s, const std::string&) {
  game.log().Warn("shutdown requested by admin", {{"player_id", s.player().id}});
  game.Append(s, kSystemStream, "system", {{"text", "The game is shutting down."}});
  s.Output("Shutting down.");
  game.RequestShutdown();
}

}  // namespace holomush::core::commands
