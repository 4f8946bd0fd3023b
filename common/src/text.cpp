#include "holomush/common/text.hpp"

#include <algorithm>

#include "holomush/common/utf8.hpp"

namespace holomush::common {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool AsciiEqualIgnoringCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string FormatIdle(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

std::string WhoTable(const std::vector<WhoRow>& rows) {
  constexpr std::string_view kName = "Name";
  constexpr std::string_view kIdle = "Idle";
  size_t name_width = kName.size();
  size_t idle_width = kIdle.size();
  std::vector<std::string> idles;
  idles.reserve(rows.size());
  for (const WhoRow& row : rows) {
    name_width = std::max(name_width, CountUtf8Characters(row.name));
    idles.push_back(FormatIdle(row.idle_seconds));
    idle_width = std::max(idle_width, idles.back().size());
  }
  auto line = [&](std::string_view name, std::string_view idle) {
    std::string out(name);
    out.append(name_width - CountUtf8Characters(name) + 2, ' ');
    out.append(idle_width - idle.size(), ' ');
    out.append(idle);
    out += '\n';
    return out;
  };
  std::string out = line(kName, kIdle);
  for (size_t i = 0; i < rows.size(); ++i) out += line(rows[i].name, idles[i]);
  out += std::to_string(rows.size()) +
         (rows.size() == 1 ? " character connected." : " characters connected.");
  return out;
}

}  // namespace holomush::common
