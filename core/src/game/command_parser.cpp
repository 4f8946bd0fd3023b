#include "game/command_parser.hpp"

#include <algorithm>
#include <cctype>

#include "holomush/common/utf8.hpp"

namespace holomush::core {

std::string CleanCommandLine(std::string_view line) {
  std::string repaired = common::SanitizeUtf8(line);
  std::string out;
  out.reserve(repaired.size());
  for (char c : repaired) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\t') {
      out += ' ';
    } else if (byte >= 0x20 && byte != 0x7F) {
      out += c;
    }
  }
  return out;
}

ParsedCommand ParseCommand(std::string_view line) {
  const std::string text = Trim(line);
  if (text.empty()) return {};
  switch (text.front()) {
    case '"':
      return {"say", Trim(std::string_view(text).substr(1))};
    case ':':
      return {"pose", Trim(std::string_view(text).substr(1))};
    case ';':
      // Semipose keeps the text exactly as typed after the ';' (it is joined to the name).
      return {"semipose", std::string(std::string_view(text).substr(1))};
    default:
      break;
  }
  auto space = text.find_first_of(" \t");
  if (space == std::string::npos) return {Lower(text), ""};
  return {Lower(text.substr(0, space)), Trim(std::string_view(text).substr(space + 1))};
}

std::optional<std::pair<std::string, std::string>> SplitAssignment(std::string_view s) {
  auto eq = s.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string name = Trim(s.substr(0, eq));
  if (name.empty()) return std::nullopt;
  return std::make_pair(name, Trim(s.substr(eq + 1)));
}

std::vector<std::string> SplitNames(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(';', start);
    if (end == std::string_view::npos) end = s.size();
    std::string name = Trim(s.substr(start, end - start));
    if (!name.empty()) out.push_back(name);
    start = end + 1;
  }
  return out;
}

}  // namespace holomush::core
