// Text hygiene shared by telnet and WebSocket: UTF-8 repair, control characters, line ends.
#pragma once

#include <string>
#include <string_view>

#include "holomush/common/utf8.hpp"

namespace holomush::gateway {

using common::SanitizeUtf8;

// ASCII lower case (commands, header names, origins).
std::string Lower(std::string_view s);

// A line as a player typed it, made safe for core: valid UTF-8, tabs as spaces, other C0
// controls and DEL removed, trailing spaces trimmed.
std::string CleanLine(std::string_view raw);

// Core's text (lines separated by \n) for a telnet terminal: CR LF line ends, IAC doubled,
// invalid UTF-8 repaired, and a final CR LF.
std::string ToTelnetText(std::string_view text);

}  // namespace holomush::gateway
