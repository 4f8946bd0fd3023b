#include "holomush/loadgen/token.hpp"

#include <charconv>

namespace holomush::loadgen {
namespace {

constexpr std::string_view kMarker = "lgtok ";

template <typename T>
bool ReadNumber(std::string_view& s, T& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(ptr - s.data()));
  return true;
}

bool Space(std::string_view& s) {
  if (s.empty() || s.front() != ' ') return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::string FormatToken(const Token& token, std::string_view filler) {
  const char kind = token.kind == TokenKind::kSay    ? 's'
                    : token.kind == TokenKind::kPose ? 'p'
                                                     : 'g';
  std::string out(kMarker);
  out += kind;
  out += ' ' + std::to_string(token.id) + ' ' + std::to_string(token.sender) + ' ' +
         std::to_string(token.due_ns);
  if (!filler.empty()) {
    out += ' ';
    out += filler;
  }
  return out;
}

std::optional<Token> FindToken(std::string_view line) {
  const size_t at = line.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view s = line.substr(at + kMarker.size());
  if (s.size() < 2) return std::nullopt;
  Token t;
  switch (s[0]) {
    case 's':
      t.kind = TokenKind::kSay;
      break;
    case 'p':
      t.kind = TokenKind::kPose;
      break;
    case 'g':
      t.kind = TokenKind::kPage;
      break;
    default:
      return std::nullopt;
  }
  s.remove_prefix(1);
  if (!Space(s) || !ReadNumber(s, t.id) || !Space(s) || !ReadNumber(s, t.sender) || !Space(s) ||
      !ReadNumber(s, t.due_ns)) {
    return std::nullopt;
  }
  // The token ends at a space, a closing quote or the end of the line.
  if (!s.empty() && s.front() != ' ' && s.front() != '"' && s.front() != '\'') return std::nullopt;
  return t;
}

}  // namespace holomush::loadgen
