// The one table of player commands: what the dispatcher runs, who may run it, what `help` says.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace holomush::core {

class Game;
class CoreSession;

enum class Role { kPlayer, kBuilder, kAdmin };

using CommandHandler = void (*)(Game& game, CoreSession& session, const std::string& args);

struct CommandSpec {
  std::string_view name;       // the word typed (lower case)
  std::string_view canonical;  // metrics label and help topic: "look" for "l"
  Role role;                   // the least role that may run it
  CommandHandler handler;
  std::string_view usage;  // empty for short forms, which `help` explains under canonical
  std::string_view help;
};

// Every command, in the order of their families. Static; read-only.
const std::vector<CommandSpec>& CommandTable();
// The command typed as `word` (lower case), or nullptr.
const CommandSpec* FindCommand(std::string_view word);
// Whether a player with `role` ("player", "builder", "admin") may run a command needing
// `needed`.
bool RoleAllows(const std::string& role, Role needed);

// The handlers, one file per family (communication.cpp, movement.cpp, building.cpp,
// aliases.cpp, admin.cpp, general.cpp).
namespace commands {
void Say(Game& game, CoreSession& s, const std::string& args);
void Pose(Game& game, CoreSession& s, const std::string& args);
void SemiPose(Game& game, CoreSession& s, const std::string& args);
void Emit(Game& game, CoreSession& s, const std::string& args);
void Page(Game& game, CoreSession& s, const std::string& args);
void Wall(Game& game, CoreSession& s, const std::string& args);

void Look(Game& game, CoreSession& s, const std::string& args);
void Go(Game& game, CoreSession& s, const std::string& args);
// A line that is no command: moves when it names an exit here. Returns whether it did.
bool GoByExitName(Game& game, CoreSession& s, const std::string& typed);

void Dig(Game& game, CoreSession& s, const std::string& args);
void Link(Game& game, CoreSession& s, const std::string& args);
void Describe(Game& game, CoreSession& s, const std::string& args);

void Alias(Game& game, CoreSession& s, const std::string& args);
void Unalias(Game& game, CoreSession& s, const std::string& args);
void Aliases(Game& game, CoreSession& s, const std::string& args);
void SysAlias(Game& game, CoreSession& s, const std::string& args);
void SysUnalias(Game& game, CoreSession& s, const std::string& args);
void SysAliases(Game& game, CoreSession& s, const std::string& args);

void Boot(Game& game, CoreSession& s, const std::string& args);
void Shutdown(Game& game, CoreSession& s, const std::string& args);

void Who(Game& game, CoreSession& s, const std::string& args);
void Help(Game& game, CoreSession& s, const std::string& args);
void Quit(Game& game, CoreSession& s, const std::string& args);
}  // namespace commands

}  // namespace holomush::core
