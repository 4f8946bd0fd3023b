#include "game/commands/command_table.hpp"

#include <map>

namespace holomush::core {

const std::vector<CommandSpec>& CommandTable() {
  using namespace commands;
  using R = Role;
  static const std::vector<CommandSpec> kTable = {
      // communication.cpp
      {"say", "say", R::kPlayer, Say, "say <message>",
       "Says something to everyone here. Short form: \"<message>."},
      {"pose", "pose", R::kPlayer, Pose, "pose <action>",
       "Acts, as \"<Name> <action>\". Short forms: :<action>, and ;<action> which joins without "
       "a space."},
      {"semipose", "semipose", R::kPlayer, SemiPose, "", ""},
      {"emit", "emit", R::kBuilder, Emit, "emit <text>",
       "Shows text to everyone here, unattributed (builders, admins)."},
      {"page", "page", R::kPlayer, Page, "page <name>=<message>",
       "Sends a private message to a connected character."},
      {"wall", "wall", R::kAdmin, Wall, "wall <message>",
       "Announces to everyone connected (admins)."},
      // movement.cpp
      {"look", "look", R::kPlayer, Look, "look [target]",
       "Shows where you are, or something here. Short form: l."},
      {"l", "look", R::kPlayer, Look, "", ""},
      {"go", "go", R::kPlayer, Go, "go <exit>",
       "Moves through an exit; 'move <exit>', the bare exit name, and n, s, e, w, ne, nw, "
       "se, sw, u, d for the directions work too."},
      {"move", "go", R::kPlayer, Go, "", ""},
      // building.cpp
      {"dig", "dig", R::kBuilder, Dig, "dig <exit> to \"<Location>\" [return <exit>]",
       "Creates a location and an exit to it (builders). Exit aliases: north;n."},
      {"link", "link", R::kBuilder, Link, "link <exit> to <location>",
       "Creates an exit to an existing location (builders)."},
      {"describe", "describe", R::kBuilder, Describe, "describe here=<text>",
       "Sets this location's description (builders)."},
      // aliases.cpp
      {"alias", "alias", R::kPlayer, Alias, "alias <name>=<command>",
       "Makes a personal shortcut; the rest of the line is kept. See also unalias and aliases."},
      {"unalias", "unalias", R::kPlayer, Unalias, "unalias <name>", "Removes a personal alias."},
      {"aliases", "aliases", R::kPlayer, Aliases, "aliases", "Lists your personal aliases."},
      {"sysalias", "sysalias", R::kAdmin, SysAlias, "sysalias <name>=<command>",
       "Makes a shortcut for everyone (admins)."},
      {"sysunalias", "sysunalias", R::kAdmin, SysUnalias, "sysunalias <name>",
       "Removes a shortcut for everyone (admins)."},
      {"sysaliases", "sysaliases", R::kPlayer, SysAliases, "sysaliases",
       "Lists the shortcuts everyone has."},
      // admin.cpp
      {"boot", "boot", R::kAdmin, Boot, "boot <name>", "Disconnects a character (admins)."},
      {"shutdown", "shutdown", R::kAdmin, Shutdown, "shutdown", "Stops this game server (admins)."},
      // general.cpp
      {"who", "who", R::kPlayer, Who, "who",
       "Lists connected characters and how long they have been idle."},
      {"help", "help", R::kPlayer, Help, "help [command]", "Lists commands, or explains one."},
      {"quit", "quit", R::kPlayer, Quit, "quit", "Ends your session."},
  };
  return kTable;
}

const CommandSpec* FindCommand(std::string_view word) {
  static const auto kByName = [] {
    std::map<std::string_view, const CommandSpec*> by_name;
    for (const auto& spec : CommandTable()) by_name.emplace(spec.name, &spec);
    return by_name;
  }();
  auto it = kByName.find(word);
  return it == kByName.end() ? nullptr : it->second;
}

bool RoleAllows(const std::string& role, Role needed) {
  switch (needed) {
    case Role::kPlayer:
      return true;
    case Role::kBuilder:
      return role == "builder" || role == "admin";
    case Role::kAdmin:
      return role == "admin";
  }
  return false;
}

}  // namespace holomush::core
