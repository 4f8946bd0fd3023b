// Building: dig, link, describe.
#include <regex>

#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"

namespace holomush::core::commands {

using common::ErrorKind;

void Dig(Game& game, CoreSession& s, const std::string& args) {
  static const std::regex kDig(R"re(^(.+?)\s+to\s+"([^"]+)"(?:\s+return\s+(.+))?$)re",
                               std::regex::icase);
  std::smatch m;
  if (!std::regex_match(args, m, kDig)) {
    return s.Output("Usage: dig <exit> to \"<Location>\" [return <exit>]");
  }
  auto names = SplitNames(m[1].str());
  auto return_names = SplitNames(m[3].str());
  const std::string location = Trim(m[2].str());
  if (names.empty() || location.empty() || location.size() > 200) {
    return s.Output("Usage: dig <exit> to \"<Location>\" [return <exit>]");
  }
  const std::string here = s.character().location_id;
  auto loc = game.stores().world.Dig(here, names, location, return_names);
  // Every replica hears of the change by NOTIFY; this one forgets at once, so the builder's
  // next look already shows it.
  game.world().Forget(here);
  if (!loc) {
    if (loc.error().kind == ErrorKind::kConflict) {
      return s.Output("There is already an exit called that here.");
    }
    return s.Output(kUnavailable);
  }
  std::string out = "Dug \"" + loc->name + "\" through " + names[0] + ".";
  if (!return_names.empty()) out += " Return exit: " + return_names[0] + ".";
  s.Output(out);
}

void Link(Game& game, CoreSession& s, const std::string& args) {
  static const std::regex kLink(R"(^(.+?)\s+to\s+(.+)$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(args, m, kLink)) return s.Output("Usage: link <exit> to <location>");
  auto names = SplitNames(m[1].str());
  std::string target = Trim(m[2].str());
  if (target.size() >= 2 && target.front() == '"' && target.back() == '"') {
    target = target.substr(1, target.size() - 2);
  }
  if (names.empty() || target.empty()) return s.Output("Usage: link <exit> to <location>");
  const std::string here = s.character().location_id;
  auto loc = game.stores().world.Link(here, names, target);
  game.world().Forget(here);
  if (!loc) {
    if (loc.error().kind == ErrorKind::kNotFound) {
      return s.Output("There is no location called '" + target + "'.");
    }
    if (loc.error().kind == ErrorKind::kConflict) {
      return s.Output("There is already an exit called that here.");
    }
    return s.Output(kUnavailable);
  }
  s.Output("Linked " + names[0] + " to " + loc->name + ".");
}

void Describe(Game& game, CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || Lower(parts->first) != "here") return s.Output("Usage: describe here=<text>");
  if (parts->second.size() > kMaxMessage) return s.Output("That description is too long.");
  const std::string here = s.character().location_id;
  const auto described = game.stores().world.Describe(here, parts->second);
  game.world().Forget(here);
  if (!described) return s.Output(kUnavailable);
  s.Output("Description set.");
}

}  // namespace holomush::core::commands
