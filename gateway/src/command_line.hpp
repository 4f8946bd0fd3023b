// Splitting what a player typed before login into a command and its arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace holomush::gateway {

// Splits `line` at runs of spaces into at most `max_parts` words; the last word keeps the
// rest of the line (inner spaces included, outer spaces trimmed). No empty words.
std::vector<std::string> SplitWords(std::string_view line, size_t max_parts);

struct PreLoginCommand {
  enum class Verb { kEmpty, kCreate, kConnect, kPlay, kWho, kQuit, kHelp, kUnknown };
  Verb verb = Verb::kEmpty;
  std::string username;  // create, connect
  std::string password;  // create, connect: empty means "prompt for it"
  std::string name;      // play: a character name (may hold spaces)
  std::string word;      // the verb as typed (for kUnknown)
};

// `create <user> [<password>]`, `connect <user> [<password>]`, `play <name>`, `who`, `quit`,
// `help`; verbs are case-insensitive. A password is everything after the user name, so it
// may contain spaces.
PreLoginCommand ParsePreLogin(std::string_view line);

}  // namespace holomush::gateway
