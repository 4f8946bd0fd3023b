#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace holomush::gateway {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string CleanLine(std::string_view raw) {
  std::string kept;
  kept.reserve(raw.size());
  for (const char ch : raw) {
    const auto b = static_cast<uint8_t>(ch);
    if (b == '\t') {
      kept.push_back(' ');
    } else if (b >= 0x20 && b != 0x7F) {
      kept.push_back(ch);
    }
  }
  std::string out = SanitizeUtf8(kept);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string ToTelnetText(std::string_view text) {
  const std::string valid = SanitizeUtf8(text);
  std::string out;
  out.reserve(valid.size() + 16);
  for (const char ch : valid) {
    const auto b = static_cast<uint8_t>(ch);
    if (b == '\n') {
      out += "\r\n";
    } else if (b == '\t' || b >= 0x20) {
      // 0xFF never occurs in valid UTF-8, so there is no IAC left to double here.
      if (b != 0x7F) out.push_back(ch);
    }
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

}  // namespace holomush::gateway
