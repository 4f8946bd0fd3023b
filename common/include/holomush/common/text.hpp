// Small text helpers every part shares: ASCII case and spaces, and the `who` list that players
// see before login (gateway) and in the game (core).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace holomush::common {

// ASCII lower case (commands, names, header fields); other bytes are kept.
std::string AsciiLower(std::string_view s);
// AsciiLower(a) == AsciiLower(b), without making either.
bool AsciiEqualIgnoringCase(std::string_view a, std::string_view b);
// `s` without leading and trailing ASCII white space.
std::string_view TrimSpace(std::string_view s);

// "12s", "5m", "3h", "2d".
std::string FormatIdle(int64_t seconds);

struct WhoRow {
  std::string name;
  int64_t idle_seconds = 0;
};
// A header, one line per row with the names padded to the longest (in characters) and the
// idle times right-aligned under "Idle", then "N characters connected." (no final newline).
std::string WhoTable(const std::vector<WhoRow>& rows);

}  // namespace holomush::common
