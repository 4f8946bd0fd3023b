// UTF-8 repair: text from players reaches protobuf strings, JSON and other players intact.
#pragma once

#include <string>
#include <string_view>

namespace holomush::common {

// Returns `text` with each invalid UTF-8 sequence (bad lead or continuation bytes, overlong
// forms, surrogates, code points above U+10FFFF, truncated sequences) replaced by U+FFFD,
// one U+FFFD per maximal ill-formed subpart as Unicode recommends ("\xE2\x82" is one).
std::string SanitizeUtf8(std::string_view text);

}  // namespace holomush::common
