// Text hygiene shared by telnet and WebSocket: UTF-8 repair, control characters, line ends.
#pragma once

#include <string>
#include <string_view>

#include "holomush/common/text.hpp"
#include "holomush/common/utf8.hpp"

namespace holomush::gateway {

using common::SanitizeUtf8;

// ASCII lower case (commands, header names, origins): the shared helper, by its short name.
inline std::string Lower(std::string_view s) { return common::AsciiLower(s); }

// A line as a player typed it, made safe for core: valid UTF-8, tabs as spaces, other C0
// controls and DEL removed, trailing spaces trimmed.
std::string CleanLine(std::string_view raw);

// Text (lines separated by \n) for a telnet terminal: CR LF line ends, control characters
// other than tab dropped, IAC doubled, and a final CR LF. With a `wrap_width` (the client's
// NAWS width), lines longer than that are wrapped first (WrapLines). The text is valid UTF-8
// already and is not repaired again: core's comes in protobuf string fields, which gRPC
// refuses to parse when they are not (WireTextTest), and the gateway's own lines are
// constants or CleanLine's output.
std::string ToTelnetText(std::string_view text, size_t wrap_width = 0);
// The same, appended to `out` (a connection's output queue): no allocation of its own once
// the buffers have grown to the size of the text.
void AppendTelnetText(std::string& out, std::string_view text, size_t wrap_width = 0);

// The narrowest width wrapped to: a smaller NAWS report is taken as a client that does not
// know its size.
inline constexpr size_t kMinWrapWidth = 20;

// Breaks each line longer than `width` characters (code points) at the last space that
// fits; a word longer than a line is cut. Spaces at a break are dropped, a line's own
// indentation is kept. `width` below kMinWrapWidth leaves the text as it is.
std::string WrapLines(std::string_view text, size_t width);

}  // namespace holomush::gateway
