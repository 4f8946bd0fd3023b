#include "command_line.hpp"

#include <algorithm>
#include <cctype>

#include "text.hpp"

namespace holomush::gateway {

std::vector<std::string> SplitWords(std::string_view line, size_t max_parts) {
  std::vector<std::string> words;
  if (max_parts == 0) return words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    if (words.size() + 1 == max_parts) {
      size_t end = line.size();
      while (end > i && line[end - 1] == ' ') --end;
      words.emplace_back(line.substr(i, end - i));
      break;
    }
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

PreLoginCommand ParsePreLogin(std::string_view line) {
  PreLoginCommand cmd;
  const auto head = SplitWords(line, 2);
  if (head.empty()) return cmd;
  cmd.word = head[0];
  const std::string verb = Lower(head[0]);
  const std::string rest = head.size() > 1 ? head[1] : std::string();
  using Verb = PreLoginCommand::Verb;
  if (verb == "create" || verb == "connect") {
    cmd.verb = verb == "create" ? Verb::kCreate : Verb::kConnect;
    const auto args = SplitWords(rest, 2);
    if (!args.empty()) cmd.username = args[0];
    if (args.size() > 1) cmd.password = args[1];
  } else if (verb == "play") {
    cmd.verb = Verb::kPlay;
    cmd.name = rest;
  } else if (verb == "who") {
    cmd.verb = Verb::kWho;
  } else if (verb == "quit" || verb == "logout") {
    cmd.verb = Verb::kQuit;
  } else if (verb == "help") {
    cmd.verb = Verb::kHelp;
  } else {
    cmd.verb = Verb::kUnknown;
  }
  return cmd;
}

}  // namespace holomush::gateway
