// Every player's basics: who, help, quit.
#include <algorithm>

#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"
#include "holomush/common/text.hpp"

namespace holomush::core::commands {

void Who(Game& game, CoreSession& s, const std::string&) {
  auto rows = game.Who();
  if (!rows) return s.Output(kUnavailable);
  std::vector<common::WhoRow> table;
  table.reserve(rows->size());
  for (const auto& r : *rows) table.push_back({r.name, r.idle_seconds});
  s.Output(common::WhoTable(table));
}

// Reads the command table: every command with a usage line is a topic; a short form
// ("l", "move") explains its canonical command.
void Help(Game&, CoreSession& s, const std::string& args) {
  if (!args.empty()) {
    const CommandSpec* spec = FindCommand(Lower(args));
    if (spec != nullptr && spec->usage.empty()) spec = FindCommand(spec->canonical);
    if (spec == nullptr || spec->usage.empty()) {
      return s.Output("No help on '" + args + "'. Try 'help'.");
    }
    return s.Output(std::string(spec->usage) + "\n  " + std::string(spec->help));
  }
  std::vector<std::string_view> usages;
  for (const auto& spec : CommandTable()) {
    if (!spec.usage.empty()) usages.push_back(spec.usage);
  }
  std::sort(usages.begin(), usages.end());
  std::string out = "Commands:\n";
  for (auto usage : usages) out += "  " + std::string(usage) + "\n";
  out += "'help <command>' explains one.";
  s.Output(out);
}

void Quit(Game& game, CoreSession& s, const std::string&) {
  game.sessions().End(s, "Goodbye.", true);
}

}  // namespace holomush::core::commands
