// UTF-8 repair: text from players reaches protobuf strings, JSON and other players intact.
#pragma once

#include <string>
#include <string_view>

namespace holomush::common {

// Returns `text` with each invalid UTF-8 sequence (bad lead or continuation bytes, overlong
// forms, surrogates, code points above U+10FFFF, truncated sequences) replaced by U+FFFD,
// one U+FFFD per maximal ill-formed subpart as Unicode recommends ("\xE2\x82" is one).
std::string SanitizeUtf8(std::string_view text);

// Whether `byte` starts a character of UTF-8 (is not a continuation byte).
inline bool StartsUtf8Character(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) != 0x80;
}

// The characters (code points) of valid UTF-8 text: what a terminal gives a column each.
inline size_t CountUtf8Characters(std::string_view text) {
  size_t n = 0;
  for (const char byte : text) n += StartsUtf8Character(byte) ? 1 : 0;
  return n;
}

}  // namespace holomush::common
