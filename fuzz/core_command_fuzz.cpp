// Fuzzes what core does to a typed line before any store sees it: cleaning, parsing,
// assignments, exit-name splitting and the typo variants sent to PostgreSQL.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "game/command_parser.hpp"
#include "game/exit_match.hpp"
#include "holomush/common/utf8.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool HasControl(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holomush::core;
  const std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string line = CleanCommandLine(raw);
  // What reaches the game is valid UTF-8 without NUL or other controls (PostgreSQL-safe).
  Check(holomush::common::SanitizeUtf8(line) == line);
  Check(!HasControl(line));
  Check(CleanCommandLine(line) == line);
  const ParsedCommand cmd = ParseCommand(line);
  Check(cmd.verb.empty() == (Trim(line).empty()));
  // Arguments come trimmed, except a semipose's: ";'s hat" keeps what follows the ';'.
  if (cmd.verb != "semipose") Check(Trim(cmd.args) == cmd.args);
  if (auto parts = SplitAssignment(cmd.args)) Check(!parts->first.empty());
  for (const auto& name : SplitNames(cmd.args)) {
    Check(!name.empty() && name.find(';') == std::string::npos);
  }
  // Every typo variant is as valid as the text it came from, and there are few of them.
  const auto variants = TypoVariants(line);
  Check(!variants.empty() && variants.size() <= 65);
  for (const auto& v : variants) {
    Check(v.size() == variants.front().size());
    Check(holomush::common::SanitizeUtf8(v) == v);
  }
  return 0;
}
