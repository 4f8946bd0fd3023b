// Splitting a typed line into a command word and its arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holomush/common/text.hpp"

namespace holomush::core {

struct ParsedCommand {
  std::string verb;  // lower case; empty for a blank line
  std::string args;  // trimmed
};

// `"text` is say, `:text` is pose and `;text` is semipose; otherwise the first word is the
// verb. Leading and trailing whitespace is ignored.
ParsedCommand ParseCommand(std::string_view line);

// A typed line as core accepts it from any client: invalid UTF-8 repaired (U+FFFD), tabs
// made spaces, NUL and the other control characters dropped (PostgreSQL's text and jsonb
// cannot hold NUL, so one would fail the whole event batch it was written in).
std::string CleanCommandLine(std::string_view line);

// Core's spelling of the shared helpers (holomush/common/text.hpp), returning owned strings.
inline std::string Trim(std::string_view s) { return std::string(common::TrimSpace(s)); }
inline std::string Lower(std::string_view s) { return common::AsciiLower(s); }
// "name=value" split at the first '='; nullopt without one or with an empty name.
std::optional<std::pair<std::string, std::string>> SplitAssignment(std::string_view s);
// Splits "north;n;nor" into names (trimmed, empties dropped).
std::vector<std::string> SplitNames(std::string_view s);

}  // namespace holomush::core
